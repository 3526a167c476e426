// Issue 12 benchmark: start-up of the verbs agents run on every step, as whole
// processes, beside `node -e 0` in the same run (interleaved, so machine noise hits
// all alike). With BENCH_BASELINE_DIST=<a built dist/> the same verbs of that build
// run beside them (e.g. the bundle before the split: cp -r dist /tmp/before).
// Run: npm run bench -- cli   (BENCH_REPEATS, default 15).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { CLI, fmt, median, printTable, startDaemon, timeNode } from './lib.mjs';

const repeats = Number(process.env.BENCH_REPEATS ?? '15');
const baseline = process.env.BENCH_BASELINE_DIST === undefined ? null : join(resolve(process.env.BENCH_BASELINE_DIST), 'cli/clare.js');

const d = await startDaemon('cli');
try {
  const env = { ...d.env, CLARE_SESSION: '' };
  spawnSync(process.execPath, [CLI, 'project', 'add', 'bench'], { env });
  spawnSync(process.execPath, [CLI, 'task', 'add', 'bench', 'seed'], { env });
  const verbs = [
    ['task add --json', (i) => ['task', 'add', 'bench', `cli task ${i}`, '--json']],
    ['next --json', () => ['next', '--json']],
    ['task start --json', (i) => ['task', 'start', `cli task ${i}`, '--json']],
    ['task done --json', (i) => ['task', 'done', `cli task ${i}`, '--json']],
    ['update --json', (i) => ['update', `note ${i}`, '--json']],
    ['task list (yargs path)', () => ['task', 'list', '-n', '5']],
  ];
  const builds = [['now', CLI], ...(baseline === null ? [] : [['baseline', baseline]])];
  const bare = [];
  const t = new Map();
  for (let i = 0; i < repeats; i++) {
    bare.push(timeNode(['-e', '0'], env));
    for (const [b, cli] of builds) {
      // Each build adds, starts and finishes its own task, so every verb succeeds.
      for (const [name, argv] of verbs) {
        const k = `${b}\t${name}`;
        t.set(k, [...(t.get(k) ?? []), timeNode([cli, ...argv(`${b}-${i}`)], env)]);
      }
    }
  }
  const mb = median(bare);
  const rows = [['node -e 0', fmt(mb), '1.00', ...(baseline === null ? [] : ['', ''])]];
  for (const [name] of verbs) {
    const now = median(t.get(`now\t${name}`));
    const row = [`clare ${name}`, fmt(now), fmt(now / mb, 2)];
    if (baseline !== null) {
      const was = median(t.get(`baseline\t${name}`));
      row.push(fmt(was), fmt(was / mb, 2));
    }
    rows.push(row);
  }
  printTable(`CLI start-up, whole process, median of ${repeats} (target for the hot verbs ≤ 2.0× node -e 0)`,
    ['command', 'median ms', 'ratio', ...(baseline === null ? [] : ['baseline ms', 'baseline ratio'])], rows);
} finally {
  await d.stop();
}
