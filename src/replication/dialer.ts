/**
 * The dial loop of one peer URL: connect, run a session until it ends, back off
 * (jittered exponential), repeat until stopped. What a dial attempt does is the
 * host's business (ReplicationService); this file only owns the rhythm.
 */
import type { Backoff } from './backoff.js';
import { CLOSE } from './close-codes.js';
import type { SessionEnd } from './session-end.js';
import type { SyncSession } from './sync-session.js';

/** How one attempt ended: the session's end, skipped because another link to that machine is up, or no session at all. */
export type DialOutcome = SessionEnd | 'linked-elsewhere' | null;

/** What a Dialer needs from its owner. */
export interface DialHost {
  /** One attempt: connect and run a session to its end. */
  dialOnce(url: string, onSession: (s: SyncSession) => void): Promise<DialOutcome>;
  /** Logs an unexpected error of the loop (which keeps going). */
  reportDialerBug(url: string, err: unknown): void;
}

/** Dials one peer URL until stopped: connect, run a session until it ends, back off, repeat. */
export class Dialer {
  private stopped = false;
  private wake: (() => void) | null = null;
  private session: SyncSession | null = null;

  constructor(
    readonly url: string,
    private readonly host: DialHost,
    private readonly backoff: Backoff,
  ) {}

  start(): void {
    void this.loop();
  }

  /** Stops dialing; closes the current link too unless `keepLink` (draining lets it finish). */
  stop(code: number, reason: string, keepLink = false): void {
    this.stopped = true;
    if (!keepLink) this.session?.close(code, reason);
    this.wake?.();
  }

  /** Cuts a pending backoff wait short (after `reloadPeers()`). */
  poke(): void {
    this.backoff.reset();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    // Leave the caller's stack first: dialers start while the peer list is being reconciled.
    await Promise.resolve();
    while (!this.stopped) {
      let end: DialOutcome = null;
      try {
        end = await this.host.dialOnce(this.url, (s) => {
          this.session = s;
        });
      } catch (e) {
        this.host.reportDialerBug(this.url, e);
      }
      this.session = null;
      if (this.stopped) break;
      let delay: number;
      if (end === 'linked-elsewhere' || end?.code === CLOSE.DUPLICATE) {
        delay = this.backoff.max;
      } else if (end !== null && end.established && !end.faulty && !end.byPeer) {
        this.backoff.reset();
        delay = this.backoff.next();
      } else {
        delay = this.backoff.next();
      }
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      t.unref();
      this.wake = done;
    });
  }
}
