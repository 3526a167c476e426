// Replication between real daemons (`dist/cli/clare.js serve`, temp XDG dirs, loopback),
// with PouchDB → PouchDB over HTTP measured beside it in the same run:
//   1. catch-up of N = 100k events from daemon A into a fresh daemon B over the gossip
//      socket (B started with A as its peer; and A added as a peer of a running B), and
//      `clare sync` (POST /api/v1/sync/run) — beside the raw better-sqlite3 batch insert of
//      the same rows (bare `events` table of schema migration 1, 1000 rows/transaction).
//   2. live propagation of one write (POST /api/v1/updates on A) to a connected peer, seen
//      on that peer's live WebSocket /api/v1/live: one hop (A–B, both holding the 100k
//      events), and three hops in a line of fresh daemons A–B–C–D (A → D).
//   3. a five-peer full mesh, every peer writing at once: duplicates received / received.
//   4. PouchDB: a PouchDB HTTP server process (express-pouchdb, leveldown) holding N docs of
//      the same rows, replicated into a fresh pouchdb-node DB by a second process (docs/s),
//      and continuous replication's propagation of one new doc (p50/p99).
// Targets (issue): catch-up ≥ 30,000 events/s and ≥ 70% of raw; one hop p50 ≤ 3 ms and
// p99 ≤ 10 ms; three hops p99 ≤ 30 ms; mesh duplicates ≤ 50% of events received.
//
// Run: `npm run bench -- replication`, or `node bench/replication.bench.mjs` after
// `npm run build`. BENCH_SCALE=0.1 shrinks N and the write counts; BENCH_REPEATS (default 3)
// sets how often each catch-up and each round of live writes is repeated (medians are
// reported, per-repeat figures beside them). BENCH_KEEP=1 keeps the temp dir. PouchDB needs the
// devDependencies pouchdb-node and express-pouchdb; without them its rows are skipped.
//
// Instruments (chosen so that measuring does not load the daemon measured):
// - catch-up progress is read from B's SQLite file (read-only, `SELECT origin, count FROM
//   watermarks`, every 20 ms), the cheapest probe there is. Convergence is checked after the
//   clock stops: equal event-set digests and equal projection digests on A and B
//   (GET /api/v1/sync/state?projections=1; without the query the route answers from the
//   maintained per-origin digests and costs O(origins) — both timings are printed).
// - live arrival is the `change` frame for the update on the peer's /api/v1/live socket
//   (falls back to polling GET /api/v1/updates?limit=1 in a loop if that route is missing).
//   The figure runs from just before the POST on A is sent to the frame's arrival here.
import { execFileSync, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, http, median, pct, printTable, ROOT, SCALE, scaled, startDaemon, waitUntil } from './lib.mjs';
import { prng } from './event-mix.mjs';

const SELF = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);

// ==== child modes (PouchDB processes) =================================================

/** `--pouch-server DIR`: an express-pouchdb HTTP server on a free loopback port; tells the parent its port. */
async function pouchServer(dir) {
  const PouchDB = require('pouchdb-node');
  const P = PouchDB.defaults({ prefix: `${dir}/` });
  const app = require('express-pouchdb')(P, { mode: 'minimumForPouchDB', inMemoryConfig: true, logPath: path.join(dir, 'log.txt') });
  const server = app.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
}

/**
 * `--pouch-replicate REMOTE DIR once|live`: replicates REMOTE into the pouchdb-node DB in DIR.
 * once: one-shot replication, reports {ms, docs}. live: continuous replication; reports
 * 'ready' when caught up, then the id of every doc that lands locally.
 */
async function pouchReplicate(remoteUrl, dir, how) {
  const PouchDB = require('pouchdb-node');
  const local = new PouchDB(path.join(dir, 'local'));
  const remote = new PouchDB(remoteUrl);
  if (how === 'once') {
    const t0 = performance.now();
    const r = await PouchDB.replicate(remote, local);
    const ms = performance.now() - t0;
    const info = await local.info();
    process.send({ type: 'done', ms, docs: info.doc_count, written: r.docs_written }, () => process.exit(0));
    return;
  }
  local.changes({ since: 'now', live: true }).on('change', (c) => process.send({ type: 'change', id: c.id }));
  let ready = false;
  const rep = PouchDB.replicate(remote, local, { live: true, retry: true });
  rep.on('paused', () => {
    if (!ready) {
      ready = true;
      process.send({ type: 'ready' });
    }
  });
  rep.on('error', (e) => process.send({ type: 'error', message: String(e) }));
  process.on('disconnect', () => process.exit(0));
}


// ==== helpers ===========================================================================

const WORDS = ['fix', 'write', 'review', 'ship', 'profile', 'refactor', 'login', 'sync', 'docs', 'ranking', 'deploy', 'cache',
  'the', 'flaky', 'test', 'for', 'gossip', 'daemon', 'dashboard', 'migration', 'index', 'budget', 'agent', 'session',
  'handler', 'timeout', 'retry', 'schema', 'release', 'benchmark', 'and', 'with', 'after', 'before', 'endpoint', 'backfill'];
