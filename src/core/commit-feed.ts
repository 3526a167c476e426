/**
 * After-commit notifications. Every path that writes events (local append, remote
 * ingest) publishes what it committed here, once the transaction is durable; the
 * replication engine relays the events and the live dashboard pushes the changes.
 */
import type { Logger } from './log.js';
import type { Committed } from './store.js';

export interface CommitNotice extends Committed {
  /** Where the events came from: 'local', or the machine id of the peer that sent them. */
  readonly source: string;
}

export type CommitListener = (notice: CommitNotice) => void;

export class CommitFeed {
  /** `log` hears of a listener that throws (see `publish`). */
  constructor(private readonly log: Logger) {}

  private readonly listeners = new Set<CommitListener>();
  /** While a group commit runs (group-commit.ts): notices wait here until its transaction committed. */
  private held: CommitNotice[] | null = null;

  /**
   * Holds every notice published from now until `release`, and returns the list
   * they collect in (the caller may truncate it to drop a rolled-back write's).
   */
  hold(): CommitNotice[] {
    if (this.held !== null) throw new Error('commit notices are already held');
    this.held = [];
    return this.held;
  }

  /** Ends the hold and publishes `notices` (those of the committed writes), in order. */
  release(notices: readonly CommitNotice[]): void {
    this.held = null;
    for (const n of notices) this.publish(n);
  }

  /** Subscribes; returns the unsubscribe function. */
  subscribe(l: CommitListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * Tells every listener. A listener that throws is a bug in that listener; it must
   * not stop the others or the writer (whose events are committed already), so the
   * error is logged, with the notice's source and size, and the others still hear.
   */
  publish(notice: CommitNotice): void {
    if (notice.events.length === 0) return;
    if (this.held !== null) {
      this.held.push(notice);
      return;
    }
    for (const l of this.listeners) {
      try {
        l(notice);
      } catch (e) {
        this.log.error('a commit listener failed; the write stands and the other listeners were told', { err: e, source: notice.source, events: notice.events.length });
      }
    }
  }
}
