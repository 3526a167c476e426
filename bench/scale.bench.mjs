// Months of use (issue 12): one store of 1M events of the realistic mix (event-mix.mjs:
// sessions changing state, tasks flowing, notes, broadcasts, four machines), served by
// this build and by the baseline build (BENCH_BASELINE_REF, lib.mjs) side by side in one
// run, each daemon on its own copy of the same file, requests taking turns:
//   every parameterless GET route of the API, p50 and p99   target ≤ 20 ms (p50)
//   /api/v1/live first frame, ms and bytes                   target ≤ 1 MB within 200 ms
//   POST /api/v1/tasks, 32 concurrent clients                target ≥ 5000/s
//   `clare task add --json` beside `node -e 0`                target ≤ 2.0×
//   daemon RSS (after a forced GC), DB and WAL size
//   rebuild of the store (child process: time, peak RSS)     target ≤ 10 s, ≤ 300 MB at 1M
//   catch-up of a fresh peer (A added to a running B) beside a raw batch insert of the
//   same events in the same run                              target ≥ 0.7× raw, ≥ 40k ev/s
// BENCH_SCALE shrinks the store (0.1: 100k events); BENCH_REPEATS (default 15) requests per
// route per build; BENCH_ROUNDS (default 3) rounds of writes, CLI runs, rebuilds and catch-ups.
// Run: npm run bench -- scale   (or node --expose-gc bench/run.mjs scale after a build)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { BASELINE_REF, baselineDist, fmt, http, load, median, pct, rawInsert, ROOT, SCALE, settledRss, startDaemon, waitUntil } from './lib.mjs';
import { cachedSeedStore } from './seed-store.mjs';

// --- child mode: rebuild one file with one build, report time and peak RSS ---------
if (process.argv[2] === '--rebuild-child') {
  const [dist, file] = process.argv.slice(3);
  const { openDb } = await import(pathToFileURL(path.join(dist, 'core/db.js')).href);
  const { rebuild } = await import(pathToFileURL(path.join(dist, 'core/rebuild.js')).href);
  const db = openDb(file);
  const t0 = performance.now();
  const stats = rebuild(db);
  const ms = performance.now() - t0;
  db.close();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  console.log(JSON.stringify({ ms, events: stats.events, peakMB: hwm === null ? NaN : Number(hwm[1]) / 1024 }));
  process.exit(0);
}

const N_EVENTS = Math.max(10_000, Math.round(1_000_000 * SCALE));
const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WRITES = Math.max(200, Math.round(2000 * Math.min(1, SCALE * 4)));
const GC_PRELOAD = path.join(ROOT, 'bench/gc-on-signal.mjs');
const SELF = new URL(import.meta.url).pathname;
/** GET routes not measured: the document itself, and what needs parameters or streams. */
const SKIP = new Set(['/api/v1/openapi.json', '/api/v1/sync/ws', '/api/v1/live', '/api/v1/sync/check']);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clare-bench-scale-'));
const progress = (s) => process.stderr.write(`  … ${s}\n`);
const dbFile = (d) => path.join(d.dir, 'd/clare/clare.db');
const mb = (bytes) => bytes / 2 ** 20;
const fileMB = (f) => (existsSync(f) ? mb(statSync(f).size) : 0);

