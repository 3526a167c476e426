// Reads at scale (issue 12, "reads that do not grow with the log"; issue 9, "bounds"):
// one store of 1M events of the realistic mix (~120k tasks), served by this build and
// by the baseline build — the commit before the bounded reads — side by side in one
// run, each daemon on its own copy of the same file:
//   GET /api/v1/status                            target ≤ 20 ms
//   GET /api/v1/tasks?limit=50                    target ≤ 20 ms, ≤ 50 tasks, a cursor
//   /api/v1/live first frame, bytes and ms        target ≤ 1 MB within 200 ms
//   daemon RSS: before, with 10 live sockets that never read, after they close (each
//   after a forced GC in the daemon), and whether a healthy dashboard beside them
//   receives the next change frame or is closed.
// Medians of BENCH_REPEATS (default 7) requests each.
//
// The baseline: BENCH_BASELINE_DIST=<a built dist/>, else the commit BENCH_BASELINE_REF
// (default below) is exported with `git archive`, linked to this node_modules and built
// in a temp dir (about 10 s). BENCH_BASELINE=0 skips it. BENCH_SCALE=0.1 for 100k events.
// Run: npm run bench -- reads   (or node --expose-gc bench/run.mjs reads after a build)
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { BASELINE_REF, baselineDist, fmt, http, median, ROOT, SCALE, rssMB, settledRss, startDaemon, waitUntil } from './lib.mjs';
import { cachedSeedStore } from './seed-store.mjs';

const N_EVENTS = Math.max(10_000, Math.round(1_000_000 * SCALE));
const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);
const STALLED = 10;
const GC_PRELOAD = path.join(ROOT, 'bench/gc-on-signal.mjs');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clare-bench-reads-'));
const progress = (s) => process.stderr.write(`  … ${s}\n`);

async function timedGet(url) {
  const t0 = performance.now();
  const r = await http(url);
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`GET ${url} → ${r.status} ${r.body.slice(0, 200)}`);
  return { ms, body: r.body };
}

