/**
 * `npm run torture`: a fault campaign against a real mesh of Clare daemons.
 *
 * Set-up: N daemons on loopback (the built bundle, own XDG dirs and port, the
 * rclaude stand-in over real tmux with two sessions per host), full mesh, every
 * dial going through a WebSocket-aware proxy (ws-proxy.ts), every daemon under
 * libfaketime. Optionally a "legacy" daemon that joins on the previous release.
 * Then writers call every daemon's API at a steady rate while the nemesis
 * (nemesis.ts) plays the seeded schedule (schedule.ts). At the end everything is
 * healed, the mesh is given a deadline to quiesce, and the checks run
 * (checks.ts, on the final databases read by final-state.ts).
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../../test/helpers/daemon.js';
import { loadScaleNow, waitFor } from '../../test/helpers/wait-for.js';
import { seededRandom } from '../../test/helpers/replication-harness.js';
import { checkAcknowledged, checkDeliveries, linkProblems, percentiles, type CheckResult, type LinkState } from './checks.js';
import { diagnose, missingMatrix } from './diagnosis.js';
import { explainDifferences, loadSnapshot, type Explained, type Snapshot } from './final-state.js';
import { Nemesis, type FaultRecord } from './nemesis.js';
import { ConvergenceProbe, waitQuiescent } from './settling.js';
import { CURRENT_CLI, findFaketime, listItems, runCli, TortureNode } from './node.js';
import { previousRelease, type PreviousRelease } from './previous-release.js';
import { buildSchedule, describeEpisode, type FaultKind, type Schedule } from './schedule.js';
import { Writer, type Ack, type SharedWorld, type WriteStats } from './workload.js';
import { WsProxy } from './ws-proxy.js';

export interface CampaignOptions {
  readonly seed: number;
  readonly durationS: number;
  readonly daemons: number;
  /** Writes per second per daemon. */
  readonly opsPerSecond: number;
  /** `[mesh] max_clock_skew_ms` of every daemon (small, so clock faults heal within a run). */
  readonly maxSkewMs: number;
  readonly pollIntervalS: number;
  /** After the final heal, give up on quiescence when no daemon's event count has grown for this long. */
  readonly quiesceTimeoutS: number;
  /** … and in any case this long after the final heal. */
  readonly quiesceCapS: number;
  /** Largest resident set a daemon may reach. */
  readonly maxRssMb: number;
  /** Run the previous release as a peer (needs git history). */
  readonly previous: boolean;
  /** Keep the work dir (databases, logs) even when every check passed. */
  readonly keep: boolean;
  /** When the mesh does not quiesce, keep it running this long (s) for a person to inspect. */
  readonly lingerS: number;
  /** Only these fault kinds (all when absent). */
  readonly only?: readonly FaultKind[];
  readonly log: (line: string) => void;
}

export const DEFAULTS: Omit<CampaignOptions, 'seed' | 'log'> = {
  durationS: 60, daemons: 5, opsPerSecond: 3, maxSkewMs: 2000, pollIntervalS: 2, quiesceTimeoutS: 120, quiesceCapS: 1800, maxRssMb: 512, previous: true, keep: false, lingerS: 0,
};

export interface CampaignReport {
  readonly ok: boolean;
  readonly seed: number;
  readonly duration_s: number;
  readonly daemons: number;
  readonly legacy: string | null;
  readonly acknowledged: number;
  readonly lost: number;
  readonly lost_everywhere: number;
  readonly lost_with_disk: number;
  readonly converged: boolean;
  readonly digests_equal: boolean;
  readonly faults: Record<string, number>;
  /** After each track-A heal until every event held anywhere at the heal is everywhere; `interrupted`: the next fault came first (not timed). */
  readonly converge_ms: { p50: number | null; p99: number | null; n: number; censored: number; interrupted: number };
  readonly quiesce_ms: number | null;
  readonly peak_rss_mb: Record<string, number>;
  readonly checks: readonly CheckResult[];
  readonly previous_release: { commit: string; available: boolean; reason: string | null };
  readonly skipped_faults: Record<string, string>;
  readonly schedule: readonly string[];
  readonly fault_log: readonly FaultRecord[];
  readonly http: WriteStats['answers'];
  readonly server_errors: WriteStats['serverErrors'];
  readonly digests: Record<string, string>;
  /** Per daemon, per origin: events held elsewhere that it lacks. */
  readonly missing_events: Record<string, Record<string, number>>;
  /** Where the failures point, read against the fault log. */
  readonly diagnosis: readonly string[];
  readonly differences: { count: number; shortest: readonly Explained[] };
  readonly rss_series: Record<string, readonly [number, number][]>;
  readonly deliveries: Record<string, number>;
  readonly proxies: Record<string, unknown>;
  /** Every daemon's peer list (GET /status) at the end, and the true watermarks (GET /sync/state). */
  readonly final_links: readonly LinkState[];
  readonly final_watermarks: Record<string, Record<string, string>>;
  readonly work_dir: string;
  readonly reproduce: string;
}

