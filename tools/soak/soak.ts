/**
 * `npm run soak`: a long steady load on a six-daemon mesh, watching for what
 * only time shows — memory, descriptors or WAL that keep growing, an event loop
 * that slows down, dashboards that fall behind.
 *
 * Six daemons on loopback (desk, build, gpu, ci, mini and a laptop), each with
 * five stand-in sessions (30 in all) polled every 10 s; every session writes once
 * a second through its host's API (progress notes, tasks, status changes); three
 * dashboards in a real Chromium follow three daemons' Activity views; the laptop
 * drops off the mesh for a minute every few minutes (its links cut at the proxies,
 * as a lid closing would; it keeps taking local writes). Every sample interval it
 * records per daemon RSS, open descriptors, WAL size, event-loop delay p99 (from
 * GET /metrics when the daemon has it) and the latency of GET /api/v1/status, and
 * per dashboard the time from a write on another daemon to its text on screen.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, type DashboardPage, type TestBrowser } from '../../test/helpers/browser.js';
import { freePort } from '../../test/helpers/daemon.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { seededRandom } from '../../test/helpers/replication-harness.js';
import { percentiles } from '../torture/checks.js';
import { CURRENT_CLI, listItems, TortureNode } from '../torture/node.js';
import { WsProxy } from '../torture/ws-proxy.js';
import { growth, type Growth } from './growth.js';
import { renderSvg, type Panel } from './plot.js';

export interface SoakOptions {
  readonly minutes: number;
  readonly sessionsPerHost: number;
  /** Writes per second per session. */
  readonly rate: number;
  readonly dashboards: number;
  /** The laptop goes offline every this many minutes, for `offlineS`. */
  readonly offlineEveryMin: number;
  readonly offlineS: number;
  readonly sampleS: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export const SOAK_DEFAULTS: Omit<SoakOptions, 'log'> = {
  minutes: 10, sessionsPerHost: 5, rate: 1, dashboards: 3, offlineEveryMin: 3, offlineS: 60, sampleS: 10, seed: 1,
};

export interface Sample {
  readonly t: number;
  readonly node: string;
  readonly rss_mb: number | null;
  readonly fds: number | null;
  readonly wal_mb: number | null;
  readonly loop_p99_ms: number | null;
  readonly status_ms: number | null;
  readonly events: number | null;
}

export interface SoakReport {
  readonly ok: boolean;
  readonly minutes: number;
  readonly daemons: readonly string[];
  readonly sessions: number;
  readonly writes: { readonly ok: number; readonly failed: number; readonly per_s: number };
  readonly loop_delay_source: string;
  readonly samples: readonly Sample[];
  readonly dashboard_latency: readonly { t: number; dashboard: string; ms: number | null }[];
  readonly dashboard_latency_ms: { p50: number | null; p99: number | null; n: number; timeouts: number };
  readonly offline_windows: readonly (readonly [number, number])[];
  readonly growth: Record<string, { rss_mb: Growth; fds: Growth; wal_mb: Growth }>;
  readonly peak: Record<string, { rss_mb: number; fds: number; wal_mb: number; loop_p99_ms: number | null; status_ms_p99: number | null }>;
  readonly converged_at_end: boolean;
  readonly failures: readonly string[];
  readonly svg: string;
}

const HOSTS = ['desk', 'build', 'gpu', 'ci', 'mini', 'laptop'];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function fdCount(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function fileMb(f: string): number | null {
  try {
    return statSync(f).size / (1024 * 1024);
  } catch {
    return 0;
  }
}

/** Event-loop delay p99 (ms) from the daemon's Prometheus text, or null when it has none. */
export function loopP99FromMetrics(text: string): number | null {
  const m = /^clare_nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)$/m.exec(text);
  return m === null ? null : Number(m[1]) * 1000;
}

/**
 * Runs in the dashboard page (as source text: this file has no DOM types):
 * resolves with Date.now() once the marker is in the page's text — light DOM and
 * every open shadow root — or null after the timeout.
 */
const WATCH_FOR = `(async (marker, timeoutMs) => {
  const text = (root) => {
    let out = root.textContent ?? '';
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) out += text(el.shadowRoot);
    return out;
  };
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (text(document).includes(marker)) return Date.now();
    if (Date.now() > until) return null;
    await new Promise((r) => setTimeout(r, 25));
  }
})`;

