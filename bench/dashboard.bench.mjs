// The live dashboard, end to end, in a real browser against real daemons:
//   1. gzip size of the shipped UI bundle (dist/ui/app.js)                 target ≤ 150 kB
//   2. page load to first full render, 1,000 tasks and 50 sessions         target ≤ 300 ms (issue 12)
//      (navigation start → every task card the page holds and every session rendered
//      on the board; since live protocol 2 the snapshot holds the first pages of the
//      columns, so that is the loaded part of the 1,000, printed beside it), beside
//      the baseline build (bench/lib.mjs, BASELINE_REF: the page holding every task)
//      on a daemon seeded the same way, loads of the two taking turns
//   3. committed write → DOM, same daemon: POST /api/v1/tasks on the daemon
//      serving the page, 200 writes, p50/p99                                target p99 ≤ 50 ms
//   4. committed write → DOM, one hop: the POST goes to a peer, replication
//      carries it over, 200 writes, p50/p99                                 target p99 ≤ 80 ms
// Latency clock: the bench puts Date.now() of the moment before the POST into the
// task's title; a MutationObserver on every shadow root (installed before the app
// runs) takes Date.now() when that title enters the DOM. Page and bench run on the
// same machine, so the two clocks are the same clock; the figure includes the HTTP
// call, the commit, the push and the frame the page waits for before it renders.
//
// Run: `node bench/run.mjs dashboard` or `node bench/dashboard.bench.mjs` (after
// `npm run build`). BENCH_WRITES=50 for a quick run; BENCH_BASELINE=0 skips the
// baseline (BENCH_BASELINE_DIST=<a built dist/> reuses one); CLARE_CHROMIUM overrides
// /usr/bin/chromium.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { BASELINE_REF, baselineDist } from './lib.mjs';

/* global document -- fullyRendered runs in the page */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/clare.js');
const BUNDLE = path.join(ROOT, 'dist/ui/app.js');
// The rclaude stand-in: the daemon refuses to start without an rclaude on PATH.
const STANDIN = path.join(ROOT, 'test/fixtures/rclaude');
const CHROMIUM = process.env.CLARE_CHROMIUM ?? '/usr/bin/chromium';
const WRITES = Number(process.env.BENCH_WRITES ?? 200);
const TASKS = 1000;
const SESSIONS = 50;
const LOADS = 5;

for (const f of [CLI, BUNDLE]) {
  if (!existsSync(f)) {
    console.error(`${path.relative(ROOT, f)} is missing: run \`npm run build\` first`);
    process.exit(2);
  }
}

// ---- daemons -------------------------------------------------------------------

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