const HOSTS = ['desk', 'build', 'laptop', 'gpu-box'];
const SESSIONS = ['api', 'web', 'ops', 'docs', 'infra', 'ml', 'cli', 'ui'];
const STATUSES = ['open', 'in_progress', 'blocked', 'done'];

/**
 * `n` valid wire events from `origins` machines, each origin's in HLC order, as a fleet
 * makes them: per 100, ~22 task.created, 22 task.updated, 18 task.status_changed, 24
 * update.posted, 3+3 assignment created/delivered, 6.5 session.changed, 1.5 dependencies,
 * 0.5 project.created; payloads ~280 B of JSON. HLCs from one HybridClock per machine on a
 * simulated wall clock that ends an hour ago (never ahead of the receivers' clocks).
 */
function generateEvents(HybridClock, uuidv7, n, { seed = 7, origins = 3 } = {}) {
  const rnd = prng(seed);
  const int = (k) => Math.floor(rnd() * k);
  const pick = (xs) => xs[int(xs.length)];
  const words = (lo, hi) => Array.from({ length: lo + int(hi - lo + 1) }, () => pick(WORDS)).join(' ');
  let t = Date.now() - 3_600_000 - n * 1.5;
  const machines = Array.from({ length: origins }, () => {
    const machine = randomUUID();
    return { machine, clock: new HybridClock({ machine, now: () => Math.floor(t) }) };
  });
  const projects = [];
  const tasks = [];
  const assignments = [];
  const recentTask = () => tasks[Math.max(0, tasks.length - 1 - int(Math.min(tasks.length, 2000)))];
  const session = () => `${pick(SESSIONS)}-${int(5)}`;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    t += int(3);
    const o = machines[int(machines.length)];
    const hlc = o.clock.tick();
    const ms = Math.floor(t);
    const r = rnd() * 100;
    let type;
    let v = 1;
    let payload;
    if (projects.length === 0 || r < 0.5) {
      const id = uuidv7(ms);
      projects.push({ id });
      type = 'project.created';
      payload = { project_id: id, name: `${pick(WORDS)} ${projects.length}`, path: null, description: words(5, 20), weight: 1 };
    } else if (tasks.length < 10 || r < 22) {
      const id = uuidv7(ms);
      const deps = tasks.length > 0 && rnd() < 0.15 ? [recentTask().id] : [];
      tasks.push({ id, hlc });
      type = 'task.created';
      v = 2;
      payload = { task_id: id, project_id: pick(projects).id, title: words(4, 9), description: words(12, 42), priority: int(5), depends_on: deps };
    } else if (r < 44) {
      const task = recentTask();
      const f = int(3);
      type = 'task.updated';
      payload = { task_id: task.id, base: rnd() < 0.03 ? null : task.hlc, fields: f === 0 ? { title: words(4, 9) } : f === 1 ? { priority: int(5) } : { description: words(12, 46) } };
      task.hlc = hlc;
    } else if (r < 62) {
      const task = recentTask();
      type = 'task.status_changed';
      payload = { task_id: task.id, base: rnd() < 0.03 ? null : task.hlc, status: pick(STATUSES), ...(rnd() < 0.6 ? { note: words(8, 28) } : {}) };
      task.hlc = hlc;
    } else if (r < 86) {
      type = 'update.posted';
      payload = { update_id: uuidv7(ms), text: words(16, 58), task_id: rnd() < 0.8 ? recentTask().id : null, host: pick(HOSTS), session: session() };
    } else if (r < 89) {
      const id = uuidv7(ms);
      assignments.push(id);
      type = 'assignment.created';
      payload = { assignment_id: id, task_id: recentTask().id, host: pick(HOSTS), session: session() };
    } else if (r < 92 && assignments.length > 0) {
      type = 'assignment.delivered';
      payload = { assignment_id: assignments[Math.max(0, assignments.length - 1 - int(30))] };
    } else if (r < 98.5) {
      type = 'session.changed';
      payload = { host: pick(HOSTS), session: session(), fields: { state: pick(['working', 'waiting', 'idle']), last_activity: new Date(ms).toISOString() } };
    } else {
      const a = recentTask();
      const b = recentTask();
      type = 'task.dependency_added';
      payload = { task_id: a.id, depends_on: a.id === b.id ? tasks[0].id : b.id };
    }
    out[i] = { id: uuidv7(ms), hlc, origin: o.machine, type, v, payload };
  }
  return out;
}

const log = (s) => process.stderr.write(`  … ${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const kfmt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : String(x));
const pctStr = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : String(x));

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** Per-round summaries → medians of the rounds' p50 and p99, the largest max, all rounds kept. */
function combine(rounds) {
  return {
    n: rounds.reduce((a, r) => a + r.n, 0), p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)),
    max: Math.max(...rounds.map((r) => r.max)), rounds,
  };
}

async function getJson(url) {
  const r = await http(url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body);
}

async function postJson(url, body, expect = [200, 201]) {
  const r = await http(url, 'POST', body);
  if (!expect.includes(r.status)) throw new Error(`POST ${url}: ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body);
}

