// Core event store on a real SQLite file (WAL, synchronous=NORMAL, as openDb sets
// it), each figure beside a raw better-sqlite3 baseline measured in the same run on
// the same rows:
//   1. local append, one event per transaction        vs raw insert, one row per transaction
//   2. remote ingest, batches of 1000, projections    vs raw INSERT OR IGNORE, 1000 per transaction
//   3. rebuild of 1M events: time and peak RSS (in a child process, so only the rebuild counts)
//   4. eventsAfter paging, limit 1000                 vs raw SELECT … ORDER BY hlc + JSON.parse
// Targets (issue): ingest ≥ 50% of raw; rebuild of 1M ≤ 15 s and ≤ 300 MB.
// BENCH_SCALE=0.1 shrinks every N for a quick run. BENCH_KEEP=1 keeps the temp dir.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openDb } from '../dist/core/db.js';
import { HybridClock } from '../dist/core/hlc.js';
import { rebuild } from '../dist/core/rebuild.js';
import { append, eventsAfter, eventsSince, ingest, validateBatch } from '../dist/core/store.js';
import { eventMix } from './event-mix.mjs';
import { writeEvents } from './seed-store.mjs';

const SELF = fileURLToPath(import.meta.url);
const RECEIVER = '0000000c-0000-4000-8000-000000000000';

/** Peak resident set of this process, MB: the kernel's high-water mark, and libuv's maxRSS. */
function peakRss() {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return { vmHwmMB: hwm === null ? null : Number(hwm[1]) / 1024, maxRssMB: process.resourceUsage().maxRSS / 1024 };
}

// --- child mode: rebuild one file and report -----------------------------------
if (process.argv[2] === '--rebuild-child') {
  const db = openDb(process.argv[3]);
  const before = peakRss();
  const t0 = performance.now();
  const stats = rebuild(db);
  const ms = performance.now() - t0;
  db.close();
  process.stdout.write(JSON.stringify({ ms, stats, before, after: peakRss() }));
  process.exit(0);
}

// --- parent --------------------------------------------------------------------
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const n = (base) => Math.max(1000, Math.round((base * SCALE) / 1000) * 1000);
const N_APPEND = n(20_000);
const N_INGEST = n(200_000);
const N_REBUILD = n(1_000_000);
const BATCH = 1000;

const dir = mkdtempSync(path.join(os.tmpdir(), 'clare-bench-'));
const file = (name) => path.join(dir, `${name}.db`);
const gc = () => globalThis.gc?.();
const rows = [];
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));

/** Runs f once, with a GC before, and returns elapsed ms. */
function timed(f) {
  gc();
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

/** A bare events table with the store's columns and indexes, pragmas as openDb sets them. */
function rawDb(name) {
  const db = new Database(file(name));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, hlc TEXT NOT NULL UNIQUE, origin TEXT NOT NULL,
    type TEXT NOT NULL, v INTEGER NOT NULL, payload TEXT NOT NULL);
    CREATE INDEX events_origin_hlc ON events (origin, hlc);`);
  return db;
}
const RAW_INSERT = 'INSERT OR IGNORE INTO events (id, hlc, origin, type, v, payload) VALUES (?, ?, ?, ?, ?, ?)';

function row(what, count, ms, raw, target = '') {
  const rate = (count * 1000) / ms;
  const rawRate = raw === undefined ? undefined : (raw.count * 1000) / raw.ms;
  rows.push({ what, count, secs: ms / 1000, rate, rawRate, ratio: rawRate === undefined ? undefined : rate / rawRate, target });
}

function printTable() {
  const head = ['measure', 'N', 'time s', 'events/s', 'raw/s', 'ratio', 'target'];
  const body = rows.map((r) => [r.what, r.count.toLocaleString('en-US'), r.secs.toFixed(2), fmt(r.rate),
    r.rawRate === undefined ? '' : fmt(r.rawRate), r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)}%`, r.target]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 || i === 6 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const b of body) console.log(line(b));
}

const progress = (s) => process.stderr.write(`  … ${s}\n`);

// 1. Local append, one event per transaction ------------------------------------
{
  progress(`append ${N_APPEND}`);
  const next = eventMix({ seed: 1, origins: 1 });
  const drafts = Array.from({ length: N_APPEND }, () => {
    const e = next();
    return { type: e.type, payload: e.payload };
  });
  const db = openDb(file('append'));
  const clock = new HybridClock({ machine: RECEIVER });
  const written = [];
  const ms = timed(() => {
    for (const d of drafts) written.push(append(db, clock, d).events[0]);
  });
  db.close();
  const raw = rawDb('append-raw');
  const ins = raw.prepare(RAW_INSERT);
  const one = raw.transaction((e) => ins.run(e.id, e.hlc, e.origin, e.type, e.v, JSON.stringify(e.payload)));
  const rawMs = timed(() => {
    for (const e of written) one(e);
  });
  raw.close();
  row('append, 1 event/transaction', N_APPEND, ms, { count: N_APPEND, ms: rawMs });
}

