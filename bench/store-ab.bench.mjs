// This build's store against another build's, in one process, rounds interleaved
// (A, B, A, B, …) so that a shared, noisy machine loads both alike: local append (one
// event per transaction), remote ingest (batches of 1000, the realistic mix, wire-fresh
// objects) and re-ingest of held batches (the duplicate path, where identity checks run).
// Each round uses a fresh SQLite file per build. Medians over the rounds, and B/A.
//
// Run: `BENCH_BASELINE_DIST=/path/to/other/dist npm run bench -- store-ab` (without it, only
// this build is measured). BENCH_SCALE scales the event counts; BENCH_REPEATS the rounds (5).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { eventMix } from './event-mix.mjs';
import { fmt, median, printTable } from './lib.mjs';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ROUNDS = Number(process.env.BENCH_REPEATS ?? 5);
const N_APPEND = Math.max(500, Math.round(5000 * SCALE));
const N_INGEST = Math.max(2000, Math.round(50_000 * SCALE / 1000) * 1000);
const RECEIVER = '0000000c-0000-4000-8000-000000000000';

async function load(dist) {
  const imp = (m) => import(pathToFileURL(path.join(dist, m)).href);
  const [{ openDb }, { HybridClock }, { append, ingest }] = await Promise.all([imp('core/db.js'), imp('core/hlc.js'), imp('core/store.js')]);
  return { openDb, HybridClock, append, ingest };
}

const builds = [{ label: 'this build', lib: await load(path.resolve(import.meta.dirname, '../dist')) }];
if (process.env.BENCH_BASELINE_DIST) builds.push({ label: 'baseline', lib: await load(path.resolve(process.env.BENCH_BASELINE_DIST)) });

const next = eventMix({ seed: 3, origins: 3 });
const wire = [];
for (let i = 0; i < N_INGEST; i += 1000) wire.push(JSON.stringify(Array.from({ length: Math.min(1000, N_INGEST - i) }, next)));
const local = eventMix({ seed: 4, origins: 1 });
const drafts = Array.from({ length: N_APPEND }, () => {
  const e = local();
  return { type: e.type, payload: e.payload };
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'clare-store-ab-'));
const figures = builds.map(() => ({ append: [], ingest: [], reingest: [] }));
const rate = (n, ms) => (n * 1000) / ms;
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < builds.length; k++) {
      const { openDb, HybridClock, append, ingest } = builds[k].lib;
      const f = figures[k];
      globalThis.gc?.();
      let db = openDb(path.join(dir, `append-${k}-${round}.db`));
      let clock = new HybridClock({ machine: RECEIVER });
      let t0 = performance.now();
      for (const d of drafts) append(db, clock, d);
      f.append.push(rate(N_APPEND, performance.now() - t0));
      db.close();

      db = openDb(path.join(dir, `ingest-${k}-${round}.db`));
      clock = new HybridClock({ machine: RECEIVER });
      const batches = wire.map((w) => JSON.parse(w));
      globalThis.gc?.();
      t0 = performance.now();
      for (const b of batches) ingest(db, clock, b);
      f.ingest.push(rate(N_INGEST, performance.now() - t0));
      const again = wire.slice(0, Math.max(1, wire.length / 4)).map((w) => JSON.parse(w));
      t0 = performance.now();
      for (const b of again) ingest(db, clock, b);
      f.reingest.push(rate(again.length * 1000, performance.now() - t0));
      db.close();
    }
    process.stderr.write(`  … round ${round + 1}/${ROUNDS}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const row = (what, key) => {
  const m = figures.map((f) => median(f[key]));
  return [what, ...m.map((x, k) => `${fmt(x, 0)}/s [${figures[k][key].map((v) => fmt(v / 1000, 1)).join(', ')}k]`), builds.length > 1 ? `${fmt((m[0] / m[1]) * 100, 0)}%` : ''];
};
printTable(`store, interleaved rounds (${ROUNDS}), append N=${N_APPEND}, ingest N=${N_INGEST}; medians [per round]`,
  ['what', ...builds.map((b) => b.label), builds.length > 1 ? 'this / baseline' : ''],
  [row('append, 1 event/transaction', 'append'), row('ingest, batches of 1000', 'ingest'), row('re-ingest of held batches (duplicates)', 'reingest')]);
console.log(`\nload average at end: ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}`);