const SESSIONS = ['a1', 'a2'];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs one campaign; never throws for a failed check (the report says), only for a broken set-up. */
export async function runCampaign(opts: Partial<CampaignOptions> & Pick<CampaignOptions, 'seed' | 'log'>): Promise<CampaignReport> {
  const o: CampaignOptions = { ...DEFAULTS, ...opts };
  const log = o.log;
  const root = mkdtempSync(join(tmpdir(), `clare-torture-${o.seed}-`));
  const reproduce = `npm run torture -- --seed ${o.seed} --duration ${o.durationS} --daemons ${o.daemons}${o.only === undefined ? '' : ` --only ${o.only.join(',')}`}`;
  log(`torture: seed ${o.seed}, ${o.daemons} daemons, ${o.durationS} s, ${o.opsPerSecond} writes/s per daemon; work dir ${root}`);

  const prev: PreviousRelease = o.previous ? previousRelease() : { commit: '-', cli: null, reason: 'disabled (--no-previous)', buildMs: 0 };
  if (prev.cli === null) log(`\n!!! OLD-VERSION FAULT SKIPPED: ${prev.reason}\n`);
  else if (prev.buildMs > 0) log(`previous release ${prev.commit.slice(0, 12)} built in ${(prev.buildMs / 1000).toFixed(1)} s`);
  const faketime = findFaketime();
  if (faketime === null) log('\n!!! CLOCK FAULTS SKIPPED: libfaketime is not installed (scripts/install-system-deps.sh installs it)\n');

  const names = Array.from({ length: o.daemons }, (_, i) => `t${i}`);
  const legacyName = prev.cli === null ? null : 'tl';
  const allNames = legacyName === null ? names : [...names, legacyName];
  const token = randomBytes(16).toString('hex');
  const nodes = new Map<string, TortureNode>();
  for (const name of allNames) {
    nodes.set(name, new TortureNode({ name, root, port: await freePort(), token, maxSkewMs: o.maxSkewMs, pollIntervalS: o.pollIntervalS, faketime }));
  }
  const main = names.map((n) => nodes.get(n)!);
  const legacy = legacyName === null ? null : nodes.get(legacyName)!;
  const proxies = new Map<string, WsProxy>();
  let k = 0;
  for (const a of allNames) {
    for (const b of allNames) {
      if (a === b) continue;
      const p = new WsProxy({ targetPort: nodes.get(b)!.port, random: seededRandom(o.seed * 7919 + ++k), label: `${a}>${b}` });
      await p.listen();
      proxies.set(`${a}>${b}`, p);
    }
  }

  const schedule: Schedule = buildSchedule({
    seed: o.seed, durationMs: o.durationS * 1000, nodes: names, legacy: legacyName, maxSkewMs: o.maxSkewMs, clock: faketime !== null,
    ...(o.only === undefined ? {} : { only: o.only }),
  });
  const skipped: Record<string, string> = { ...schedule.skipped };
  log('schedule:');
  for (const e of schedule.episodes) log(`  ${describeEpisode(e)}`);
  for (const [kind, why] of Object.entries(skipped)) log(`  (no ${kind}: ${why})`);

  const stats: WriteStats = { answers: {}, serverErrors: [], skipped: 0 };
  const ledger: Ack[] = [];
  const writers = new Map<string, Writer>();
  const rssPeak: Record<string, number> = {};
  const rssSeries: Record<string, [number, number][]> = {};
  let t0 = Date.now();
  let nemesis: Nemesis | null = null;

  try {
    // ---- set-up --------------------------------------------------------
    for (const n of allNames) {
      const node = nodes.get(n)!;
      const peers = allNames.filter((x) => x !== n).map((x) => `http://127.0.0.1:${proxies.get(`${n}>${x}`)!.port}`);
      node.init(peers, n === legacyName ? prev.cli! : CURRENT_CLI);
    }
    for (const n of main) n.spawnSessions(SESSIONS);
    await Promise.all(main.map((n) => n.start(CURRENT_CLI)));
    const first = main[0]!;
    const must = async <T>(method: string, path: string, body: unknown): Promise<T> => {
      const r = await first.api<T>(method, path, body);
      if (r.status < 200 || r.status >= 300) throw new Error(`set-up ${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body!;
    };
    const groups: Record<string, string[]> = { all: ['*:*'], ones: ['*:a1'], pair: [`${names[0]}:*`, `${names[1] ?? names[0]}:*`] };
    for (const [g, members] of Object.entries(groups)) await must('POST', '/groups', { name: g, members });
    const projects = ['alpha', 'beta'];
    for (const p of projects) await must('POST', '/projects', { name: p });
    const hot: string[] = [];
    for (let i = 0; i < 3; i++) hot.push((await must<{ id: string }>('POST', '/tasks', { project: projects[i % 2], title: `hot task ${i}` })).id);
    const sessions = main.flatMap((n) => SESSIONS.map((s) => `${n.name}:${s}`));
    await waitFor('every daemon to know the shared tasks and every session', async () => {
      for (const n of main) {
        for (const id of hot) if ((await n.api('GET', `/tasks/${id}`)).status !== 200) return false;
        const s = await n.api('GET', '/sessions');
        if (s.status !== 200 || listItems(s.body).length < sessions.length) return false;
      }
      return true;
    }, 90_000 * loadScaleNow(), 250);
    const world: SharedWorld = { projects, hotTasks: hot, sessions, groups: Object.keys(groups) };
    for (const [i, n] of [...nodes.values()].entries()) {
      writers.set(n.name, new Writer(n, seededRandom(o.seed * 1000 + i + 1), world, ledger, stats, o.opsPerSecond, `tz${o.seed}`));
    }

    // ---- the run ---------------------------------------------------------
    const running = (): TortureNode[] => [...nodes.values()].filter((n) => n.running());
    const convergence = new ConvergenceProbe(running, () => t0, log);
    t0 = Date.now();
    nemesis = new Nemesis({
      nodes: new Map(main.map((n) => [n.name, n])), proxies, legacy, previousCli: prev.cli, currentCli: CURRENT_CLI, t0, log,
      onHeal: (at, kind) => convergence.heal(at, kind),
      onInject: () => convergence.interrupt(),
      onNodeUp: (n) => writers.get(n.name)?.start(),
      onNodeDown: () => undefined,
    }, seededRandom(o.seed * 31 + 7));
    nemesis.start(schedule.episodes);
    for (const n of main) writers.get(n.name)!.start();
    const sampler = setInterval(() => {
      for (const n of nodes.values()) {
        const mb = n.rssMb();
        if (mb === null) continue;
        rssPeak[n.name] = Math.max(rssPeak[n.name] ?? 0, mb);
        (rssSeries[n.name] ??= []).push([Date.now() - t0, Math.round(mb)]);
      }
    }, 1000);
    try {
      await sleep(o.durationS * 1000);
      // Episodes run one after another: on a loaded machine the last ones start late.
      // The writers go on until they have run (at most twice the duration again, and 5 minutes).
      if (!(await nemesis.scheduleRun(0))) {
        log(`t+${o.durationS}s: the schedule is behind; writes go on until its last episodes have run`);
        if (!(await nemesis.scheduleRun(Math.min(o.durationS * 2, 300) * 1000))) log(`t+${Math.round((Date.now() - t0) / 1000)}s: the schedule did not finish; cancelling what has not started`);
      }
      log(`t+${Math.round((Date.now() - t0) / 1000)}s: writers stop; healing everything`);
      nemesis.cancel();
      await Promise.all([...writers.values()].map((w) => w.stop()));
      await nemesis.stop();
      const finalNodes = legacy !== null && nemesis.log.some((f) => f.kind === 'old-version') ? [...main, legacy] : main;
      await nemesis.healAll(finalNodes);
      await convergence.end();
      const healAt = Date.now();
      const members = finalNodes;
      const q = await waitQuiescent(members, healAt, { idleMs: o.quiesceTimeoutS * 1000, capAt: healAt + o.quiesceCapS * 1000, stableMs: Math.max(3000, o.pollIntervalS * 2000), log });
      const { states: last, links } = q;
      const quiesceMs = q.ms;
      const ids = new Map(members.map((n) => [n.name, n.machineId]));
      clearInterval(sampler);
      if (quiesceMs === null && o.lingerS > 0) {
        log(`not quiesced: the mesh stays up ${o.lingerS} s for inspection (token ${token}):`);
        for (const n of members) log(`  ${n.name} ${n.url}  (curl -H 'authorization: Bearer ${token}' ${n.url}/api/v1/status)`);
        await sleep(o.lingerS * 1000);
      }
      log(quiesceMs === null ? `mesh did NOT quiesce: ${q.why ?? ''}` : `mesh quiesced ${quiesceMs} ms after the final heal`);
      const liveDigests: Record<string, string> = {};
      members.forEach((n, i) => {
        liveDigests[n.name] = last[i]?.digest ?? 'unreachable';
      });

      // ---- stop, copy, rebuild, analyse -----------------------------------
      await Promise.all(members.map((n) => n.stop()));
      const snaps: Snapshot[] = [];
      const rebuildProblems: string[] = [];
      const storedDigests: Record<string, string> = {};
      for (const n of members) {
        const analysis = join(root, 'final', n.name, 'analysis.db');
        const rebuildDir = join(root, 'final', n.name, 'rebuild');
        const rebuildDb = join(rebuildDir, 'clare', 'clare.db');
        mkdirSync(dirname(rebuildDb), { recursive: true });
        for (const [dst, suffixes] of [[analysis, ['', '-wal']], [rebuildDb, ['', '-wal']]] as const) {
          for (const s of suffixes) if (existsSync(`${n.dbFile}${s}`)) copyFileSync(`${n.dbFile}${s}`, `${dst}${s}`);
        }
        snaps.push(loadSnapshot(n.name, n.machineId, analysis));
        const out = runCli(CURRENT_CLI, ['rebuild', '--json'], { ...n.env, XDG_DATA_HOME: rebuildDir });
        if (out.code !== 0) {
          rebuildProblems.push(`${n.name}: clare rebuild failed: ${out.stderr.slice(0, 300)}`);
          continue;
        }
        const res = JSON.parse(out.stdout) as { digest_before: string; digest_after: string; changed: boolean; events: number };
        storedDigests[n.name] = res.digest_before;
        if (res.changed) rebuildProblems.push(`${n.name}: projections differ from their own rebuild (${res.digest_before.slice(0, 12)} → ${res.digest_after.slice(0, 12)} over ${res.events} events)`);
      }

      const checks: CheckResult[] = [];
      const acks = checkAcknowledged(ledger, snaps, nemesis.log, t0);
      checks.push(acks.check);
      const stored = Object.values(storedDigests);
      const digestsEqual = Object.values(liveDigests).every((d) => d === liveDigests[members[0]!.name]) && stored.length === members.length && stored.every((d) => d === stored[0]);
      const differences = explainDifferences(snaps);
      checks.push({
        name: 'projection digests equal', ok: digestsEqual,
        summary: digestsEqual ? `all ${members.length} equal (${stored[0]?.slice(0, 12)})` : `differ: ${Object.entries(storedDigests).map(([n, d]) => `${n}=${d.slice(0, 8)}`).join(' ')}; ${differences.count} differing rows`,
        ...(digestsEqual ? {} : { evidence: differences.shortest.map((x) => ({ table: x.row.table, key: x.row.key, values: x.row.values })) }),
        ...(differences.shortest[0] === undefined ? {} : { history: differences.shortest[0].history }),
      });
      checks.push({ name: 'mesh quiesced (digests equal and stable, links up) while making progress', ok: quiesceMs !== null, summary: quiesceMs === null ? `not quiet: ${q.why ?? ''}` : `${quiesceMs} ms after the final heal` });
      checks.push({ name: 'each store equals its own rebuild', ok: rebuildProblems.length === 0, summary: rebuildProblems.length === 0 ? `${members.length} stores rebuilt, none changed` : rebuildProblems.join('; ') });
      const lp = linkProblems(links, ids);
      checks.push({ name: 'no link stuck (connected, not faulty, lag 0)', ok: lp.length === 0, summary: lp.length === 0 ? `${members.length * (members.length - 1)} links up with lag 0` : `${lp.length} problems: ${lp.slice(0, 4).join('; ')}`, ...(lp.length === 0 ? {} : { evidence: lp }) });
      const sends = new Map(main.map((n) => [n.name, n.sends()]));
      const diskHosts = new Set(nemesis.log.filter((f) => f.kind === 'wipe' || f.kind === 'restore').flatMap((f) => f.nodes));
      const del = checkDeliveries(ledger, groups, sessions, sends, snaps, acks.excused, diskHosts);
      checks.push(del.check);
      const overRss = Object.entries(rssPeak).filter(([, mb]) => mb > o.maxRssMb);
      checks.push({ name: `RSS bounded (≤ ${o.maxRssMb} MB)`, ok: overRss.length === 0, summary: Object.entries(rssPeak).map(([n, mb]) => `${n} ${Math.round(mb)}`).join(', ') + ' MB peak' });
      const internal = stats.serverErrors.filter((e) => e.status === 500 || e.code === 'CLARE_INTERNAL');
      checks.push({ name: 'no internal errors (HTTP 500) from the API', ok: internal.length === 0, summary: `${stats.serverErrors.length} 5xx answers, ${internal.length} internal`, ...(internal.length === 0 ? {} : { evidence: internal.slice(0, 10) }) });

      const faults: Record<string, number> = {};
      for (const f of nemesis.log) faults[f.kind] = (faults[f.kind] ?? 0) + 1;
      const ok = checks.every((c) => c.ok);
      const proxyCounters: Record<string, unknown> = {};
      for (const [key, p] of proxies) proxyCounters[key] = p.counters;
      const report: CampaignReport = {
        ok, seed: o.seed, duration_s: o.durationS, daemons: o.daemons, legacy: legacyName,
        acknowledged: acks.acknowledged, lost: acks.lost, lost_everywhere: acks.lost_everywhere, lost_with_disk: acks.lost_with_disk,
        converged: quiesceMs !== null, digests_equal: digestsEqual, faults,
        converge_ms: { ...percentiles(convergence.times), censored: convergence.censored, interrupted: convergence.interrupted },
        quiesce_ms: quiesceMs,
        peak_rss_mb: Object.fromEntries(Object.entries(rssPeak).map(([n, mb]) => [n, Math.round(mb)])),
        checks,
        previous_release: { commit: prev.commit, available: prev.cli !== null, reason: prev.reason },
        skipped_faults: skipped,
        schedule: schedule.episodes.map(describeEpisode),
        fault_log: nemesis.log,
        http: stats.answers, server_errors: stats.serverErrors,
        digests: storedDigests, missing_events: missingMatrix(snaps), diagnosis: diagnose(snaps, nemesis.log, del.problems), differences,
        rss_series: rssSeries,
        deliveries: { broadcasts: del.broadcasts, copies_expected: del.copies_expected, typed_once: del.typed_once, duplicates: del.duplicates, missing: del.missing, failed_receipts: del.failed_receipts, assignment_duplicates: del.assignment_duplicates, duplicates_with_disk: del.duplicates_with_disk },
        proxies: proxyCounters,
        final_links: links,
        final_watermarks: Object.fromEntries(members.map((n, i) => [n.name, last[i]?.watermarks ?? {}])),
        work_dir: root,
        reproduce,
      };
      return report;
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await Promise.all([...writers.values()].map((w) => w.stop()));
    await nemesis?.stop();
    await Promise.all([...nodes.values()].map((n) => n.stop(5000)));
    for (const n of nodes.values()) n.killSessions();
    await Promise.all([...proxies.values()].map((p) => p.close()));
  }
}

/** Writes the report, and removes the work dir unless asked to keep it or a check failed. */
export function finishReport(r: CampaignReport, file: string | null, keep: boolean): void {
  if (file !== null) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  }
  if (r.ok && !keep) rmSync(r.work_dir, { recursive: true, force: true });
}