/** Opens the live socket; resolves with the first frame's time and size, then closes. */
function firstFrame(d) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}/api/v1/live`, { maxPayload: 512 * 1024 * 1024 });
    ws.once('message', (data) => {
      const ms = performance.now() - t0;
      resolve({ ms, bytes: data.length, frame: data });
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** A live socket that upgrades and then never reads a byte (a stalled or hostile page). */
function stalledSocket(d) {
  return new Promise((resolve, reject) => {
    const s = connect(d.port, '127.0.0.1', () => {
      s.write(`GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1:${d.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
        + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      s.pause();
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** A page that reads everything: records frames and how it was closed. */
function healthyPage(d) {
  const page = { frames: [], closed: null, ws: null };
  page.ws = new WebSocket(`ws://127.0.0.1:${d.port}/api/v1/live`, { maxPayload: 512 * 1024 * 1024 });
  page.ws.on('message', (data) => page.frames.push(JSON.parse(data.toString('utf8'))));
  page.ws.on('close', (code, reason) => { page.closed = { code, reason: reason.toString('utf8') }; });
  page.ws.on('error', () => undefined);
  return page;
}

async function measure(label, cli, db) {
  progress(`${label}: starting a daemon on a copy of the store`);
  const d = await startDaemon(`reads-${label}`, { cli, db, nodeArgs: ['--expose-gc', '--import', GC_PRELOAD], startTimeoutMs: 900_000 });
  const out = { label, startMs: d.readyAt - d.spawnedAt };
  try {
    progress(`${label}: GET /status`);
    const status = [];
    for (let i = 0; i < REPEATS; i++) status.push((await timedGet(`${d.url}/api/v1/status`)).ms);
    out.status = median(status);

    progress(`${label}: GET /tasks?limit=50`);
    const page = [];
    let sample;
    for (let i = 0; i < REPEATS; i++) {
      const r = await timedGet(`${d.url}/api/v1/tasks?limit=50`);
      page.push(r.ms);
      sample = r.body;
    }
    out.page = median(page);
    const parsed = JSON.parse(sample);
    out.pageItems = Array.isArray(parsed) ? parsed.length : parsed.items.length;
    out.pageCursor = Array.isArray(parsed) ? 'none' : parsed.next_cursor === null ? 'null' : 'yes';
    out.pageBytes = Buffer.byteLength(sample);

    // A page deep in the board's open column: 40 pages in (new), the same filter unpaged (baseline).
    if (!Array.isArray(parsed)) {
      let cursor;
      for (let i = 0; i < 40; i++) {
        const r = JSON.parse((await timedGet(`${d.url}/api/v1/tasks?status=open&order=urgency&limit=50${cursor === undefined ? '' : `&cursor=${cursor}`}`)).body);
        if (r.next_cursor === null) break;
        cursor = r.next_cursor;
      }
      const deep = [];
      for (let i = 0; i < REPEATS; i++) deep.push((await timedGet(`${d.url}/api/v1/tasks?status=open&order=urgency&limit=50&cursor=${cursor}`)).ms);
      out.deep = median(deep);
    } else {
      const deep = [];
      for (let i = 0; i < REPEATS; i++) deep.push((await timedGet(`${d.url}/api/v1/tasks?status=open`)).ms);
      out.deep = median(deep);
    }

    progress(`${label}: GET /tasks/next`);
    const next = [];
    for (let i = 0; i < REPEATS; i++) next.push((await timedGet(`${d.url}/api/v1/tasks/next?limit=10`)).ms);
    out.next = median(next);

    progress(`${label}: live first frame`);
    const frames = [];
    for (let i = 0; i < REPEATS; i++) frames.push(await firstFrame(d));
    out.frameMs = median(frames.map((f) => f.ms));
    out.frameBytes = median(frames.map((f) => f.bytes));
    out.frameTasks = (() => {
      const s = JSON.parse(frames[0].frame.toString('utf8')).data;
      return Array.isArray(s.tasks) ? s.tasks.length : Object.values(s.tasks).reduce((n, l) => n + l.items.length, 0);
    })();

    progress(`${label}: ${STALLED} stalled sockets`);
    out.rssBefore = await settledRss(d);
    const stalled = [];
    for (let i = 0; i < STALLED; i++) stalled.push(await stalledSocket(d));
    // Every stalled socket's snapshot is built and queued: the daemon's memory stops growing.
    await new Promise((r) => setTimeout(r, 1000));
    out.rssPeak = await settledRss(d);
    // A healthy page that connects while the fleet is busy: a change lands while its
    // snapshot is still on the way. It must get the change, not a close.
    const healthy = healthyPage(d);
    await new Promise((r, j) => { healthy.ws.once('open', r); healthy.ws.once('error', j); });
    const note = await http(`${d.url}/api/v1/updates`, 'POST', { text: 'a change while ten sockets stall' });
    if (note.status !== 201) throw new Error(`POST /updates → ${note.status}`);
    const noteId = JSON.parse(note.body).id;
    // The note arrives as a change frame, or in the snapshot if that was read after the commit.
    const seen = () => healthy.frames.some((f) => (f.type === 'change' && f.id === noteId)
      || (f.type === 'snapshot' && (Array.isArray(f.data.updates) ? f.data.updates : f.data.updates.items).some((u) => u.id === noteId)));
    await waitUntil('the change or a close', () => seen() || healthy.closed !== null, { timeoutMs: 120_000 }).catch(() => undefined);
    out.healthy = healthy.closed === null ? (seen() ? 'got the change' : 'no change') : `closed ${healthy.closed.code} ${healthy.closed.reason}`;
    out.rssWith = rssMB(d.pid);
    for (const s of stalled) s.destroy();
    healthy.ws.close();
    // Without help first (what a daemon left alone gives back), then after a forced GC.
    await new Promise((r) => setTimeout(r, 3000));
    out.rssAfterNoGc = rssMB(d.pid);
    out.rssAfter = await settledRss(d);
  } finally {
    await d.stop();
  }
  return out;
}

try {
  const base = baselineDist(tmp, progress);
  const file = path.join(tmp, 'store.db');
  progress(`seeding ${N_EVENTS} events (${base === null ? 'this build' : 'baseline schema'})`);
  const seed = await cachedSeedStore(file, N_EVENTS, base === null ? {} : { dist: base });
  console.log(`store: ${N_EVENTS.toLocaleString('en-US')} events, ${seed.tasks.toLocaleString('en-US')} tasks, ${(statSync(file).size / 2 ** 20).toFixed(0)} MB, seeded in ${(seed.ms / 1000).toFixed(1)} s`);

  const results = [];
  if (base !== null) results.push(await measure('baseline', path.join(base, 'cli/clare.js'), file));
  results.push(await measure('new', path.join(ROOT, 'dist/cli/clare.js'), file));

  const [b, n] = results.length === 2 ? results : [null, results[0]];
  const ratio = (x, y) => (b === null ? '' : `${fmt(x / y, 1)}×`);
  const rows = [
    ['daemon start (incl. migration)', b && `${fmt(b.startMs, 0)} ms`, `${fmt(n.startMs, 0)} ms`, '', ''],
    [`GET /status, median of ${REPEATS}`, b && `${fmt(b.status)} ms`, `${fmt(n.status)} ms`, ratio(b?.status, n.status), '≤ 20 ms'],
    [`GET /tasks?limit=50, median of ${REPEATS}`, b && `${fmt(b.page)} ms`, `${fmt(n.page)} ms`, ratio(b?.page, n.page), '≤ 20 ms'],
    ['  tasks returned / next_cursor', b && `${b.pageItems} / ${b.pageCursor}`, `${n.pageItems} / ${n.pageCursor}`, '', '≤ 50 / yes'],
    ['  response bytes', b && `${(b.pageBytes / 1024).toFixed(0)} kB`, `${(n.pageBytes / 1024).toFixed(0)} kB`, '', ''],
    ['GET /tasks?status=open&order=urgency, page 41 (baseline: unpaged)', b && `${fmt(b.deep)} ms`, `${fmt(n.deep)} ms`, ratio(b?.deep, n.deep), '≤ 20 ms'],
    [`GET /tasks/next?limit=10, median of ${REPEATS}`, b && `${fmt(b.next)} ms`, `${fmt(n.next)} ms`, ratio(b?.next, n.next), ''],
    [`live first frame, median of ${REPEATS}`, b && `${fmt(b.frameMs)} ms`, `${fmt(n.frameMs)} ms`, ratio(b?.frameMs, n.frameMs), '≤ 200 ms'],
    ['  first frame bytes', b && `${(b.frameBytes / 2 ** 20).toFixed(2)} MB`, `${(n.frameBytes / 2 ** 20).toFixed(3)} MB`, ratio(b?.frameBytes, n.frameBytes), '≤ 1 MB'],
    ['  tasks in it', b && String(b.frameTasks), String(n.frameTasks), '', ''],
    ['daemon RSS before (after GC)', b && `${fmt(b.rssBefore, 0)} MB`, `${fmt(n.rssBefore, 0)} MB`, '', ''],
    [`  with ${STALLED} stalled sockets (after GC)`, b && `${fmt(b.rssPeak, 0)} MB`, `${fmt(n.rssPeak, 0)} MB`, '', ''],
    ['  … and a page, after a change', b && `${fmt(b.rssWith, 0)} MB`, `${fmt(n.rssWith, 0)} MB`, '', ''],
    ['  3 s after they close (no GC)', b && `${fmt(b.rssAfterNoGc, 0)} MB`, `${fmt(n.rssAfterNoGc, 0)} MB`, '', ''],
    ['  after they close (after GC)', b && `${fmt(b.rssAfter, 0)} MB`, `${fmt(n.rssAfter, 0)} MB`, '', '≈ before'],
    ['  a page connecting as a change lands', b && b.healthy, n.healthy, '', 'gets it'],
  ];
  const header = ['measure', 'baseline', 'new', 'base/new', 'target'];
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '-').length)));
  console.log(`\n${header.map((h, i) => h.padEnd(w[i])).join('  ')}`);
  for (const r of rows) console.log(r.map((c, i) => String(c ?? '-').padEnd(w[i])).join('  '));
  console.log(`\n(baseline ${base === null ? 'skipped' : BASELINE_REF}; ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version})`);
} finally {
  if (process.env.BENCH_KEEP === '1') console.log(`kept ${tmp}`);
  else if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
}