async function until(what, check, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function startMachine(name, port, peers, cli = CLI) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `clare-bench-${name}-`));
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_DATA_HOME: path.join(dir, 'data'), HOME: dir,
    PATH: `${STANDIN}:${process.env.PATH ?? ''}`,
    RCLAUDE_HOST: name, RCLAUDE_STATE_DIR: path.join(dir, 'rclaude'), RCLAUDE_TMUX_SOCKET: `clare-bench-${name}-${process.pid}`,
    CLARE_LOG_LEVEL: 'warn',
  };
  delete env.CLARE_URL;
  const init = spawnSync(process.execPath, [cli, 'init', '--name', name], { env, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`clare init: ${init.stderr}`);
  const file = path.join(dir, 'config/clare/clare.toml');
  writeFileSync(file, readFileSync(file, 'utf8')
    .replace('port = 8765', `port = ${port}`)
    .replace(/^peers = \[\]/m, `peers = [${peers.map((p) => JSON.stringify(p)).join(', ')}]`)
    // Only the benchmark's writes: no session polling in between.
    .replace(/^poll_interval_s = .*$/m, 'poll_interval_s = 3600'));
  let stderr = '';
  const child = spawn(process.execPath, [cli, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => child.once('exit', r));
  const url = `http://127.0.0.1:${port}`;
  await until(`${name} to answer`, async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr}`);
    return (await fetch(`${url}/api/v1/status`)).ok;
  });
  return {
    name, url, dir,
    async api(method, p, body) {
      const r = await fetch(`${url}/api/v1${p}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${p} → ${r.status} ${text}`);
      return text === '' ? null : JSON.parse(text);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      spawnSync(path.join(STANDIN, 'rclaude'), ['_kill-all'], { env, timeout: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An HLC stamp as peers write them: 15-digit ms, 5-digit counter, machine id. */
const hlc = (ms, counter, machine) => `${String(ms).padStart(15, '0')}:${String(counter).padStart(5, '0')}:${machine}`;

/** 1,000 tasks through the API (as the CLI would), 50 sessions from 5 other hosts. */
async function seedBoard(m) {
  await m.api('POST', '/projects', { name: 'bench' });
  for (let i = 0; i < TASKS; i++) {
    await m.api('POST', '/tasks', { project: 'bench', title: `seed task ${i + 1}: ${['refactor', 'test', 'document', 'fix'][i % 4]} module ${i % 37}`, priority: i % 5 });
  }
  await seedSessions(m);
}

/** 50 sessions on 5 other hosts, as their daemons would have published them (POST /sync/events). */
async function seedSessions(m) {
  const events = [];
  const now = Date.now() - 60_000;
  for (let h = 0; h < 5; h++) {
    const origin = randomUUID();
    const host = `host-${h + 1}`;
    let c = 0;
    events.push({ id: randomUUID(), hlc: hlc(now, c++, origin), origin, type: 'machine.named', v: 1, payload: { name: host } });
    for (let s = 0; s < SESSIONS / 5; s++) {
      events.push({
        id: randomUUID(), hlc: hlc(now, c++, origin), origin, type: 'session.seen', v: 1,
        payload: { host, session: `agent-${s + 1}`, cwd: `/srv/${host}/repo-${s}`, state: ['working', 'idle', 'waiting'][s % 3], last_activity: new Date(now - s * 7000).toISOString() },
      });
    }
  }
  const r = await m.api('POST', '/sync/events', { events });
  if (r.accepted !== events.length) throw new Error(`seeded ${r.accepted} of ${events.length} session events`);
}

// ---- the page ------------------------------------------------------------------

// Installed before the app: watches every shadow root for titles `bench-<i>-<t0>` and
// notes, per title, Date.now() of the first time it is in the DOM.
const OBSERVER = `(() => {
  const seen = new Map();
  window.__benchSeen = seen;
  const re = /bench-\\d+-(\\d{13})/g;
  const scan = (text, now) => {
    if (!text.includes('bench-')) return;
    for (const m of text.matchAll(re)) if (!seen.has(m[0])) seen.set(m[0], { at: now, t0: Number(m[1]) });
  };
  const mo = new MutationObserver((records) => {
    const now = Date.now();
    for (const r of records) {
      if (r.type === 'characterData') scan(r.target.data, now);
      else for (const n of r.addedNodes) scan(n.textContent || '', now);
    }
  });
  const opts = { childList: true, subtree: true, characterData: true };
  // When the first live frame (the snapshot) arrives, ms since navigation start.
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => { window.__benchFirstFrame ??= performance.now(); }, { once: true });
    }
  };
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    mo.observe(root, opts);
    return root;
  };
})();`;

/**
 * In the page: [performance.now(), cards] once every task card the columns hold (each
 * column element's `tasks`) and every session row has rendered its shadow content,
 * else 0. A function, not a string: the page's CSP forbids eval.
 */
function fullyRendered({ sessions }) {
  // Walks only the path to the cards and rows, so the check costs little of the frame it measures.
  const board = document.querySelector('clare-app')?.shadowRoot?.querySelector('clare-board-view')?.shadowRoot;
  if (!board) return 0;
  let cards = 0;
  let held = 0;
  for (const col of board.querySelectorAll('clare-board-column')) {
    held += col.tasks.length;
    for (const c of col.shadowRoot?.querySelectorAll('clare-task-card') ?? []) if (c.shadowRoot?.firstElementChild) cards++;
  }
  let rows = 0;
  for (const r of board.querySelectorAll('clare-session-row')) if (r.shadowRoot?.querySelector('.row')) rows++;
  return held > 0 && cards >= held && rows >= sessions ? [performance.now(), cards] : 0;
}
const FULL = { sessions: SESSIONS };

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};

async function openBoard(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.addInitScript({ content: OBSERVER });
  await page.goto(`${url}/#/board`);
  return { page, problems };
}