function firstFrame(d) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}/api/v1/live`, { maxPayload: 512 * 1024 * 1024 });
    ws.once('message', (data) => {
      resolve({ ms: performance.now() - t0, bytes: data.length });
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** The parameterless GET routes a daemon's OpenAPI document lists. */
async function getRoutes(d) {
  const doc = JSON.parse((await http(`${d.url}/api/v1/openapi.json`)).body);
  return Object.entries(doc.paths).filter(([p, ops]) => ops.get !== undefined && !p.includes('{')).map(([p]) => p).filter((p) => !SKIP.has(p));
}

/** A copy of `src` for one daemon or child, so no run sees another's writes. */
function copyOf(src, name) {
  const f = path.join(tmp, `${name}.db`);
  copyFileSync(src, f);
  return f;
}

/** Every event of a store, as the wire carries it, for the raw insert baseline. */
function readEvents(file) {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT id, hlc, origin, type, v, payload FROM events ORDER BY hlc').all();
  } finally {
    db.close();
  }
}

/** Fresh daemon B of `build` catches up from A (POST /api/v1/peers): events/s from the POST until B holds all A holds. */
async function catchUp(build, A) {
  const B = await startDaemon(`scale-${build.label}-fresh`, { cli: build.cli });
  try {
    const aDb = new Database(dbFile(A), { readonly: true });
    const want = aDb.prepare('SELECT coalesce(sum(count), 0) FROM watermarks').pluck().get();
    aDb.close();
    const t0 = performance.now();
    const r = await http(`${B.url}/api/v1/peers`, 'POST', { url: A.url });
    if (r.status !== 201) throw new Error(`POST /peers → ${r.status} ${r.body}`);
    const bDb = new Database(dbFile(B), { readonly: true });
    const q = bDb.prepare('SELECT coalesce(sum(count), 0) FROM watermarks').pluck();
    try {
      // B's own machine.named counts too: B holds all of A's when it holds at least as many more.
      const done = await waitUntil(`${build.label} catch-up`, () => (q.get() >= want ? performance.now() : undefined), { timeoutMs: 900_000, intervalMs: 50 });
      return (want * 1000) / (done - t0);
    } finally {
      bDb.close();
    }
  } finally {
    await B.stop();
  }
}

function timeCommand(args, env) {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return performance.now() - t;
}

try {
  const base = baselineDist(tmp, progress);
  const store = path.join(tmp, 'store.db');
  progress(`seeding ${N_EVENTS} events (${base === null ? 'this build' : 'baseline schema'})`);
  const seed = await cachedSeedStore(store, N_EVENTS, base === null ? {} : { dist: base });
  console.log(`store: ${N_EVENTS.toLocaleString('en-US')} events of the mix, ${seed.tasks.toLocaleString('en-US')} tasks, ${fileMB(store).toFixed(0)} MB, seeded in ${(seed.ms / 1000).toFixed(1)} s`);

  const builds = [{ label: 'new', dist: path.join(ROOT, 'dist') }];
  if (base !== null) builds.unshift({ label: 'baseline', dist: base });
  for (const b of builds) b.cli = path.join(b.dist, 'cli/clare.js');

  // ---- daemons on copies of the store, both up, requests taking turns -----------------
  for (const b of builds) {
    progress(`${b.label}: starting a daemon on a copy of the store`);
    b.d = await startDaemon(`scale-${b.label}`, { cli: b.cli, db: store, nodeArgs: ['--expose-gc', '--import', GC_PRELOAD], startTimeoutMs: 900_000 });
    b.startMs = b.d.readyAt - b.d.spawnedAt;
    b.routes = new Set(await getRoutes(b.d));
    b.lat = new Map();
    b.frames = [];
    b.writes = [];
    b.cliAdd = [];
    b.rebuild = [];
    b.catchup = [];
  }
  const routes = [...new Set(builds.flatMap((b) => [...b.routes]))].sort();
  progress(`GET routes: ${routes.join(' ')}`);
  for (let i = 0; i < REPEATS; i++) {
    for (const p of routes) {
      for (const b of builds) {
        if (!b.routes.has(p)) continue;
        const t0 = performance.now();
        const r = await http(`${b.d.url}${p}`);
        const ms = performance.now() - t0;
        if (r.status !== 200) throw new Error(`${b.label} GET ${p} → ${r.status} ${r.body.slice(0, 200)}`);
        if (!b.lat.has(p)) b.lat.set(p, { ms: [], bytes: r.body.length });
        b.lat.get(p).ms.push(ms);
      }
    }
    for (const b of builds) b.frames.push(await firstFrame(b.d));
  }

  progress('RSS, then writes and CLI start-up, rounds taking turns');
  for (const b of builds) b.rss = await settledRss(b.d);
  for (const b of builds) {
    if (spawnSync(process.execPath, [b.cli, 'project', 'add', 'scale-bench'], { env: b.d.env }).status !== 0) throw new Error('project add failed');
  }
  const bare = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const b of builds) {
      const w = await load(WRITES, 32, (i) => http(`${b.d.url}/api/v1/tasks`, 'POST', { project: 'scale-bench', title: `bench ${r}.${i}`, priority: i % 5 }));
      b.writes.push(w.perSec);
    }
    for (let k = 0; k < 5; k++) {
      bare.push(timeCommand(['-e', '0'], process.env));
      for (const b of builds) b.cliAdd.push(timeCommand([b.cli, 'task', 'add', 'scale-bench', `cli ${r}.${k}`, '--json'], b.d.env));
    }
  }
  for (const b of builds) {
    b.dbMB = fileMB(dbFile(b.d));
    b.walMB = fileMB(`${dbFile(b.d)}-wal`);
  }

  // ---- catch-up of a fresh peer, beside a raw insert of the same rows -----------------
  progress('catch-up: reading the events for the raw insert');
  const rows = readEvents(store);
  const raw = [];
  for (let r = 0; r < ROUNDS; r++) {
    progress(`round ${r + 1}/${ROUNDS}: raw insert, then a fresh peer of each build catching up`);
    raw.push(rawInsert(tmp, rows));
    for (const b of builds) b.catchup.push(await catchUp(b, b.d));
  }
  for (const b of builds) await b.d.stop();

  // ---- rebuild, each build on its own copy, in a child process ------------------------
  for (let r = 0; r < ROUNDS; r++) {
    for (const b of builds) {
      progress(`round ${r + 1}/${ROUNDS}: rebuild with ${b.label}`);
      const f = copyOf(store, `rebuild-${b.label}`);
      // The new build migrates the baseline's schema first (openDb), outside the timed rebuild.
      const c = spawnSync(process.execPath, [SELF, '--rebuild-child', b.dist, f], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (c.status !== 0) throw new Error(`rebuild child (${b.label}) failed: ${c.stderr}`);
      b.rebuild.push(JSON.parse(c.stdout.trim().split('\n').at(-1)));
      for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });
    }
  }

  // ---- the table -------------------------------------------------------------------
  const [B, N] = builds.length === 2 ? builds : [null, builds[0]];
  const cell = (b, f) => (b === null ? '-' : f(b));
  const ratio = (x, y) => (B === null || !Number.isFinite(x) || !Number.isFinite(y) ? '' : `${fmt(x / y, 2)}×`);
  const out = [];
  const row = (what, fb, target, r = '') => out.push([what, cell(B, fb), fb(N), r, target]);
  const lat = (b, p, q) => (b.lat.has(p) ? pct(b.lat.get(p).ms, q) : NaN);
  row('daemon start on the store (incl. migration)', (b) => `${fmt(b.startMs, 0)} ms`, '');
  for (const p of routes) {
    row(`GET ${p} p50 / p99`, (b) => (b.lat.has(p) ? `${fmt(lat(b, p, 50))} / ${fmt(lat(b, p, 99))} ms` : 'no route'), '≤ 20 ms', ratio(B && lat(B, p, 50), lat(N, p, 50)));
    row('  response size', (b) => (b.lat.has(p) ? `${(b.lat.get(p).bytes / 1024).toFixed(1)} kB` : '-'), '');
  }
  const frameMs = (b) => median(b.frames.map((f) => f.ms));
  const frameBytes = (b) => median(b.frames.map((f) => f.bytes));
  row('live first frame', (b) => `${fmt(frameMs(b))} ms, ${(mb(frameBytes(b))).toFixed(2)} MB`, '≤ 200 ms, ≤ 1 MB', ratio(B && frameMs(B), frameMs(N)));
  row('daemon RSS after GC', (b) => `${fmt(b.rss, 0)} MB`, '');
  row(`POST /api/v1/tasks, 32 concurrent (${WRITES} × ${ROUNDS} rounds)`, (b) => `${fmt(median(b.writes), 0)}/s [${b.writes.map((x) => fmt(x, 0)).join(' ')}]`, '≥ 5000/s', ratio(median(N.writes), B && median(B.writes)));
  const mBare = median(bare);
  row(`clare task add --json (node -e 0: ${fmt(mBare)} ms)`, (b) => `${fmt(median(b.cliAdd))} ms = ${fmt(median(b.cliAdd) / mBare, 2)}× node`, '≤ 2.0× node');
  row('DB / WAL size after the writes', (b) => `${fmt(b.dbMB, 0)} / ${fmt(b.walMB, 0)} MB`, '');
  const mRaw = median(raw);
  row(`catch-up of a fresh peer (raw insert: ${fmt(mRaw / 1000, 1)}k ev/s)`, (b) => `${fmt(median(b.catchup) / 1000, 1)}k ev/s = ${fmt(median(b.catchup) / mRaw, 2)}× raw`, '≥ 40k ev/s, ≥ 0.7× raw', ratio(median(N.catchup), B && median(B.catchup)));
  row(`rebuild of ${N_EVENTS.toLocaleString('en-US')} events`, (b) => `${fmt(median(b.rebuild.map((x) => x.ms)) / 1000, 2)} s, peak ${fmt(median(b.rebuild.map((x) => x.peakMB)), 0)} MB`, '≤ 10 s, ≤ 300 MB (1M)',
    ratio(B && median(B.rebuild.map((x) => x.ms)), median(N.rebuild.map((x) => x.ms))));
  const baseName = B === null ? '(skipped)' : process.env.BENCH_BASELINE_DIST ?? BASELINE_REF;
  const header = ['measure', `baseline ${baseName}`, 'new', 'gain', 'target'];
  const w = header.map((h, i) => Math.max(h.length, ...out.map((r) => String(r[i]).length)));
  console.log(`\n${header.map((h, i) => h.padEnd(w[i])).join('  ')}`);
  for (const r of out) console.log(r.map((c, i) => String(c).padEnd(w[i])).join('  '));
  console.log(`\nmedians; GET rows of ${REPEATS} requests per route and build, the builds taking turns; rounds: ${ROUNDS}.`);
  console.log(`(${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version})`);
} finally {
  if (process.env.BENCH_KEEP === '1') console.log(`kept ${tmp}`);
  else if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
}
