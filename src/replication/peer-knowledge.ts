/**
 * What one session knows the peer holds, per origin. Two maps:
 * - `held`: facts — the peer's own statements (hello, ack, ping, pong) and the
 *   events it sent us (it holds those, and, being a gap-free prefix, all before);
 * - `sent`: what we sent in this session, possibly still in flight.
 * What to send next is decided on max(held, sent): frames arrive in order, so by
 * the time a batch lands every earlier one has, and nothing is sent twice. Lag and
 * status use `held` only. Both only ever grow within a session.
 */
import type { Hlc } from '../core/hlc.js';
import type { Watermarks } from '../core/store.js';

/** One statement of what the peer holds, from a single frame (hello, ack, ping, pong). */
export interface Statement {
  readonly watermarks: Readonly<Record<string, Hlc>>;
  readonly counts: Readonly<Record<string, number>>;
  /** Per-origin digests (protocol 2), absent from version-1 peers. */
  readonly digests: Readonly<Record<string, string>> | null;
}

export class PeerKnowledge {
  private readonly held = new Map<string, Hlc>();
  private readonly sent = new Map<string, Hlc>();
  private readonly counts = new Map<string, number>();
  private latest: Statement | null = null;

  /**
   * Records a statement the peer made about what it holds: merges it into what it
   * is known to hold, and keeps it whole as the latest (watermarks, counts and
   * digests of one frame belong together: anti-entropy compares them as a set).
   */
  learnStatement(s: Statement): void {
    this.learnHeld(s.watermarks);
    this.learnCounts(s.counts);
    this.latest = s;
  }

  /** The peer's latest statement, or null before its hello. */
  statement(): Statement | null {
    return this.latest;
  }

  /** Merges watermarks the peer stated (or proved by sending events). */
  learnHeld(wm: Readonly<Record<string, Hlc>>): void {
    for (const [origin, hlc] of Object.entries(wm)) raise(this.held, origin, hlc);
  }

  /** Merges the per-origin event counts the peer stated (for `we_lack`). */
  learnCounts(counts: Readonly<Record<string, number>>): void {
    for (const [origin, n] of Object.entries(counts)) {
      if (n > (this.counts.get(origin) ?? -1)) this.counts.set(origin, n);
    }
  }

  /** Records that events up to `tops[origin]` were sent (not yet acknowledged). */
  markSent(tops: Readonly<Record<string, Hlc>>): void {
    for (const [origin, hlc] of Object.entries(tops)) raise(this.sent, origin, hlc);
  }

  /** True when the peer holds, or has been sent, `origin`'s events up to `hlc`. */
  covers(origin: string, hlc: string): boolean {
    const h = this.held.get(origin);
    if (h !== undefined && h >= hlc) return true;
    const s = this.sent.get(origin);
    return s !== undefined && s >= hlc;
  }

  /** max(held, sent) per origin: what the next batch continues from. */
  view(): Record<string, Hlc> {
    const out: Record<string, Hlc> = Object.fromEntries(this.held);
    for (const [origin, hlc] of this.sent) {
      const h = out[origin];
      if (h === undefined || hlc > h) out[origin] = hlc;
    }
    return out;
  }

  /** What the peer is known to hold (acknowledged facts only). */
  heldWatermarks(): Watermarks {
    return Object.fromEntries(this.held);
  }

  /** The peer's last stated per-origin counts. */
  heldCounts(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.counts);
  }
}

function raise(m: Map<string, Hlc>, origin: string, hlc: Hlc): void {
  const cur = m.get(origin);
  if (cur === undefined || hlc > cur) m.set(origin, hlc);
}

/** A statement frame's holdings; digests only count in protocol 2. */
export function statementOf(f: { readonly watermarks: Readonly<Record<string, Hlc>>; readonly counts: Readonly<Record<string, number>>; readonly digests?: Readonly<Record<string, string>> | undefined }, version: number): Statement {
  return { watermarks: f.watermarks, counts: f.counts, digests: version >= 2 ? f.digests ?? null : null };
}
