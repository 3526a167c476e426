/**
 * Watching the mesh settle: how long after each heal every event that existed
 * anywhere at the heal is on every daemon (the "converge after heals" figures),
 * and, after the final heal, whether the mesh quiesces — digests equal and
 * unchanged for a while, every link up, clean and at lag 0.
 */
import { linkProblems, type LinkState } from './checks.js';
import type { TortureNode } from './node.js';

export interface SyncState {
  readonly digest: string;
  readonly event_count: number;
  readonly watermarks: Record<string, string>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** GET /api/v1/sync/state of each node (null where it did not answer). */
export async function syncStates(ns: readonly TortureNode[]): Promise<(SyncState | null)[]> {
  return Promise.all(ns.map(async (n) => {
    const r = await n.api<SyncState>('GET', '/sync/state', undefined, 5000);
    return r.status === 200 ? r.body : null;
  }));
}

/** Pointwise maximum of watermark maps: every event held anywhere. */
export function frontierOf(states: readonly SyncState[]): Record<string, string> {
  const f: Record<string, string> = {};
  for (const s of states) for (const [o, h] of Object.entries(s.watermarks)) if (f[o] === undefined || h > f[o]) f[o] = h;
  return f;
}

function covers(s: SyncState, frontier: Record<string, string>): boolean {
  return Object.entries(frontier).every(([o, h]) => (s.watermarks[o] ?? '') >= h);
}

/**
 * Times convergence after heals; each heal is measured on its own (60 s at most),
 * until the next fault is injected: what that fault delays is not the heal's doing,
 * so such a measurement is dropped (counted as `interrupted`).
 */
export class ConvergenceProbe {
  readonly times: number[] = [];
  censored = 0;
  interrupted = 0;
  private readonly probes = new Set<Promise<void>>();
  private ended = false;
  private generation = 0;

  constructor(
    private readonly members: () => readonly TortureNode[],
    private readonly t0: () => number,
    private readonly log: (line: string) => void,
  ) {}

  /** A heal happened at `healMs` (since t0): time how long until its frontier is everywhere. */
  heal(healMs: number, kind: string): void {
    const p = this.measure(healMs, kind).finally(() => this.probes.delete(p));
    this.probes.add(p);
  }

  /** A new fault was injected: open measurements stop at their next look. */
  interrupt(): void {
    this.generation += 1;
  }

  /** The run is over: open measurements end (as not converged) at their next look. */
  async end(): Promise<void> {
    this.ended = true;
    await Promise.all([...this.probes]);
  }

  private async measure(healMs: number, kind: string): Promise<void> {
    const generation = this.generation;
    const members = this.members();
    const frontier = frontierOf((await syncStates(members)).filter((s): s is SyncState => s !== null));
    const deadline = Date.now() + 60_000;
    const at = `the ${kind} heal at t+${(healMs / 1000).toFixed(1)}s`;
    for (;;) {
      const now = await syncStates(members);
      if (now.every((s) => s !== null && covers(s, frontier))) {
        const ms = Date.now() - this.t0() - healMs;
        this.times.push(ms);
        this.log(`  converged ${ms} ms after ${at}`);
        return;
      }
      if (this.generation !== generation && !this.ended) {
        this.interrupted += 1;
        this.log(`  convergence after ${at} not timed: the next fault came first`);
        return;
      }
      if (Date.now() > deadline || this.ended) {
        this.censored += 1;
        this.log(`  not converged ${this.ended ? 'before the run ended' : 'within 60 s'} after ${at}`);
        return;
      }
      await sleep(200);
    }
  }
}

export interface Quiescence {
  /** Ms from `since` until the mesh was quiet, or null when it stopped making progress (or hit the cap) first. */
  readonly ms: number | null;
  /** Why it gave up, when it did. */
  readonly why: string | null;
  /** The last look: each member's sync state and peer list. */
  readonly states: readonly (SyncState | null)[];
  readonly links: LinkState[];
}

export interface QuiesceLimits {
  /** Give up when no member's event count has grown for this long (a stuck link makes no progress). */
  readonly idleMs: number;
  /** Give up at this time whatever happens (a bound on the whole wait). */
  readonly capAt: number;
  /** The quiet state must hold this long. */
  readonly stableMs: number;
  /** Progress lines (every 30 s while waiting). */
  readonly log?: (line: string) => void;
}

/**
 * Waits until every member has the same digest and event count, unchanged for
 * `stableMs`, with every link clean (see `linkProblems`). A daemon whose disk was
 * wiped just before the final heal catches up the whole log, which on a loaded
 * machine takes longer than any fixed deadline; so the wait goes on while the
 * mesh makes progress (some member's event count grows) and gives up after
 * `idleMs` without progress, or at `capAt`.
 */
export async function waitQuiescent(members: readonly TortureNode[], since: number, limits: QuiesceLimits): Promise<Quiescence> {
  const ids = new Map(members.map((n) => [n.name, n.machineId]));
  let states: (SyncState | null)[] = [];
  let links: LinkState[] = [];
  let stableSince: { digest: string; at: number } | null = null;
  let progressAt = Date.now();
  let lastCounts: (number | null)[] = [];
  let loggedAt = Date.now();
  for (;;) {
    states = await syncStates(members);
    links = await Promise.all(members.map(async (n) => ({ node: n.name, peers: (await n.api<{ peers: LinkState['peers'] }>('GET', '/status', undefined, 5000)).body?.peers ?? [] })));
    const counts = states.map((s) => s?.event_count ?? null);
    if (counts.some((c, i) => c !== null && c > (lastCounts[i] ?? -1))) progressAt = Date.now();
    lastCounts = counts.map((c, i) => (c === null ? lastCounts[i] ?? null : Math.max(c, lastCounts[i] ?? -1)));
    const first = states[0];
    const equal = first !== null && first !== undefined && states.every((s) => s !== null && s.digest === first.digest && s.event_count === first.event_count);
    const problems = linkProblems(links, ids);
    if (equal && problems.length === 0) {
      if (stableSince === null || stableSince.digest !== first.digest) stableSince = { digest: first.digest, at: Date.now() };
      else if (Date.now() - stableSince.at >= limits.stableMs) return { ms: stableSince.at - since, why: null, states, links };
    } else {
      stableSince = null;
    }
    const now = Date.now();
    if (now - loggedAt >= 30_000) {
      loggedAt = now;
      limits.log?.(`  settling t+${Math.round((now - since) / 1000)}s after the final heal: events ${members.map((n, i) => `${n.name}=${counts[i] ?? '?'}`).join(' ')}; ${equal ? 'digests equal' : 'digests differ'}; ${problems.length} link problems`);
    }
    if (now - progressAt > limits.idleMs) return { ms: null, why: `no progress for ${Math.round(limits.idleMs / 1000)} s (event counts unchanged since t+${Math.round((progressAt - since) / 1000)}s)`, states, links };
    if (now > limits.capAt) return { ms: null, why: `still settling at the cap (${Math.round((limits.capAt - since) / 1000)} s)`, states, links };
    await sleep(500);
  }
}