/** Page load to full render, ms since navigation start (the page's time origin). */
async function measureLoad(context, url) {
  const { page, problems } = await openBoard(context, url);
  const handle = await page.waitForFunction(fullyRendered, FULL, { polling: 'raf', timeout: 30_000 });
  const [ms, cards] = await handle.jsonValue();
  const snapshot = await page.evaluate(() => globalThis.__benchFirstFrame ?? 0);
  await page.close();
  return { ms, cards, snapshot, problems };
}

/** Sequential writes on `writer` while `page` watches; latency per write, ms. */
async function measureWrites(page, writer, label) {
  const out = [];
  for (let i = 0; i < WRITES; i++) {
    const t0 = Date.now();
    const title = `bench-${i}-${t0}`;
    // Priority 0: it sorts into the loaded part of the open column (the first page holds every priority-0 task).
    await writer.api('POST', '/tasks', { project: 'bench', title, priority: 0 });
    const handle = await page.waitForFunction((t) => globalThis.__benchSeen.get(t) ?? null, title, { polling: 'raf', timeout: 15_000 })
      .catch((e) => { throw new Error(`${label} write ${i} never showed up: ${e.message}`); });
    const { at, t0: embedded } = await handle.jsonValue();
    out.push(at - embedded);
  }
  return out;
}

// ---- run -----------------------------------------------------------------------

const rows = [];
const row = (what, value, target, ok) => rows.push({ what, value, target, ok: ok === null ? 'n/a' : ok ? 'yes' : 'NO' });

