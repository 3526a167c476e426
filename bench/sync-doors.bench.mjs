// The sync doors of a real daemon, with a baseline build measured beside it in the same
// run when BENCH_BASELINE_CLI points at one (e.g. the previous release's dist/cli/clare.js;
// `node test/fixtures/previous-release/build-release.mjs` builds it and prints its dir):
//   1. memory under out-of-order batches: S hostile sync sockets each send a hello, then
//      batches seq 2…17 (seq 1 never comes) of ~3 MB each, and close after a while. The
//      daemon's RSS (VmRSS, /proc) before, at its peak, 3 s and 15 s after the sockets closed;
//      and how each socket was answered (error code, close code).
//   2. GET /api/v1/sync/state at N events (preloaded with POST /api/v1/sync/events, the
//      realistic event mix): median of 10 calls, and of 3 with ?projections=1 (this build
//      only: the baseline's plain call already computes the projection digest).
// Run: `npm run bench -- sync-doors` (BENCH_SCALE=0.2 → N = 20k). Targets (issues 9 and 12):
// RSS bounded and given back; /sync/state ≤ 20 ms at any size.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { eventMix } from './event-mix.mjs';
import { fmt, http, median, printTable, SCALE, startDaemon, waitUntil } from './lib.mjs';

const N = Math.max(1000, Math.round(100_000 * SCALE));
const SOCKETS = 4;
const BATCH_BYTES = 3 * 1024 * 1024;
const builds = [{ label: 'this build', cli: undefined }];
if (process.env.BENCH_BASELINE_CLI) builds.push({ label: 'baseline', cli: process.env.BENCH_BASELINE_CLI });

const log = (m) => console.log(`  … ${m}`);
const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const uuid = (n) => `0000${n.toString(16).padStart(4, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** One hostile socket: hello, then 16 early batches of ~3 MB; resolves with how it ended. */
function attack(url, k) {
  return new Promise((resolve) => {
    const me = uuid(0xa000 + k);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/sync/ws`, { maxPayload: 64 * 1024 * 1024 });
    let error = null;
    const timer = setTimeout(() => ws.close(1000), 8000);
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString('utf8'));
      if (f.type === 'error') error = f.code;
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, error });
    });
    ws.on('error', () => undefined);
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'hello', versions: [1], machine_id: me, name: `attacker-${k}`, now_ms: Date.now(), watermarks: {}, counts: {}, links: [] }));
      const blob = 'x'.repeat(60_000);
      for (let seq = 2; seq <= 17; seq++) {
        const events = [];
        let bytes = 0;
        for (let i = 0; bytes < BATCH_BYTES; i++) {
          const ms = Date.now() - 600_000 + seq * 1000 + i;
          events.push(`{"id":"${uuid(seq * 1000 + i)}","hlc":"${String(ms).padStart(15, '0')}:00000:${me}","origin":"${me}","type":"robot.arrived","v":1,"payload":{"blob":"${blob}"}}`);
          bytes += 60_200;
        }
        ws.send(`{"type":"batch","seq":${seq},"base":{"${me}":null},"events":[${events.join(',')}]}`);
      }
    });
  });
}

async function memory(build) {
  const d = await startDaemon(`mem-${build.label.replace(/\W/g, '')}`, build.cli ? { cli: build.cli } : {});
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssMb(d.pid);
    let peak = before;
    const poll = setInterval(() => { peak = Math.max(peak, rssMb(d.pid)); }, 25);
    const ends = await Promise.all(Array.from({ length: SOCKETS }, (_, k) => attack(d.url, k)));
    await new Promise((r) => setTimeout(r, 3000));
    clearInterval(poll);
    const after = rssMb(d.pid);
    // V8 gives memory back to the system after idle collections, not at once.
    await new Promise((r) => setTimeout(r, 12_000));
    return { before, peak, after, idle: rssMb(d.pid), ends };
  } finally {
    await d.stop();
  }
}

async function state(build) {
  const d = await startDaemon(`state-${build.label.replace(/\W/g, '')}`, build.cli ? { cli: build.cli } : {});
  try {
    const next = eventMix({ seed: 7 });
    for (let i = 0; i < N; i += 2000) {
      const events = Array.from({ length: Math.min(2000, N - i) }, () => next());
      const r = await http(`${d.url}/api/v1/sync/events`, 'POST', { events });
      if (r.status !== 200) throw new Error(`preload: ${r.status} ${r.body.slice(0, 200)}`);
    }
    await waitUntil('the preload', async () => (JSON.parse((await http(`${d.url}/api/v1/status`)).body).counts.events >= N ? true : undefined));
    const time = async (path, n) => {
      const ms = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const r = await http(`${d.url}${path}`);
        if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
        ms.push(performance.now() - t0);
      }
      return median(ms);
    };
    const plain = await time('/api/v1/sync/state', 10);
    const full = build.cli === undefined ? await time('/api/v1/sync/state?projections=1', 3) : NaN;
    return { plain, full };
  } finally {
    await d.stop();
  }
}

const mem = [];
const st = [];
for (const b of builds) {
  log(`${b.label}: ${SOCKETS} sockets × 16 early batches of ~3 MB`);
  mem.push({ b, r: await memory(b) });
  log(`${b.label}: GET /sync/state at ${N} events`);
  st.push({ b, r: await state(b) });
}

printTable(`1. Daemon memory under ${SOCKETS} sockets sending 16 out-of-order ~3 MB batches each (VmRSS, MB)`,
  ['build', 'before', 'peak', '3 s after close', '15 s after', 'sockets answered'],
  mem.map(({ b, r }) => [b.label, fmt(r.before, 0), fmt(r.peak, 0), fmt(r.after, 0), fmt(r.idle, 0), r.ends.map((e) => `${e.error ?? '-'}/${e.code}`).join(' ')]));
printTable(`2. GET /api/v1/sync/state at ${N.toLocaleString('en-US')} events (median ms)`,
  ['build', 'plain', '?projections=1', 'target'],
  st.map(({ b, r }) => [b.label, fmt(r.plain, 1), Number.isNaN(r.full) ? '(plain is the projection digest)' : fmt(r.full, 0), '≤ 20 ms at 1M']));
console.log(`\nload average at end: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