// 2. Remote ingest, batches of 1000 with projections ------------------------------
let ingestFile;
{
  progress(`ingest ${N_INGEST}`);
  const next = eventMix({ seed: 2, origins: 3 });
  // As they come off the wire: fresh objects parsed from JSON, one array per batch.
  const batches = [];
  for (let i = 0; i < N_INGEST; i += BATCH) batches.push(JSON.parse(JSON.stringify(Array.from({ length: Math.min(BATCH, N_INGEST - i) }, next))));

  const raw = rawDb('ingest-raw');
  const ins = raw.prepare(RAW_INSERT);
  const many = raw.transaction((b) => {
    for (const e of b) ins.run(e.id, e.hlc, e.origin, e.type, e.v, JSON.stringify(e.payload));
  });
  const rawMs = timed(() => {
    for (const b of batches) many(b);
  });
  raw.close();

  const validateMs = timed(() => {
    const clock = new HybridClock({ machine: RECEIVER });
    for (const b of batches) validateBatch(clock, b);
  });

  ingestFile = file('ingest');
  const db = openDb(ingestFile);
  const clock = new HybridClock({ machine: RECEIVER });
  const ms = timed(() => {
    for (const b of batches) ingest(db, clock, b);
  });
  const dupMs = timed(() => {
    for (const b of batches.slice(0, Math.ceil(batches.length / 4))) ingest(db, clock, b);
  });
  db.close();
  const rawCmp = { count: N_INGEST, ms: rawMs };
  row('ingest, batches of 1000, projections', N_INGEST, ms, rawCmp, '≥ 50%');
  row('  of which: validateBatch alone', N_INGEST, validateMs, rawCmp);
  row('  re-ingest of held events (dedup)', Math.ceil(batches.length / 4) * BATCH, dupMs, rawCmp);
}

// 4. eventsAfter read rate, on the ingest store ----------------------------------------
{
  progress('eventsAfter');
  const db = openDb(ingestFile);
  let pagedAfter = 0;
  const ms = timed(() => {
    const wm = {};
    for (;;) {
      const page = eventsAfter(db, wm, 1000);
      if (page.length === 0) break;
      pagedAfter += page.length;
      for (const e of page) wm[e.origin] = e.hlc;
    }
  });
  let pagedSince = 0;
  const sinceMs = timed(() => {
    let since = null;
    for (;;) {
      const page = eventsSince(db, since, 1000);
      if (page.length === 0) break;
      pagedSince += page.length;
      since = page[page.length - 1].hlc;
    }
  });
  let scanned = 0;
  const rawMs = timed(() => {
    for (const r of db.prepare('SELECT seq, id, hlc, origin, type, v, payload FROM events ORDER BY hlc').iterate()) {
      r.payload = JSON.parse(r.payload);
      scanned++;
    }
  });
  db.close();
  if (pagedAfter !== N_INGEST || pagedSince !== N_INGEST || scanned !== N_INGEST) throw new Error(`paged ${pagedAfter}/${pagedSince}/${scanned} of ${N_INGEST}`);
  row('eventsAfter, pages of 1000', N_INGEST, ms, { count: N_INGEST, ms: rawMs });
  row('eventsSince, pages of 1000', N_INGEST, sinceMs, { count: N_INGEST, ms: rawMs });
}

// 3. Rebuild of 1M events ----------------------------------------------------------
let rebuildReport;
{
  progress(`writing ${N_REBUILD} events for rebuild`);
  const f = file('rebuild');
  const db = openDb(f);
  const genMs = timed(() => writeEvents(db, N_REBUILD, { seed: 3, origins: 4 }));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();

  progress(`rebuild ${N_REBUILD} (child process)`);
  const child = spawnSync(process.execPath, ['--expose-gc', SELF, '--rebuild-child', f], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`rebuild child failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout);
  if (r.stats.events !== N_REBUILD || r.stats.skipped !== 0) throw new Error(`rebuild saw ${JSON.stringify(r.stats)}`);

  const scan = openDb(f, { readonly: true });
  let scanned = 0;
  const scanMs = timed(() => {
    for (const x of scan.prepare('SELECT id, hlc, origin, type, v, payload FROM events ORDER BY hlc').iterate()) {
      x.payload = JSON.parse(x.payload);
      scanned++;
    }
  });
  scan.close();
  row(`rebuild of ${(N_REBUILD / 1e6).toFixed(N_REBUILD < 1e6 ? 1 : 0)}M events`, N_REBUILD, r.ms, { count: scanned, ms: scanMs }, '≤ 15 s (at 1M)');
  row('  (generating them: raw insert, 10k/txn)', N_REBUILD, genMs);
  rebuildReport = { r, dbMB: statSync(f).size / 2 ** 20 };
}

console.log('');
printTable();
const { r, dbMB } = rebuildReport;
console.log('');
console.log(`raw/s: same rows, same run — append: bare table, 1 row/txn; ingest: bare table, INSERT OR IGNORE 1000/txn;`);
console.log(`       eventsAfter/Since and rebuild: SELECT … ORDER BY hlc + JSON.parse of every row.`);
console.log(`rebuild peak RSS (child process): VmHWM ${r.after.vmHwmMB?.toFixed(0)} MB, maxRSS ${r.after.maxRssMB.toFixed(0)} MB` +
  ` (after openDb, before rebuild: ${r.before.vmHwmMB?.toFixed(0)} MB) — target ≤ 300 MB; db file ${dbMB.toFixed(0)} MB`);

if (process.env.BENCH_KEEP === '1') console.log(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
