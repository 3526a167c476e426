/**
 * Session discovery: pulls this host's session listing through rclaude every poll
 * interval and on demand (`clare pull`), and appends events for what changed.
 * Pulls never overlap: each runs after the previous one has committed, so two
 * pulls can never both decide that the same session appeared.
 */
import { commitLocal, type StoreContext } from '../context.js';
import { ClareError } from '../errors.js';
import type { Logger } from '../log.js';
import { hostSessions } from '../queries.js';
import type { Service } from '../service-lifecycle.js';
import { diffSessions } from './session-diff.js';
import { listRclaudeSessions, type RclaudeOptions } from './rclaude.js';

export interface PullResult {
  readonly host: string;
  /** ISO time the listing was taken. */
  readonly at: string;
  /** Sessions in the listing. */
  readonly sessions: number;
  readonly appeared: number;
  readonly changed: number;
  readonly gone: number;
}

export interface FleetError {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

export interface SessionPollerOptions {
  readonly ctx: StoreContext;
  /** This host's rclaude name (`name` in clare.toml). */
  readonly host: string;
  readonly rclaude: RclaudeOptions;
  /** Time between the end of one background pull and the start of the next (ms). */
  readonly intervalMs: number;
  readonly log: Logger;
}

export class SessionPoller implements Service {
  readonly name = 'session-poller';
  private readonly o: SessionPollerOptions;
  /** Tail of the pull queue: every pull chains onto it. */
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastPull: PullResult | null = null;
  private lastError: FleetError | null = null;
  /** Settles when the first pull after `run` has finished, whatever its outcome. */
  readonly firstPull: Promise<void>;
  private settleFirst: () => void = () => undefined;

  constructor(o: SessionPollerOptions) {
    this.o = o;
    this.firstPull = new Promise((resolve) => { this.settleFirst = resolve; });
  }

  /** Starts polling: the first pull at once (not awaited: a slow rclaude must not hold up start-up). */
  run(): Promise<void> {
    this.stopped = false;
    this.tick();
    return Promise.resolve();
  }

  private tick(): void {
    this.pull().catch(() => undefined /* recorded in lastError and logged */).finally(() => {
      this.settleFirst();
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.o.intervalMs);
    });
  }

  /**
   * Lists this host's sessions and appends, in one commit, the events for what
   * changed. A bad listing or a failed call throws its coded error and writes
   * nothing. Concurrent callers queue.
   */
  pull(): Promise<PullResult> {
    if (this.stopped) return Promise.reject(new ClareError('CLARE_DAEMON_DOWN', 'the daemon is stopping'));
    const p = this.chain.then(() => this.pullNow());
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async pullNow(): Promise<PullResult> {
    const { ctx, host, log } = this.o;
    const at = new Date().toISOString();
    try {
      const listed = await listRclaudeSessions(this.o.rclaude, host);
      // Read and write with nothing in between (one synchronous stretch), so the
      // diff is against exactly the rows the commit lands on.
      const d = diffSessions(hostSessions(ctx.db, host, { includeGone: true }), listed);
      if (d.drafts.length > 0) commitLocal(ctx, d.drafts);
      const r: PullResult = { host, at, sessions: listed.length, appeared: d.appeared, changed: d.changed, gone: d.gone };
      if (d.drafts.length > 0) log.info('sessions changed', { appeared: d.appeared, changed: d.changed, gone: d.gone });
      if (this.lastError !== null) log.info('session pull works again', { after: this.lastError.code });
      this.lastPull = r;
      this.lastError = null;
      return r;
    } catch (e) {
      const err = e instanceof ClareError ? e : new ClareError('CLARE_INTERNAL', e instanceof Error ? e.message : String(e));
      // Log a failure when it starts or changes, not on every poll of a lasting one.
      if (this.lastError?.message !== err.message) log.warn('session pull failed; nothing recorded', { code: err.code, err: err.message });
      this.lastError = { code: err.code, message: err.message, at };
      throw err;
    }
  }

  /** The last successful pull, and the error of the last pull if it failed. */
  status(): { lastPull: PullResult | null; lastError: FleetError | null } {
    return { lastPull: this.lastPull, lastError: this.lastError };
  }

  /** Stops the timer and waits for a pull in flight (it is bounded by the rclaude timeout). */
  async drain(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
  }

  async stop(): Promise<void> {
    await this.drain();
  }
}