// ==== main ==============================================================================

async function main() {
  if (!existsSync(path.join(ROOT, 'dist/cli/clare.js'))) {
    console.error('dist/ is missing: build first (`npm run build`; `npm run bench` does it)');
    process.exit(2);
  }
  const { HybridClock } = await import('../dist/core/hlc.js');
  const { uuidv7 } = await import('../dist/core/ids.js');
  const Database = (await import('better-sqlite3')).default;
  const { WebSocket } = await import('ws');

  const N = scaled(100_000);
  const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));
  const LIVE_WRITES = Math.max(50, scaled(300));
  const LIVE_WARMUP = 20;
  const MESH_WRITES = Math.max(20, scaled(200));
  const PRELOAD_BATCH = 2000;
  const CATCHUP_TIMEOUT = Math.max(60_000, N * 3); // ms: fails below ~330 events/s
  const loadAt = { start: loadavg(), uptime: execFileSync('uptime', { encoding: 'utf8' }).trim() };
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'clare-bench-repl-'));
  const started = [];
  const children = [];
  console.log(`N = ${N.toLocaleString('en-US')} events, ${REPEATS} repeats of each catch-up and live round, ${LIVE_WRITES} live writes per round, ${MESH_WRITES} mesh writes per peer; ` +
    `${os.cpus().length} CPUs; load at start: ${loadAt.uptime}`);

  const daemon = async (name, opts) => {
    const d = await startDaemon(name, opts);
    started.push(d);
    return d;
  };
  const stop = async (d) => {
    const i = started.indexOf(d);
    if (i >= 0) started.splice(i, 1);
    await d.stop();
  };
  const dbFile = (d) => path.join(d.dir, 'd/clare/clare.db');
  /** A read-only view of a daemon's per-origin counts, straight from its SQLite file. */
  const countsProbe = (d) => {
    const db = new Database(dbFile(d), { readonly: true, fileMustExist: true });
    const q = db.prepare('SELECT origin, count FROM watermarks');
    return {
      counts: () => Object.fromEntries(q.all().map((r) => [r.origin, r.count])),
      close: () => db.close(),
    };
  };
  /** Waits until `d` holds at least `want[origin]` events of every origin; returns performance.now() then. */
  const waitHolds = async (d, want, timeoutMs) => {
    const probe = countsProbe(d);
    try {
      return await waitUntil(`${d.name} to hold ${JSON.stringify(want)}`, () => {
        const have = probe.counts();
        return Object.entries(want).every(([o, n]) => (have[o] ?? 0) >= n) ? performance.now() : undefined;
      }, { timeoutMs, intervalMs: 20 });
    } finally {
      probe.close();
    }
  };
  const sumCounts = (c) => Object.values(c).reduce((a, n) => a + n, 0);

  const results = {};
  try {
    // ---- 0. the events, and daemon A holding them ---------------------------------------
    log(`generating ${N} events`);
    const events = generateEvents(HybridClock, uuidv7, N);
    const payloadBytes = events.reduce((a, e) => a + JSON.stringify(e.payload).length, 0) / N;
    const A = await daemon('a');
    log(`preloading A through POST /api/v1/sync/events, ${PRELOAD_BATCH} per request`);
    {
      const t0 = performance.now();
      for (let i = 0; i < N; i += PRELOAD_BATCH) {
        const r = await postJson(`${A.url}/api/v1/sync/events`, { events: events.slice(i, i + PRELOAD_BATCH) });
        if (r.accepted !== Math.min(PRELOAD_BATCH, N - i)) throw new Error(`preload: A accepted ${r.accepted} of a batch`);
      }
      results.preload = { rate: (N * 1000) / (performance.now() - t0) };
    }
    const aProbe = countsProbe(A);

    // ---- 1. catch-up, each repeat: raw baseline, B with A in its config, A added to a running B, clare sync
    const reps = [];
    results.reps = reps;
    results.payloadBytes = payloadBytes;
    let liveB = null;
    for (let rep = 0; rep < REPEATS; rep++) {
      const r = {};
      log(`repeat ${rep + 1}/${REPEATS}: raw better-sqlite3 insert of ${N}`);
      {
        const f = path.join(tmp, `raw-${rep}.db`);
        const db = new Database(f);
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma('cache_size = -65536'); // as openDb sets it
        db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, hlc TEXT NOT NULL UNIQUE, origin TEXT NOT NULL,
          type TEXT NOT NULL, v INTEGER NOT NULL, payload TEXT NOT NULL);
          CREATE INDEX events_origin_hlc ON events (origin, hlc);`);
        const ins = db.prepare('INSERT OR IGNORE INTO events (id, hlc, origin, type, v, payload) VALUES (?, ?, ?, ?, ?, ?)');
        const many = db.transaction((b) => {
          for (const e of b) ins.run(e.id, e.hlc, e.origin, e.type, e.v, JSON.stringify(e.payload));
        });
        const t0 = performance.now();
        for (let i = 0; i < N; i += 1000) many(events.slice(i, i + 1000));
        r.raw = (N * 1000) / (performance.now() - t0);
        db.close();
        rmSync(f, { force: true });
        rmSync(`${f}-wal`, { force: true });
        rmSync(`${f}-shm`, { force: true });
      }

      log(`repeat ${rep + 1}/${REPEATS}: gossip catch-up, B started with A as its peer`);
      {
        const want = aProbe.counts();
        const aCpu0 = cpuSeconds(A.pid);
        const B = await daemon('b', { peers: [A.url] });
        const done = await waitHolds(B, want, CATCHUP_TIMEOUT);
        const ms = done - B.spawnedAt;
        r.spawn = { rate: (sumCounts(want) * 1000) / ms, ms, startMs: B.readyAt - B.spawnedAt, bCpu: cpuSeconds(B.pid), aCpu: cpuSeconds(A.pid) - aCpu0 };
        await stop(B);
      }

      log(`repeat ${rep + 1}/${REPEATS}: gossip catch-up, A added as a peer of a running B`);
      {
        const B = await daemon('b');
        await sleep(300); // let B's start-up work settle
        const want = aProbe.counts();
        const bCpu0 = cpuSeconds(B.pid);
        const aCpu0 = cpuSeconds(A.pid);
        const t0 = performance.now();
        await postJson(`${B.url}/api/v1/peers`, { url: A.url });
        const done = await waitHolds(B, want, CATCHUP_TIMEOUT);
        const ms = done - t0;
        r.added = { rate: (sumCounts(want) * 1000) / ms, ms, bCpu: cpuSeconds(B.pid) - bCpu0, aCpu: cpuSeconds(A.pid) - aCpu0 };
        if (rep === REPEATS - 1) liveB = B;
        else await stop(B);
      }

      log(`repeat ${rep + 1}/${REPEATS}: clare sync (POST /api/v1/sync/run) into a fresh B`);
      {
        const B = await daemon('b');
        await sleep(300);
        const bCpu0 = cpuSeconds(B.pid);
        const t0 = performance.now();
        const [run] = await postJson(`${B.url}/api/v1/sync/run`, { peer: A.url });
        const ms = performance.now() - t0;
        if (!run.ok) throw new Error(`clare sync failed: ${JSON.stringify(run.error)}`);
        r.http = { rate: (run.pulled * 1000) / ms, ms, pulled: run.pulled, bCpu: cpuSeconds(B.pid) - bCpu0 };
        await stop(B);
      }
      log(`repeat ${rep + 1}: raw ${kfmt(r.raw)}/s, gossip from spawn ${kfmt(r.spawn.rate)}/s, peer added ${kfmt(r.added.rate)}/s, http ${kfmt(r.http.rate)}/s`);
      reps.push(r);
    }
    aProbe.close();

    // Convergence of the kept pair, checked outside the clock: same events, same projections.
    {
      const full = '/api/v1/sync/state?projections=1';
      const [sa, sb] = await Promise.all([getJson(`${A.url}${full}`), getJson(`${liveB.url}${full}`)]);
      // projections_digest is absent from a version-1 build, whose `digest` is the projection digest.
      results.converged = sa.event_count === sb.event_count && sa.digest === sb.digest && sa.projections_digest === sb.projections_digest;
      results.stateMs = [];
      results.stateFullMs = [];
      for (let i = 0; i < 3; i++) {
        let t0 = performance.now();
        await getJson(`${liveB.url}/api/v1/sync/state`);
        results.stateMs.push(performance.now() - t0);
        t0 = performance.now();
        await getJson(`${liveB.url}${full}`);
        results.stateFullMs.push(performance.now() - t0);
      }
      if (!results.converged) console.log(`WARNING: A and B did not converge: A ${sa.event_count} events ${sa.digest.slice(0, 12)}, B ${sb.event_count} ${sb.digest.slice(0, 12)}`);
    }

    // ---- 2. live propagation --------------------------------------------------------------
    /** Watches a daemon for update notes by text: its live socket, or polling as a fallback. */
    const watch = async (d) => {
      const waiters = new Map();
      const ws = new WebSocket(`${d.url.replace('http', 'ws')}/api/v1/live`);
      const opened = await new Promise((res) => {
        const to = setTimeout(() => res(false), 15_000);
        ws.on('message', (data) => {
          const t = performance.now();
          const m = JSON.parse(data.toString());
          if (m.type === 'snapshot') {
            clearTimeout(to);
            res(true);
          } else if (m.type === 'change' && m.entity === 'update' && m.row !== null) {
            const w = waiters.get(m.row.text);
            if (w !== undefined) {
              waiters.delete(m.row.text);
              w(t);
            }
          }
        });
        ws.on('error', () => {
          clearTimeout(to);
          res(false);
        });
      });
      if (opened) {
        return {
          how: 'live WebSocket',
          expect: (text) => new Promise((res) => waiters.set(text, res)),
          cancel: (text) => waiters.delete(text),
          close: () => ws.close(),
        };
      }
      ws.terminate();
      const stopped = new Set();
      return {
        how: 'polling GET /api/v1/updates?limit=1 (includes polling granularity)',
        expect: async (text) => {
          const end = performance.now() + 5000;
          while (performance.now() < end && !stopped.has(text)) {
            const r = await http(`${d.url}/api/v1/updates?limit=1`);
            if (r.body.includes(text)) return performance.now();
          }
          return new Promise(() => undefined);
        },
        cancel: (text) => stopped.add(text),
        close: () => undefined,
      };
    };

    /** Sequential notes posted on `writer`; per watcher, ms from the POST to its arrival. */
    const propagate = async (label, writer, watchers, count, warmup) => {
      const lat = watchers.map(() => []);
      const postMs = [];
      let missed = 0;
      const deadline = performance.now() + Math.max(60_000, count * 200);
      for (let i = 0; i < warmup + count && performance.now() < deadline; i++) {
        const text = `probe ${label} ${i} ${randomUUID()}`;
        const arrivals = watchers.map((w) => w.expect(text));
        const t0 = performance.now();
        await postJson(`${writer.url}/api/v1/updates`, { text });
        const tPost = performance.now();
        let timer;
        const timeout = new Promise((res) => {
          timer = setTimeout(() => res(null), 5000);
        });
        const got = await Promise.all(arrivals.map((p) => Promise.race([p, timeout])));
        clearTimeout(timer);
        if (got.some((t) => t === null)) {
          missed++;
          for (const w of watchers) w.cancel(text);
          continue;
        }
        if (i < warmup) continue;
        postMs.push(tPost - t0);
        got.forEach((t, k) => lat[k].push(t - t0));
      }
      return { lat, postMs, missed };
    };
    const summary = (xs) => ({ n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), max: Math.max(...xs) });
    /** REPEATS rounds of `count` writes (warm-up before the first); per round p50/p99, then their medians. */
    const liveRounds = async (label, writer, watchers) => {
      const perWatcher = watchers.map(() => []);
      const posts = [];
      let missed = 0;
      for (let round = 0; round < REPEATS; round++) {
        const r = await propagate(`${label}-${round}`, writer, watchers, LIVE_WRITES, round === 0 ? LIVE_WARMUP : 0);
        r.lat.forEach((xs, k) => perWatcher[k].push(summary(xs)));
        posts.push(summary(r.postMs));
        missed += r.missed;
        await sleep(200);
      }
      return { watchers: perWatcher.map(combine), post: combine(posts), missed };
    };

    log(`live propagation, one hop A → B (both holding ${N} events), ${REPEATS} × ${LIVE_WRITES} writes`);
    {
      const w = await watch(liveB);
      results.liveHow = w.how;
      const r = await liveRounds('hop1', A, [w]);
      results.hop1 = { ...r.watchers[0], post: r.post, missed: r.missed };
      w.close();
    }
    await stop(liveB);
    await stop(A);

    log(`live propagation, a line A–B–C–D of fresh daemons, ${REPEATS} × ${LIVE_WRITES} writes`);
    {
      const a = await daemon('la');
      const b = await daemon('lb', { peers: [a.url] });
      const c = await daemon('lc', { peers: [b.url] });
      const d = await daemon('ld', { peers: [c.url] });
      for (const x of [b, c, d]) {
        await waitUntil(`${x.name} connected`, async () => (await getJson(`${x.url}/api/v1/status`)).peers.some((p) => p.connected) || undefined, { timeoutMs: 20_000, intervalMs: 50 });
      }
      const wb = await watch(b);
      const wd = await watch(d);
      const r = await liveRounds('line', a, [wb, wd]);
      results.line = { b: r.watchers[0], d: r.watchers[1], missed: r.missed };
      wb.close();
      wd.close();
      for (const x of [d, c, b, a]) await stop(x);
    }

    // ---- 3. five-peer full mesh -------------------------------------------------------------
    log(`five-peer full mesh, ${MESH_WRITES} writes on every peer at once`);
    {
      const mesh = [];
      for (let i = 0; i < 5; i++) mesh.push(await daemon(`m${i}`));
      // Every peer lists every other (as a user would configure a mesh): two dials per pair, one kept.
      for (const m of mesh) for (const o of mesh) if (o !== m) await postJson(`${m.url}/api/v1/peers`, { url: o.url });
      const peersOf = async (m) => (await getJson(`${m.url}/api/v1/status`)).peers;
      await waitUntil('the mesh to connect', async () => {
        for (const m of mesh) {
          const ids = new Set((await peersOf(m)).filter((p) => p.connected).map((p) => p.machine_id));
          if (ids.size < 4) return undefined;
        }
        return true;
      }, { timeoutMs: 30_000, intervalMs: 100 });
      const counters = async () => {
        let received = 0;
        let dups = 0;
        let sent = 0;
        for (const m of mesh) {
          for (const p of await peersOf(m)) {
            received += p.events_received;
            dups += p.duplicates_received;
            sent += p.events_sent;
          }
        }
        return { received, dups, sent };
      };
      const total0 = sumCounts(countsProbe(mesh[0]).counts());
      await waitUntil('the mesh to settle', async () => {
        const states = await Promise.all(mesh.map((m) => getJson(`${m.url}/api/v1/sync/state`)));
        return states.every((s) => s.event_count === 5) || undefined;
      }, { timeoutMs: 20_000, intervalMs: 100 });
      const before = await counters();
      const t0 = performance.now();
      await Promise.all(mesh.map(async (m, k) => {
        for (let i = 0; i < MESH_WRITES; i++) await postJson(`${m.url}/api/v1/updates`, { text: `mesh ${k} ${i}` });
      }));
      const wroteMs = performance.now() - t0;
      const expected = 5 + 5 * MESH_WRITES;
      const states = await waitUntil('the mesh to converge', async () => {
        const s = await Promise.all(mesh.map((m) => getJson(`${m.url}/api/v1/sync/state`)));
        return s.every((x) => x.event_count === expected && x.digest === s[0].digest) ? s : undefined;
      }, { timeoutMs: 60_000, intervalMs: 20 });
      const convergedMs = performance.now() - t0;
      await sleep(500); // late duplicates still in flight count too
      const after = await counters();
      const received = after.received - before.received;
      const dups = after.dups - before.dups;
      results.mesh = {
        received, dups, sent: after.sent - before.sent, ideal: 5 * 4 * MESH_WRITES, ratio: dups / received, wroteMs, convergedMs,
        total: after, converged: states.length === 5, total0,
      };
      for (const m of mesh) await stop(m);
    }

    // ---- 4. PouchDB → PouchDB over HTTP --------------------------------------------------
    let pouchOk = true;
    try {
      require.resolve('pouchdb-node');
      require.resolve('express-pouchdb');
    } catch {
      pouchOk = false;
      console.log('\nPouchDB rows skipped: `npm install -D pouchdb-node express-pouchdb` to run them');
    }
    if (pouchOk) {
      const forkChild = (args) => {
        const ch = fork(SELF, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
        children.push(ch);
        return ch;
      };
      const once = (ch, type, timeoutMs) => new Promise((res, rej) => {
        const to = setTimeout(() => rej(new Error(`PouchDB child: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
        const on = (m) => {
          if (m.type === type) {
            clearTimeout(to);
            ch.off('message', on);
            res(m);
          } else if (m.type === 'error') {
            clearTimeout(to);
            rej(new Error(`PouchDB child: ${m.message}`));
          }
        };
        ch.on('message', on);
        ch.once('exit', (code) => {
          clearTimeout(to);
          rej(new Error(`PouchDB child exited (${code}) before '${type}'`));
        });
      });
      const kill = async (ch) => {
        if (ch.exitCode === null && ch.signalCode === null) {
          const gone = new Promise((r) => ch.once('exit', r));
          ch.kill('SIGTERM');
          await gone;
        }
      };
      const serverDir = path.join(tmp, 'pouch-server');
      rmSync(serverDir, { recursive: true, force: true });
      mkdirSync(serverDir, { recursive: true });
      const server = forkChild(['--pouch-server', serverDir]);
      const { port } = await once(server, 'ready', 20_000);
      const dbUrl = `http://127.0.0.1:${port}/bench`;
      const put = await http(dbUrl, 'PUT');
      if (put.status !== 201) throw new Error(`PouchDB: PUT /bench answered ${put.status} ${put.body}`);
      log(`preloading the PouchDB server with ${N} docs through _bulk_docs, 1000 per request`);
      {
        const t0 = performance.now();
        for (let i = 0; i < N; i += 1000) {
          const docs = events.slice(i, i + 1000).map((e) => ({ _id: e.id, hlc: e.hlc, origin: e.origin, type: e.type, v: e.v, payload: e.payload }));
          const r = await http(`${dbUrl}/_bulk_docs`, 'POST', { docs });
          if (r.status !== 201) throw new Error(`PouchDB _bulk_docs: ${r.status} ${r.body.slice(0, 200)}`);
        }
        results.pouchPreload = { rate: (N * 1000) / (performance.now() - t0) };
      }
      const pouchReps = [];
      let liveDir = null;
      for (let rep = 0; rep < REPEATS; rep++) {
        log(`PouchDB repeat ${rep + 1}/${REPEATS}: replication of ${N} docs into a fresh pouchdb-node DB (second process)`);
        const dir = path.join(tmp, `pouch-local-${rep}`);
        mkdirSync(dir, { recursive: true });
        const t0 = performance.now();
        const ch = forkChild(['--pouch-replicate', dbUrl, dir, 'once']);
        const m = await once(ch, 'done', CATCHUP_TIMEOUT * 2);
        const total = performance.now() - t0;
        await new Promise((r) => (ch.exitCode === null ? ch.once('exit', r) : r()));
        if (m.docs !== N) throw new Error(`PouchDB replicated ${m.docs} of ${N} docs`);
        pouchReps.push({ rate: (N * 1000) / m.ms, spawnRate: (N * 1000) / total, ms: m.ms });
        log(`PouchDB repeat ${rep + 1}: ${kfmt(pouchReps.at(-1).rate)} docs/s`);
        if (rep === REPEATS - 1) liveDir = dir;
        else rmSync(dir, { recursive: true, force: true });
      }
      results.pouch = pouchReps;

      log(`PouchDB live: continuous replication, ${LIVE_WRITES} sequential new docs`);
      {
        const ch = forkChild(['--pouch-replicate', dbUrl, liveDir, 'live']);
        await once(ch, 'ready', 60_000);
        const waiters = new Map();
        ch.on('message', (m) => {
          if (m.type !== 'change') return;
          const t = performance.now();
          const w = waiters.get(m.id);
          if (w !== undefined) {
            waiters.delete(m.id);
            w(t);
          }
        });
        const rounds = [];
        let missed = 0;
        for (let round = 0; round < REPEATS; round++) {
          const lat = [];
          const deadline = performance.now() + Math.max(60_000, LIVE_WRITES * 200);
          const warmup = round === 0 ? LIVE_WARMUP : 0;
          for (let i = 0; i < warmup + LIVE_WRITES && performance.now() < deadline; i++) {
            const id = uuidv7();
            const arrived = new Promise((res) => waiters.set(id, res));
            const t0 = performance.now();
            const r = await http(`${dbUrl}/${id}`, 'PUT', { type: 'update.posted', v: 1, payload: { text: `probe ${round} ${i}`, task_id: null } });
            if (r.status !== 201) throw new Error(`PouchDB PUT: ${r.status} ${r.body.slice(0, 200)}`);
            let timer;
            const t = await Promise.race([arrived, new Promise((res) => {
              timer = setTimeout(() => res(null), 5000);
            })]);
            clearTimeout(timer);
            if (t === null) {
              missed++;
              waiters.delete(id);
              continue;
            }
            if (i >= warmup) lat.push(t - t0);
          }
          rounds.push(summary(lat));
          await sleep(200);
        }
        results.pouchLive = { ...combine(rounds), missed };
        await kill(ch);
      }
      await kill(server);
    }
  } finally {
    for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGTERM');
    for (const d of [...started]) await d.stop().catch(() => undefined);
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }

  results.loadEnd = loadavg();
  printReport(results, { N, REPEATS, LIVE_WRITES, MESH_WRITES, loadAt });
}

