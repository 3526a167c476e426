// A large store on disk, fast: `n` events of the realistic mix (event-mix.mjs)
// written straight into `events` (10k per transaction), watermarks set to match,
// then the projections built by `rebuild` — the same rows ingest would have made,
// in a fraction of the time. Not a benchmark itself (run.mjs runs *.bench.mjs).
//
//   node bench/seed-store.mjs FILE N [DIST]   # DIST: which build's openDb/rebuild (default ../dist)
//
// Imported: `seedStore(file, n, { dist })` returns { ms, tasks, events }.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { eventMix } from './event-mix.mjs';

const DEFAULT_DIST = path.resolve(import.meta.dirname, '../dist');

/**
 * Writes `n` events of the mix straight into `events` of an open store (10k per
 * transaction) and sets the watermarks to match; projections are left to rebuild.
 */
export function writeEvents(db, n, { seed = 12, origins = 4 } = {}) {
  const next = eventMix({ seed, origins });
  const ins = db.prepare('INSERT INTO events (id, hlc, origin, type, v, payload) VALUES (?, ?, ?, ?, ?, ?)');
  const top = new Map();
  const write = db.transaction((k) => {
    for (let i = 0; i < k; i++) {
      const e = next();
      ins.run(e.id, e.hlc, e.origin, e.type, e.v, JSON.stringify(e.payload));
      const t = top.get(e.origin);
      top.set(e.origin, { hlc: e.hlc, count: (t?.count ?? 0) + 1 });
    }
  });
  for (let i = 0; i < n; i += 10_000) write(Math.min(10_000, n - i));
  const wm = db.prepare('INSERT INTO watermarks (origin, hlc, count) VALUES (?, ?, ?)');
  for (const [origin, t] of top) wm.run(origin, t.hlc, t.count);
}

/** Writes `n` events into a fresh store at `file` with the build in `dist`, and rebuilds its projections. */
export async function seedStore(file, n, { dist = DEFAULT_DIST, seed = 12 } = {}) {
  const { openDb } = await import(pathToFileURL(path.join(dist, 'core/db.js')).href);
  const { rebuild } = await import(pathToFileURL(path.join(dist, 'core/rebuild.js')).href);
  const t0 = performance.now();
  const db = openDb(file);
  try {
    writeEvents(db, n, { seed });
    rebuild(db);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const tasks = db.prepare('SELECT count(*) FROM tasks WHERE created = 1').pluck().get();
    return { ms: performance.now() - t0, tasks, events: n };
  } finally {
    db.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, n, dist] = process.argv.slice(2);
  if (file === undefined || n === undefined) {
    console.error('usage: node bench/seed-store.mjs FILE N [DIST]');
    process.exit(2);
  }
  const r = await seedStore(path.resolve(file), Number(n), dist === undefined ? {} : { dist: path.resolve(dist) });
  console.log(JSON.stringify(r));
}
