// Shared helpers for benchmarks: real daemons in temp dirs, timing, medians.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createServer } from 'node:net';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildRelease, missingReason } from '../test/fixtures/previous-release/build-release.mjs';

export const ROOT = resolve(import.meta.dirname, '..');
export const CLI = join(ROOT, 'dist/cli/clare.js');
const STANDIN = join(ROOT, 'test/fixtures/rclaude');

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
/** Wall time in ms of one whole `node ARGS` process (throws if it fails): CLI start-up figures. */
export function timeNode(args, env) {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return performance.now() - t;
}
export const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : String(n));

/** The last commit of main before the bounded reads (full snapshot, unpaged lists, the page holding every task). */
export const BASELINE_REF = process.env.BENCH_BASELINE_REF ?? '6d8a3ef';

/**
 * The dist/ of the build a benchmark compares against, or null with BENCH_BASELINE=0:
 * BENCH_BASELINE_DIST=<a built dist/>, else BASELINE_REF built by the one release
 * builder (test/fixtures/previous-release/build-release.mjs; cached by commit).
 */
export function baselineDist(_tmp, progress = () => undefined) {
  if (process.env.BENCH_BASELINE === '0') return null;
  if (process.env.BENCH_BASELINE_DIST !== undefined) return resolve(process.env.BENCH_BASELINE_DIST);
  progress(`building the baseline ${BASELINE_REF} (cached by commit)`);
  const built = buildRelease(BASELINE_REF);
  if (built === null) throw new Error(missingReason(BASELINE_REF));
  return join(built.dir, 'dist');
}

export async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/**
 * A daemon in a temp dir: init, config tweaks, serve; returns handles to use and stop it.
 * `cli`: another build's dist/cli/clare.js (a baseline); `db`: a seeded database file to
 * serve (copied over the one init made); `startTimeoutMs`: for migrations of big stores.
 */
export async function startDaemon(name, { peers = [], extraToml = '', nodeArgs = [], cli = CLI, db, startTimeoutMs = 20_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `clare-bench-${name}-`));
  const port = await freePort();
  const env = {
    ...process.env, XDG_CONFIG_HOME: join(dir, 'c'), XDG_DATA_HOME: join(dir, 'd'), HOME: dir,
    PATH: `${STANDIN}:${process.env.PATH}`, RCLAUDE_HOST: name, RCLAUDE_STATE_DIR: join(dir, 'r'),
    RCLAUDE_TMUX_SOCKET: `clare-bench-${name}-${port}`, CLARE_LOG_LEVEL: 'warn',
  };
  delete env.CLARE_URL;
  const init = spawnSync(process.execPath, [cli, 'init', '--name', name], { env, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(init.stderr);
  if (db !== undefined) {
    const target = join(dir, 'd/clare/clare.db');
    for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, { force: true });
    copyFileSync(db, target);
  }
  const cfg = join(dir, 'c/clare/clare.toml');
  let toml = readFileSync(cfg, 'utf8').replace('port = 8765', `port = ${port}`).replace(/^peers = \[\]/m, `peers = ${JSON.stringify(peers)}`);
  // Benchmarks measure the store and the API, not the session poller.
  toml = toml.replace('poll_interval_s = 10', 'poll_interval_s = 3600');
  writeFileSync(cfg, toml + extraToml);
  // spawnedAt: performance.now() when the serve process was spawned (for timings that include start-up).
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, cli, 'serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + startTimeoutMs;
  for (;;) {
    const ok = await fetch(`${url}/api/v1/status`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > end || child.exitCode !== null) throw new Error(`daemon ${name} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name, dir, env, port, url, configFile: cfg, pid: child.pid, child, spawnedAt, readyAt: performance.now(),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      spawnSync(join(STANDIN, 'rclaude'), ['_kill-all'], { env });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One JSON request over a keep-alive agent; resolves with {status, body}. */
export function http(url, method = 'GET', body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((res, rej) => {
    const req = request(url, { method, agent, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', rej);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Runs `total` requests with `concurrency` in flight; returns {ms, perSec, latencies}. */
export async function load(total, concurrency, makeRequest) {
  const lat = [];
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const i = next++;
      const s = performance.now();
      const r = await makeRequest(i);
      if (r.status >= 300) failures++;
      lat.push(performance.now() - s);
    }
  }));
  const ms = performance.now() - t0;
  if (failures > 0) throw new Error(`${failures} of ${total} requests failed`);
  return { ms, perSec: (total / ms) * 1000, latencies: lat };
}

/** Polls `check` (async, returns a value or undefined) every `intervalMs` until it returns a value; throws after `timeoutMs`. */
export async function waitUntil(what, check, { timeoutMs = 30_000, intervalMs = 20 } = {}) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function printTable(title, header, rows) {
  console.log(`\n${title}`);
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  console.log(header.map((h, i) => h.padEnd(w[i])).join('  '));
  for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(w[i])).join('  '));
}

export const SCALE = Number(process.env.BENCH_SCALE ?? '1');
export const scaled = (n) => Math.max(1, Math.round(n * SCALE));

/** A process's resident set in MB, from /proc (NaN when it cannot be read). */
export function rssMB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

/** Forces GCs in a daemon started with gc-on-signal.mjs until its RSS holds still (3 readings within 2 MB, at most 30 s); returns it. */
export async function settledRss(d) {
  let last = Infinity;
  let stable = 0;
  const end = Date.now() + 30_000;
  while (Date.now() < end && stable < 3) {
    process.kill(d.pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 300));
    const now = rssMB(d.pid);
    stable = Math.abs(now - last) < 2 ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/**
 * The raw baseline of catch-up: a better-sqlite3 batch insert of `rows` (wire events;
 * payload as JSON text or an object) into a bare events table in `dir`, with the store's
 * pragmas, 1000 per transaction, INSERT OR IGNORE. Returns events/s.
 */
export function rawInsert(dir, rows) {
  const f = join(dir, 'raw.db');
  const db = new Database(f);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, hlc TEXT NOT NULL UNIQUE, origin TEXT NOT NULL,
    type TEXT NOT NULL, v INTEGER NOT NULL, payload TEXT NOT NULL); CREATE INDEX events_origin_hlc ON events (origin, hlc);`);
  const ins = db.prepare('INSERT OR IGNORE INTO events (id, hlc, origin, type, v, payload) VALUES (?, ?, ?, ?, ?, ?)');
  const many = db.transaction((b) => {
    for (const e of b) ins.run(e.id, e.hlc, e.origin, e.type, e.v, typeof e.payload === 'string' ? e.payload : JSON.stringify(e.payload));
  });
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += 1000) many(rows.slice(i, i + 1000));
  const rate = (rows.length * 1000) / (performance.now() - t0);
  db.close();
  for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });
  return rate;
}
