/**
 * A session's liveness judgement: when the peer was last heard, and whether the
 * silence since is long enough to call the link dead. Units are wall-clock ms.
 */
export type KeepaliveVerdict = { readonly kind: 'ping' } | { readonly kind: 'dead'; readonly silentMs: number };

export class Keepalive {
  private lastRecvAt: number;
  /** When the keepalive timer last ran (null before its first run). */
  private lastTickAt: number | null = null;

  constructor(now: number, private readonly intervalMs: number, private readonly deadAfterMs: number) {
    this.lastRecvAt = now;
  }

  /** When a frame last arrived from the peer (ms; the session's start before the first). */
  get lastHeardAt(): number {
    return this.lastRecvAt;
  }

  /** A frame arrived from the peer at `now`. */
  heard(now: number): void {
    this.lastRecvAt = now;
  }

  /** The timer ran at `now`: ping the peer, or give the link up. */
  tick(now: number): KeepaliveVerdict {
    // A tick far behind its interval means our own event loop was held up (a long
    // ingest, a loaded machine): frames may be waiting unread, so silence proves
    // nothing yet. Judge at the next tick, after they have been read.
    const late = this.lastTickAt !== null && now - this.lastTickAt > 2 * this.intervalMs;
    this.lastTickAt = now;
    const silent = now - this.lastRecvAt;
    if (!late && silent > this.deadAfterMs) return { kind: 'dead', silentMs: silent };
    return { kind: 'ping' };
  }
}