const bundle = readFileSync(BUNDLE);
const gz = gzipSync(bundle, { level: 9 }).length;
row('UI bundle (app.js), gzip -9', `${(gz / 1024).toFixed(1)} kB (${(bundle.length / 1024).toFixed(1)} kB raw)`, '≤ 150 kB', gz <= 150 * 1024);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clare-bench-dashboard-'));
const baseDist = baselineDist(tmp, (s) => process.stderr.write(`  … ${s}\n`));
const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
const alpha = await startMachine('alpha', pa, [`http://127.0.0.1:${pb}`]);
const beta = await startMachine('beta', pb, [`http://127.0.0.1:${pa}`]);
// The baseline build on its own, seeded the same way (its page is its own dist/ui).
const gamma = baseDist === null ? null : await startMachine('gamma', pc, [], path.join(baseDist, 'cli/clare.js'));
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const seedT0 = performance.now();
  await seedBoard(alpha);
  console.log(`seeded ${TASKS} tasks and ${SESSIONS} sessions in ${Math.round(performance.now() - seedT0)} ms`);
  if (gamma !== null) await seedBoard(gamma);

  // Replication: does beta's status list alpha as connected, and has beta got the project?
  let replication = false;
  try {
    await until('replication between alpha and beta', async () => {
      const s = await beta.api('GET', '/status');
      const projects = await beta.api('GET', '/projects');
      return s.peers.some((p) => p.connected) && projects.items.some((p) => p.name === 'bench');
    }, 20_000);
    replication = true;
  } catch {
    console.log('replication not available: the one-hop figure is skipped');
  }

  // Page load: the first in a fresh context (cold cache), then warm loads; the
  // baseline's and this build's loads take turns, each in its own context.
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const baseContext = gamma === null ? null : await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const loads = [];
  const baseLoads = [];
  for (let i = 0; i < LOADS; i++) {
    if (gamma !== null) baseLoads.push(await measureLoad(baseContext, gamma.url));
    loads.push(await measureLoad(context, alpha.url));
  }
  await baseContext?.close();
  await gamma?.stop();
  const problems = loads.flatMap((l) => l.problems);
  const renders = (ls) => ({ cold: ls[0].ms, warm: quantile(ls.slice(1).map((l) => l.ms), 0.5), snapshot: quantile(ls.map((l) => l.snapshot), 0.5), cards: ls[0].cards });
  const n = renders(loads);
  const b = baseLoads.length === 0 ? null : renders(baseLoads);
  // This build's figure, then the baseline's and baseline / new.
  const was = (k) => (b === null ? '' : ` (baseline ${Math.round(b[k])} ms, ${(b[k] / n[k]).toFixed(1)}×)`);
  row(`first full render, ${TASKS} tasks + ${SESSIONS} sessions (cold)`, `${Math.round(n.cold)} ms${was('cold')}`, '≤ 300 ms', n.cold <= 300);
  row(`first full render (warm, median of ${LOADS - 1})`, `${Math.round(n.warm)} ms${was('warm')}`, '≤ 300 ms', n.warm <= 300);
  row('  of which: snapshot frame received (median)', `${Math.round(n.snapshot)} ms${was('snapshot')}`, '', null);
  row('  task cards rendered', `${n.cards}${b === null ? '' : ` (baseline ${b.cards})`}`, '', null);

  // Write → DOM.
  const { page } = await openBoard(context, alpha.url);
  await page.waitForFunction(fullyRendered, FULL, { polling: 'raf', timeout: 30_000 });
  const local = await measureWrites(page, alpha, 'local');
  row(`write → DOM, same daemon, p50 (${WRITES} writes)`, `${quantile(local, 0.5)} ms`, '', null);
  row(`write → DOM, same daemon, p99`, `${quantile(local, 0.99)} ms (max ${Math.max(...local)})`, '≤ 50 ms', quantile(local, 0.99) <= 50);
  if (replication) {
    const hop = await measureWrites(page, beta, 'one hop');
    row(`write → DOM, one hop, p50 (${WRITES} writes)`, `${quantile(hop, 0.5)} ms`, '', null);
    row(`write → DOM, one hop, p99`, `${quantile(hop, 0.99)} ms (max ${Math.max(...hop)})`, '≤ 80 ms', quantile(hop, 0.99) <= 80);
  } else {
    row('write → DOM, one hop', 'n/a (no replication)', '≤ 80 ms', null);
  }
  if (problems.length > 0) console.log(`page problems: ${problems.join(' | ')}`);
  await context.close();
} finally {
  await browser.close();
  await alpha.stop();
  await beta.stop();
  await gamma?.stop();
  rmSync(tmp, { recursive: true, force: true });
}

const w = [Math.max(...rows.map((r) => r.what.length)), Math.max(...rows.map((r) => r.value.length)), Math.max(6, ...rows.map((r) => r.target.length))];
console.log(`\n${'measure'.padEnd(w[0])}  ${'value'.padEnd(w[1])}  ${'target'.padEnd(w[2])}  met`);
console.log(`${'-'.repeat(w[0])}  ${'-'.repeat(w[1])}  ${'-'.repeat(w[2])}  ---`);
for (const r of rows) console.log(`${r.what.padEnd(w[0])}  ${r.value.padEnd(w[1])}  ${r.target.padEnd(w[2])}  ${r.ok}`);
console.log(`\n(baseline ${baseDist === null ? 'skipped' : BASELINE_REF}; ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version})`);
process.exitCode = rows.some((r) => r.ok === 'NO') ? 1 : 0;