function printReport(R, { N, REPEATS, LIVE_WRITES, MESH_WRITES, loadAt }) {
  const reps = R.reps;
  const med = (f) => median(reps.map(f));
  const list = (xs, f = kfmt) => `[${xs.map(f).join(', ')}]`;
  const raw = med((r) => r.raw);
  const yes = (ok) => (ok ? 'yes' : 'NO');
  const kN = N >= 1000 ? `${N / 1000}k` : String(N);
  console.log(`\nreplication benchmark, N = ${N.toLocaleString('en-US')} events (avg payload ${R.payloadBytes.toFixed(0)} B of JSON), BENCH_SCALE=${SCALE}, ` +
    `${REPEATS} repeats; figures are medians, [per repeat] beside them; ratios are per repeat, then the median`);

  // 1. catch-up
  const rows = [];
  const pouchRate = R.pouch === undefined ? NaN : median(R.pouch.map((p) => p.rate));
  const catchRow = (what, key, target) => {
    const rate = med((r) => r[key].rate);
    const ratio = med((r) => r[key].rate / r.raw);
    const ok = target ? rate >= 30_000 && ratio >= 0.7 : null;
    rows.push([what, `${kfmt(rate)}/s ${list(reps.map((r) => r[key].rate))}`, target ? '≥ 30,000/s, ≥ 70% of raw' : '', pctStr(ratio),
      Number.isFinite(pouchRate) ? `${(rate / pouchRate).toFixed(1)}×` : '', ok === null ? '' : yes(ok)]);
  };
  rows.push(['raw better-sqlite3 INSERT OR IGNORE, 1000/txn (bare events table, WAL, sync=NORMAL)', `${kfmt(raw)}/s ${list(reps.map((r) => r.raw))}`, '', '100%', '', '']);
  catchRow(`gossip: B started with A as its peer, timed from B's spawn`, 'spawn', true);
  catchRow('gossip: A added (POST /api/v1/peers) to a running B', 'added', true);
  catchRow('clare sync: POST /api/v1/sync/run on a fresh B (HTTP pull)', 'http', false);
  rows.push(['(preload of A: POST /api/v1/sync/events, 2000 per request)', `${kfmt(R.preload.rate)}/s`, '', pctStr(R.preload.rate / raw), '', '']);
  if (R.pouch !== undefined) {
    rows.push(['PouchDB → PouchDB over HTTP: replicate() start to complete', `${kfmt(pouchRate)}/s ${list(R.pouch.map((p) => p.rate))}`, '', pctStr(pouchRate / raw), '1.0×', '']);
    rows.push(['PouchDB, timed from the replicating process\'s spawn', `${kfmt(median(R.pouch.map((p) => p.spawnRate)))}/s`, '', '', '', '']);
    rows.push(['(preload of the PouchDB server: _bulk_docs, 1000 per request)', `${kfmt(R.pouchPreload.rate)}/s`, '', '', '', '']);
  }
  printTable(`1. Catch-up of ${kN} events into an empty peer (events or docs per second)`, ['what', 'figure', 'target', 'of raw', 'Clare/PouchDB', 'met'], rows);
  console.log(`   B's start-up (spawn → /status answers) ${fmt(med((r) => r.spawn.startMs), 0)} ms is inside the first gossip row.`);
  console.log(`   CPU used during the gossip catch-up (A added to running B): B ${fmt(med((r) => r.added.bCpu), 1)} s, A ${fmt(med((r) => r.added.aCpu), 1)} s, ` +
    `over ${fmt(med((r) => r.added.ms) / 1000, 1)} s of wall time; clare sync: B ${fmt(med((r) => r.http.bCpu), 1)} s over ${fmt(med((r) => r.http.ms) / 1000, 1)} s.`);
  console.log(`   Converged after catch-up (same events and projections on A and B): ${R.converged ? 'yes' : 'NO'}. ` +
    `GET /api/v1/sync/state on B takes ${fmt(median(R.stateMs), 1)} ms at this size (event-set digest), ${fmt(median(R.stateFullMs), 0)} ms with ?projections=1 (hashes every projection row).`);

  // 2. live propagation
  const l = [];
  const ms = (x) => fmt(x, 2);
  const liveRow = (what, s, target, ok, pouch) => l.push([what, s.n, ms(s.p50), `${ms(s.p99)} [${s.rounds.map((r) => fmt(r.p99, 1)).join(', ')}]`, ms(s.max), target,
    pouch === undefined ? '' : `${(s.p50 / pouch.p50).toFixed(2)} / ${(s.p99 / pouch.p99).toFixed(2)}`, ok === null ? '' : yes(ok)]);
  liveRow(`one hop A → B (both holding ${kN} events)`, R.hop1, 'p50 ≤ 3, p99 ≤ 10', R.hop1.p50 <= 3 && R.hop1.p99 <= 10, R.pouchLive);
  liveRow('  the POST on A alone (request → 201)', R.hop1.post, '', null);
  liveRow('line A–B–C–D (fresh): A → B, one hop', R.line.b, 'p50 ≤ 3, p99 ≤ 10', R.line.b.p50 <= 3 && R.line.b.p99 <= 10, R.pouchLive);
  liveRow('line A–B–C–D (fresh): A → D, three hops', R.line.d, 'p99 ≤ 30', R.line.d.p99 <= 30);
  if (R.pouchLive !== undefined) liveRow(`PouchDB continuous replication, one hop (${kN} docs)`, R.pouchLive, '', null);
  printTable(`2. Live propagation of one write: ms from sending the POST on the writer until the peer has it; ${REPEATS} rounds of ${LIVE_WRITES} sequential writes ` +
    '(20 warm-up first); p50 and p99 are medians of the rounds\' [per round]', ['what', 'n', 'p50', 'p99 [per round]', 'max', 'target (ms)', 'Clare/PouchDB p50 / p99', 'met'], l);
  console.log(`   Clare arrival: ${R.liveHow}. PouchDB arrival: local.changes() in the replicating process, reported over IPC.`);
  const missed = R.hop1.missed + R.line.missed + (R.pouchLive?.missed ?? 0);
  if (missed > 0) console.log(`   WARNING: ${missed} writes did not arrive within 5 s and are not in the figures (hop1 ${R.hop1.missed}, line ${R.line.missed}, PouchDB ${R.pouchLive?.missed ?? 0}).`);

  // 3. mesh
  const m = R.mesh;
  printTable(`3. Five-peer full mesh, ${MESH_WRITES} notes written on every peer at once (counters: sum over all peers of GET /api/v1/status peers[], during the writes)`,
    ['what', 'figure', 'target', 'met'], [
      ['events received (sum of events_received)', kfmt(m.received), `ideal ${kfmt(m.ideal)} (each event once at each of 4 peers)`, ''],
      ['duplicates received (sum of duplicates_received)', kfmt(m.dups), '', ''],
      ['duplicate ratio (duplicates / received)', pctStr(m.ratio), '≤ 50%', yes(m.ratio <= 0.5)],
      ['received / ideal', `${(m.received / m.ideal).toFixed(2)}×`, '', ''],
      ['writes done / all converged (equal digests)', `${fmt(m.wroteMs / 1000, 2)} s / ${fmt(m.convergedMs / 1000, 2)} s`, '', ''],
    ]);
  console.log(`\nload average (1/5/15 min): at start ${loadAt.start}, at end ${R.loadEnd}; ${os.cpus().length} CPUs. Start: ${loadAt.uptime}`);
}

// Dispatch last: the helpers above are `const`s, initialised by now.
if (process.argv[2] === '--pouch-server') await pouchServer(process.argv[3]);
else if (process.argv[2] === '--pouch-replicate') await pouchReplicate(process.argv[3], process.argv[4], process.argv[5]);
else await main();