export async function runSoak(opts: Partial<SoakOptions> & Pick<SoakOptions, 'log'>): Promise<SoakReport> {
  const o: SoakOptions = { ...SOAK_DEFAULTS, ...opts };
  const log = o.log;
  const root = mkdtempSync(join(tmpdir(), 'clare-soak-'));
  const token = `soak${Date.now().toString(16)}abcdef0123456789`;
  const rnd = seededRandom(o.seed);
  const nodes: TortureNode[] = [];
  for (const h of HOSTS) nodes.push(new TortureNode({ name: h, root, port: await freePort(), token, maxSkewMs: 60_000, pollIntervalS: 10, faketime: null }));
  const laptop = nodes[nodes.length - 1]!;
  const proxies = new Map<string, WsProxy>();
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b) continue;
      const p = new WsProxy({ targetPort: b.port, random: rnd, label: `${a.name}>${b.name}` });
      await p.listen();
      proxies.set(`${a.name}>${b.name}`, p);
    }
  }
  const sessionNames = Array.from({ length: o.sessionsPerHost }, (_, i) => `s${i + 1}`);
  let browser: TestBrowser | null = null;
  const stopFlag = { stop: false };
  const pending = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): void => {
    const q = p.catch(() => undefined).finally(() => pending.delete(q));
    pending.add(q);
  };
  log(`soak: ${HOSTS.length} daemons, ${HOSTS.length * o.sessionsPerHost} sessions, ${o.rate} write/s per session, ${o.dashboards} dashboards, ${o.minutes} min; work dir ${root}`);
  try {
    for (const n of nodes) n.init(nodes.filter((x) => x !== n).map((x) => `http://127.0.0.1:${proxies.get(`${n.name}>${x.name}`)!.port}`), CURRENT_CLI);
    for (const n of nodes) n.spawnSessions(sessionNames);
    await Promise.all(nodes.map((n) => n.start(CURRENT_CLI)));
    const desk = nodes[0]!;
    const proj = await desk.api<{ id: string }>('POST', '/projects', { name: 'soak' });
    if (proj.status !== 201) throw new Error(`set-up: POST /projects answered ${proj.status}`);
    await waitFor('every daemon to see every session', async () => {
      for (const n of nodes) {
        const s = await n.api('GET', '/sessions');
        if (listItems(s.body).length < nodes.length * o.sessionsPerHost || (await n.api('GET', '/projects/soak')).status !== 200) return false;
      }
      return true;
    }, 120_000, 500);

    browser = await launchBrowser();
    const viewers = nodes.slice(0, Math.min(o.dashboards, nodes.length - 1));
    const pages: { node: string; page: DashboardPage }[] = [];
    for (const v of viewers) {
      const page = await browser.open(`${v.url}/`);
      await page.view('Activity');
      pages.push({ node: v.name, page });
    }
    log(`dashboards live on ${viewers.map((v) => v.name).join(', ')}`);

    // Probes are written where no dashboard looks (and not on the laptop), so they cross the mesh.
    const others = nodes.filter((n) => !viewers.includes(n) && n !== laptop);
    const probeWriters = others.length > 0 ? others : [laptop];
    const t0 = Date.now();
    const endAt = t0 + o.minutes * 60_000;
    const writes = { ok: 0, failed: 0 };
    const own = new Map<string, string[]>();
    // Writers: one loop per session, a write per 1/rate s through its host's daemon.
    for (const n of nodes) {
      for (const s of sessionNames) {
        const key = `${n.name}:${s}`;
        const tasks: string[] = [];
        own.set(key, tasks);
        let i = 0;
        const loop = async (): Promise<void> => {
          await sleep(rnd() * 1000);
          while (!stopFlag.stop && Date.now() < endAt) {
            const started = Date.now();
            i += 1;
            const r = rnd();
            let res;
            if (r < 0.7 || (tasks.length === 0 && r >= 0.9)) res = await n.api('POST', '/updates', { text: `${key} note ${i}`, session: key }, 10_000);
            else if (r < 0.9) {
              res = await n.api<{ id: string }>('POST', '/tasks', { project: 'soak', title: `${key} task ${i}` }, 10_000);
              if (res.status === 201 && res.body !== null) {
                tasks.push(res.body.id);
                if (tasks.length > 20) tasks.shift();
              }
            } else res = await n.api('PATCH', `/tasks/${tasks[Math.floor(rnd() * tasks.length)]!}`, { status: (['open', 'in_progress', 'blocked', 'done'] as const)[Math.floor(rnd() * 4)] }, 10_000);
            if (res.status >= 200 && res.status < 300) writes.ok += 1;
            else writes.failed += 1;
            await sleep(Math.max(0, 1000 / o.rate - (Date.now() - started)));
          }
        };
        track(loop());
      }
    }

    // The laptop's outages.
    const offline: [number, number][] = [];
    track((async () => {
      let k = 1;
      for (;;) {
        const at = t0 + k * o.offlineEveryMin * 60_000 - o.offlineS * 500;
        if (at + o.offlineS * 1000 > endAt) return;
        await sleep(at - Date.now());
        if (stopFlag.stop) return;
        const links = [...proxies.values()].filter((p) => p.label.includes(laptop.name));
        for (const p of links) p.setPartition('reset');
        const from = Date.now() - t0;
        log(`t+${(from / 60_000).toFixed(1)}m laptop offline for ${o.offlineS} s`);
        await sleep(o.offlineS * 1000);
        for (const p of links) p.setPartition('none');
        offline.push([from, Date.now() - t0]);
        k += 1;
      }
    })());

    // Samples and probes.
    const samples: Sample[] = [];
    const latency: { t: number; dashboard: string; ms: number | null }[] = [];
    let loopSource = 'GET /metrics (clare_nodejs_eventloop_lag_p99_seconds)';
    let probe = 0;
    while (Date.now() < endAt) {
      const tick = Date.now();
      const t = tick - t0;
      for (const n of nodes) {
        const s0 = Date.now();
        const st = await n.api<{ counts: { events: number } }>('GET', '/status', undefined, 10_000);
        const statusMs = st.status === 200 ? Date.now() - s0 : null;
        let loop: number | null = null;
        try {
          const m = await fetch(`${n.url}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
          if (m.ok) loop = loopP99FromMetrics(await m.text());
        } catch {
          loop = null;
        }
        if (loop === null) loopSource = 'not exposed by this daemon (no GET /metrics): GET /api/v1/status latency is the outside measure';
        samples.push({
          t, node: n.name, rss_mb: n.rssMb(), fds: fdCount(n.pid), wal_mb: fileMb(`${n.dbFile}-wal`), loop_p99_ms: loop, status_ms: statusMs,
          events: st.body?.counts.events ?? null,
        });
      }
      // Write→dashboard: a note on a daemon no dashboard follows, timed until each page shows it.
      probe += 1;
      const marker = `probe-${probe}-${Date.now().toString(36)}`;
      const writer = probeWriters[probe % probeWriters.length]!;
      // Each page watches for the text itself (polling every 25 ms through the shadow roots),
      // started before the write, so the figure is not the test driver's polling interval.
      const seen = pages.map((p) => p.page.page.evaluate<number | null>(`${WATCH_FOR}(${JSON.stringify(marker)}, 30000)`).catch(() => null));
      const sent = Date.now();
      const w = await writer.api('POST', '/updates', { text: marker }, 10_000);
      const at = await Promise.all(seen);
      pages.forEach((p, i) => {
        const shown = at[i] ?? null;
        latency.push({ t, dashboard: p.node, ms: w.status === 201 && shown !== null ? Math.max(0, shown - sent) : null });
      });
      const last = samples.slice(-nodes.length);
      log(`t+${(t / 60_000).toFixed(1)}m events ${last.map((s) => s.events ?? '-').join('/')} rss ${last.map((s) => Math.round(s.rss_mb ?? 0)).join('/')} MB fds ${last.map((s) => s.fds ?? '-').join('/')} dash ${latency.slice(-pages.length).map((l) => l.ms ?? 'timeout').join('/')} ms`);
      await sleep(Math.max(0, o.sampleS * 1000 - (Date.now() - tick)));
    }
    stopFlag.stop = true;
    await Promise.all([...pending]);
    for (const p of proxies.values()) p.setPartition('none');

    // Convergence at the end (digests), then the verdict.
    let converged = false;
    try {
      await waitFor('digests equal at the end', async () => {
        const ds = await Promise.all(nodes.map(async (n) => (await n.api<{ digest: string }>('GET', '/sync/state', undefined, 10_000)).body?.digest ?? null));
        return ds.every((d) => d !== null && d === ds[0]);
      }, 180_000, 1000);
      converged = true;
    } catch {
      converged = false;
    }

    const failures: string[] = [];
    const grow: SoakReport['growth'] = {};
    const peak: SoakReport['peak'] = {};
    for (const n of nodes) {
      const mine = samples.filter((s) => s.node === n.name);
      const series = (f: (s: Sample) => number | null): [number, number][] => mine.flatMap((s) => (f(s) === null ? [] : [[s.t, f(s)!] as [number, number]]));
      const g = { rss_mb: growth(series((s) => s.rss_mb), 50, 0.25), fds: growth(series((s) => s.fds), 20, 0.2), wal_mb: growth(series((s) => s.wal_mb), 64, 1) };
      grow[n.name] = g;
      if (g.rss_mb.unbounded) failures.push(`${n.name}: RSS kept growing (${g.rss_mb.first?.toFixed(0)} → ${g.rss_mb.last?.toFixed(0)} MB between the first and last third)`);
      if (g.fds.unbounded) failures.push(`${n.name}: open descriptors kept growing (${g.fds.first} → ${g.fds.last})`);
      if (g.wal_mb.unbounded) failures.push(`${n.name}: WAL kept growing (${g.wal_mb.first?.toFixed(1)} → ${g.wal_mb.last?.toFixed(1)} MB)`);
      const loops = series((s) => s.loop_p99_ms).map(([, v]) => v);
      peak[n.name] = {
        rss_mb: Math.round(Math.max(0, ...series((s) => s.rss_mb).map(([, v]) => v))),
        fds: Math.max(0, ...series((s) => s.fds).map(([, v]) => v)),
        wal_mb: +Math.max(0, ...series((s) => s.wal_mb).map(([, v]) => v)).toFixed(1),
        loop_p99_ms: loops.length === 0 ? null : +Math.max(...loops).toFixed(1),
        status_ms_p99: percentiles(series((s) => s.status_ms).map(([, v]) => v)).p99,
      };
    }
    if (!converged) failures.push('the mesh did not converge (equal digests) within 3 minutes after the load stopped');
    const lat = latency.flatMap((l) => (l.ms === null ? [] : [l.ms]));
    const timeouts = latency.filter((l) => l.ms === null).length;
    if (timeouts > 0) failures.push(`${timeouts} probe writes never showed on a dashboard within 30 s`);

    const durationMs = o.minutes * 60_000;
    const perNode = (f: (s: Sample) => number | null): Panel['series'] => nodes.map((n) => ({ label: n.name, points: samples.filter((s) => s.node === n.name).map((s) => [s.t, f(s)] as const) }));
    const hasLoop = samples.some((s) => s.loop_p99_ms !== null);
    const panels: Panel[] = [
      { title: 'Resident memory', unit: 'MB', series: perNode((s) => s.rss_mb) },
      { title: 'Open file descriptors', unit: 'count', series: perNode((s) => s.fds) },
      { title: 'WAL size', unit: 'MB', series: perNode((s) => s.wal_mb) },
      hasLoop
        ? { title: 'Event-loop delay p99 (GET /metrics)', unit: 'ms', series: perNode((s) => s.loop_p99_ms) }
        : { title: 'GET /api/v1/status latency (no /metrics on this build)', unit: 'ms', series: perNode((s) => s.status_ms) },
      { title: 'Write on another daemon → text on the dashboard', unit: 'ms', series: pages.map((p) => ({ label: `dash@${p.node}`, points: latency.filter((l) => l.dashboard === p.node).map((l) => [l.t, l.ms] as const) })) },
      { title: 'Events held', unit: 'events', series: perNode((s) => s.events) },
    ];
    const svg = renderSvg(`Clare soak: ${nodes.length} daemons, ${nodes.length * o.sessionsPerHost} sessions, ${o.minutes} min (grey: laptop offline)`, panels, durationMs, offline);
    const elapsedS = (Date.now() - t0) / 1000;
    return {
      ok: failures.length === 0, minutes: o.minutes, daemons: HOSTS, sessions: nodes.length * o.sessionsPerHost,
      writes: { ...writes, per_s: +(writes.ok / elapsedS).toFixed(1) },
      loop_delay_source: loopSource, samples, dashboard_latency: latency,
      dashboard_latency_ms: { ...percentiles(lat), timeouts },
      offline_windows: offline, growth: grow, peak, converged_at_end: converged, failures, svg,
    };
  } finally {
    stopFlag.stop = true;
    await Promise.all([...pending]);
    await browser?.close().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.stop(10_000)));
    for (const n of nodes) n.killSessions();
    await Promise.all([...proxies.values()].map((p) => p.close()));
    rmSync(root, { recursive: true, force: true });
  }
}
