// A large store on disk, fast: `n` events of the realistic mix (event-mix.mjs)
// written straight into `events` (10k per transaction), watermarks set to match,
// then the projections built by `rebuild` — the same rows ingest would have made,
// in a fraction of the time. Not a benchmark itself (run.mjs runs *.bench.mjs).
//
//   node bench/seed-store.mjs FILE N [DIST]   # DIST: which build's openDb/rebuild (default ../dist)
//
// Imported: `seedStore(file, n, { dist })` returns { ms, tasks, events }.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Every file under `dir`, sorted, for a content hash. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true }).map(String).sort().map((f) => path.join(dir, f)).filter((f) => statSync(f).isFile());
}

/**
 * The cache key of a seeded store: the generator (this file and event-mix.mjs), the
 * seeding build's core (its schema and rebuild make the projections), `n` and `seed`.
 */
export function seedKey(n, dist, seed) {
  const h = createHash('sha256');
  for (const f of [path.join(import.meta.dirname, 'event-mix.mjs'), import.meta.filename, ...filesUnder(path.join(dist, 'core'))]) h.update(f.slice(f.lastIndexOf('core'))).update(readFileSync(f));
  return `${n}-${seed}-${h.digest('hex').slice(0, 16)}`;
}

/**
 * `seedStore`, but the store is kept in a cache dir (BENCH_CACHE_DIR, default
 * /tmp/clare-bench-cache; BENCH_CACHE=0 turns it off) keyed by `seedKey` and copied to
 * `file`: a 1M-event store takes a minute to several on a loaded machine, and every
 * run of the same generator and build makes the same bytes. Returns seedStore's
 * figures (of the run that made it) and `cached`.
 */
export async function cachedSeedStore(file, n, { dist = DEFAULT_DIST, seed = 12 } = {}) {
  if (process.env.BENCH_CACHE === '0') return { ...(await seedStore(file, n, { dist, seed })), cached: false };
  const dir = process.env.BENCH_CACHE_DIR ?? path.join(tmpdir(), 'clare-bench-cache');
  mkdirSync(dir, { recursive: true });
  const key = seedKey(n, path.resolve(dist), seed);
  const store = path.join(dir, `${key}.db`);
  const meta = `${store}.json`;
  if (!existsSync(meta)) {
    const part = `${store}.part`;
    const r = await seedStore(part, n, { dist, seed });
    renameSync(part, store);
    // Written last: a store without it is a seeding that did not finish.
    writeFileSync(meta, JSON.stringify(r));
  }
  copyFileSync(store, file);
  return { ...JSON.parse(readFileSync(meta, 'utf8')), cached: true };
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
