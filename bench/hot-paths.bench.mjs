// The scale bench's slow rows, in process and narrow, so a change to them can be
// measured in minutes instead of the half hour `scale` takes at 1M events. Two builds
// side by side in one run (the baseline: BENCH_BASELINE_DIST=<a built dist/>, or
// BENCH_BASELINE_REF built by the release builder, default the commit before the
// speed work; BENCH_BASELINE=0 skips it), on copies of one cached store of 1M events of
// the mix (seed-store.mjs, seeded with the baseline build; the new build migrates its
// copy on open, outside every timing):
//   next        nextTasks({ limit: 10 }), and within one project   target ≤ 20 ms at 1M events
//   ingest      the first BENCH_INGEST_N (default 100k) events of the store, paged out of
//               it with eventsAfter (1000 a page, as catch-up asks) and ingested into a
//               fresh store, beside a raw INSERT OR IGNORE of the same rows in the same run
//                                                          target ≥ 0.7× raw, ≥ 40k ev/s
//   rebuild     rebuild() of the store the ingest made (BENCH_INGEST_N events)
// Ingest and rebuild also give their CPU time (process.cpuUsage): on a shared machine
// the wall time says as much about the neighbours as about the code.
// Medians of BENCH_REPEATS (default 15) calls for next, BENCH_ROUNDS (default 3) rounds
// for ingest and rebuild, the builds taking turns. Run: npm run bench -- hot-paths
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fmt, median, pct, rawInsert, ROOT, SCALE } from './lib.mjs';
import { buildRelease, missingReason } from '../test/fixtures/previous-release/build-release.mjs';
import { cachedSeedStore } from './seed-store.mjs';

const N_EVENTS = Math.max(10_000, Math.round(1_000_000 * SCALE));
const INGEST_N = Math.min(N_EVENTS, Number(process.env.BENCH_INGEST_N ?? 100_000));
const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BASE_REF = process.env.BENCH_BASELINE_REF ?? 'c6f5dc2';
const RECEIVER = '0000000c-0000-4000-8000-000000000000';
const PAGE = 1000;

/** CPU time of this process (user + system), ms: steadier than wall time on a machine others load. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'clare-bench-hot-'));
const progress = (s) => process.stderr.write(`  … ${s}\n`);

function baseline() {
  if (process.env.BENCH_BASELINE === '0') return null;
  if (process.env.BENCH_BASELINE_DIST !== undefined) return path.resolve(process.env.BENCH_BASELINE_DIST);
  progress(`building the baseline ${BASE_REF} (cached by commit)`);
  const built = buildRelease(BASE_REF);
  if (built === null) throw new Error(missingReason(BASE_REF));
  return path.join(built.dir, 'dist');
}

async function loadBuild(label, dist) {
  const imp = (f) => import(pathToFileURL(path.join(dist, f)).href);
  const [db, hlc, store, rebuild, tasks] = await Promise.all([imp('core/db.js'), imp('core/hlc.js'), imp('core/store.js'), imp('core/rebuild.js'), imp('core/service/tasks.js')]);
  return { label, dist, openDb: db.openDb, HybridClock: hlc.HybridClock, store, rebuild: rebuild.rebuild, nextTasks: tasks.nextTasks, next: { all: [], project: [] }, ingest: [], ingestCpu: [], rebuilds: [], rebuildCpu: [] };
}

/** The first `n` events of `src` in catch-up pages, as the wire carries them (read with the new build). */
function pagesOf(b, src, n) {
  const pages = [];
  const held = {};
  let total = 0;
  while (total < n) {
    const page = b.store.eventsAfter(src, held, Math.min(PAGE, n - total));
    if (page.length === 0) break;
    for (const e of page) if (held[e.origin] === undefined || e.hlc > held[e.origin]) held[e.origin] = e.hlc;
    pages.push(page);
    total += page.length;
  }
  return pages;
}

