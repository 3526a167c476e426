// Issue 3 benchmark: CLI start-up latency beside bare node, API write throughput
// (concurrent POST /tasks) and read throughput of GET /tasks with 10k tasks.
// Run: npm run bench -- api   (or node bench/api.bench.mjs); BENCH_SCALE=0.1 for a quick run.
import { spawnSync } from 'node:child_process';
import { CLI, fmt, http, load, median, pct, printTable, scaled, startDaemon, timeNode } from './lib.mjs';

const d = await startDaemon('bench');
try {
  const env = { ...d.env };
  spawnSync(process.execPath, [CLI, 'project', 'add', 'bench'], { env });
  // CLI latency, interleaved so machine noise hits all three alike.
  const runs = scaled(20);
  const bare = [], add = [], next = [];
  for (let i = 0; i < runs; i++) {
    bare.push(timeNode(['-e', '0'], env));
    add.push(timeNode([CLI, 'task', 'add', 'bench', `cli task ${i}`, '--json'], env));
    next.push(timeNode([CLI, 'next', '--json'], env));
  }
  const mb = median(bare);
  printTable(`CLI latency, whole process, median of ${runs} (target ≤ 2.5× node -e 0)`, ['command', 'median ms', 'ratio'], [
    ['node -e 0', fmt(mb), '1.00'],
    ['clare task add --json', fmt(median(add)), fmt(median(add) / mb, 2)],
    ['clare next --json', fmt(median(next)), fmt(median(next) / mb, 2)],
  ]);

  // Writes: concurrent task creation through the API.
  const writes = scaled(5000);
  const w = await load(writes, 32, (i) => http(`${d.url}/api/v1/tasks`, 'POST', { project: 'bench', title: `task ${i}`, priority: i % 5 }));
  // Fill up to 10k tasks for the read test.
  const have = JSON.parse((await http(`${d.url}/api/v1/status`)).body).counts.tasks.open;
  const fill = Math.max(0, scaled(10_000) - have);
  if (fill > 0) await load(fill, 32, (i) => http(`${d.url}/api/v1/tasks`, 'POST', { project: 'bench', title: `fill ${i}` }));
  const count = JSON.parse((await http(`${d.url}/api/v1/status`)).body).counts.tasks.open;
  const reads = scaled(100);
  const r = await load(reads, 4, () => http(`${d.url}/api/v1/tasks`));
  printTable('API throughput (one daemon, loopback, keep-alive)', ['what', 'requests', 'concurrency', 'req/s', 'p50 ms', 'p99 ms'], [
    ['POST /api/v1/tasks (target ≥ 5000/s)', writes, 32, fmt(w.perSec, 0), fmt(pct(w.latencies, 50)), fmt(pct(w.latencies, 99))],
    [`GET /api/v1/tasks (${count} tasks)`, reads, 4, fmt(r.perSec, 1), fmt(pct(r.latencies, 50)), fmt(pct(r.latencies, 99))],
  ]);
} finally {
  await d.stop();
}