try {
  const base = baseline();
  const store = path.join(tmp, 'store.db');
  progress(`store of ${N_EVENTS} events (cached by generator and build)`);
  const seed = await cachedSeedStore(store, N_EVENTS, base === null ? {} : { dist: base });
  console.log(`store: ${N_EVENTS.toLocaleString('en-US')} events, ${seed.tasks.toLocaleString('en-US')} tasks${seed.cached ? ' (cached)' : ''}`);
  const builds = [await loadBuild('new', path.join(ROOT, 'dist'))];
  if (base !== null) builds.unshift(await loadBuild('baseline', base));
  for (const b of builds) {
    const f = path.join(tmp, `${b.label}.db`);
    copyFileSync(store, f);
    b.db = b.openDb(f);
    // Page cache warm for both before timing.
    b.nextTasks({ db: b.db }, { limit: 10 });
  }
  const N = builds.at(-1);
  const project = N.db.prepare("SELECT t.project_id FROM task_state s JOIN tasks t ON t.id = s.task_id WHERE s.ready = 1 GROUP BY t.project_id ORDER BY count(*) DESC LIMIT 1").pluck().get();

  progress('next');
  for (let i = 0; i < REPEATS; i++) {
    for (const b of builds) {
      let t0 = performance.now();
      const all = b.nextTasks({ db: b.db }, { limit: 10 }, 1_900_000_000_000);
      b.next.all.push(performance.now() - t0);
      t0 = performance.now();
      b.nextTasks({ db: b.db }, { limit: 10, project }, 1_900_000_000_000);
      b.next.project.push(performance.now() - t0);
      b.nextIds = all.map((t) => t.task.id).join(',');
    }
  }
  if (builds.length === 2 && builds[0].nextIds !== builds[1].nextIds) throw new Error(`the builds rank differently:\n${builds[0].nextIds}\n${builds[1].nextIds}`);

  progress(`ingest: paging out ${INGEST_N} events`);
  const pages = pagesOf(N, N.db, INGEST_N);
  const flat = pages.flat();
  for (const b of builds) b.db.close();
  const raw = [];
  for (let r = 0; r < ROUNDS; r++) {
    progress(`round ${r + 1}/${ROUNDS}: raw insert, ingest and rebuild with each build`);
    raw.push(rawInsert(tmp, flat));
    // The builds take turns going first: the second one of a round runs on a warmer (or busier) machine.
    for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
      const f = path.join(tmp, `ingest-${b.label}.db`);
      const db = b.openDb(f);
      const clock = new b.HybridClock({ machine: RECEIVER });
      const t0 = performance.now();
      const c0 = cpuMs();
      for (const p of pages) b.store.ingest(db, clock, p);
      b.ingest.push((flat.length * 1000) / (performance.now() - t0));
      b.ingestCpu.push(cpuMs() - c0);
      const t1 = performance.now();
      const c1 = cpuMs();
      b.rebuild(db);
      b.rebuilds.push(performance.now() - t1);
      b.rebuildCpu.push(cpuMs() - c1);
      db.close();
      for (const s of ['', '-wal', '-shm', '-own']) rmSync(f + s, { force: true });
    }
  }

  const rows = [];
  const B = builds.length === 2 ? builds[0] : null;
  const row = (what, f, target) => rows.push([what, B === null ? '-' : f(B), f(N), target]);
  row('nextTasks limit 10, p50 / p99', (b) => `${fmt(median(b.next.all))} / ${fmt(pct(b.next.all, 99))} ms`, '≤ 20 ms');
  row('nextTasks limit 10, one project, p50 / p99', (b) => `${fmt(median(b.next.project))} / ${fmt(pct(b.next.project, 99))} ms`, '≤ 20 ms');
  const mRaw = median(raw);
  row(`ingest of ${INGEST_N.toLocaleString('en-US')} events in pages of ${PAGE} (raw: ${fmt(mRaw / 1000)}k ev/s)`, (b) => `${fmt(median(b.ingest) / 1000)}k ev/s = ${fmt(median(b.ingest) / mRaw, 2)}× raw [${b.ingest.map((x) => fmt(x / 1000)).join(' ')}]`, '≥ 40k ev/s, ≥ 0.7× raw');
  row('  its CPU time (user + system)', (b) => `${fmt(median(b.ingestCpu) / 1000, 2)} s [${b.ingestCpu.map((x) => fmt(x / 1000, 2)).join(' ')}]`, '');
  row(`rebuild of ${INGEST_N.toLocaleString('en-US')} events`, (b) => `${fmt(median(b.rebuilds) / 1000, 2)} s [${b.rebuilds.map((x) => fmt(x / 1000, 2)).join(' ')}]`, '≤ 1 s (10 s at 1M)');
  row('  its CPU time (user + system)', (b) => `${fmt(median(b.rebuildCpu) / 1000, 2)} s [${b.rebuildCpu.map((x) => fmt(x / 1000, 2)).join(' ')}]`, '');
  const header = ['measure', `baseline ${process.env.BENCH_BASELINE_DIST ?? BASE_REF}`, 'new', 'target'];
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  console.log(`\n${header.map((h, i) => h.padEnd(w[i])).join('  ')}`);
  for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(w[i])).join('  '));
  console.log(`\nmedians; ${REPEATS} calls per build for next, ${ROUNDS} rounds for ingest and rebuild, the builds taking turns.`);
  console.log(`(${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version})`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
