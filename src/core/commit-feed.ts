/**
 * After-commit notifications. Every path that writes events (local append, remote
 * ingest) publishes what it committed here, once the transaction is durable; the
 * replication engine relays the events and the live dashboard pushes the changes.
 */
import type { Committed } from './store.js';

export interface CommitNotice extends Committed {
  /** Where the events came from: 'local', or the machine id of the peer that sent them. */
  readonly source: string;
}

export type CommitListener = (notice: CommitNotice) => void;

export class CommitFeed {
  private readonly listeners = new Set<CommitListener>();

  /** Subscribes; returns the unsubscribe function. */
  subscribe(l: CommitListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * Tells every listener. A listener that throws is a bug in that listener; it must
   * not stop the others or the writer, so the error goes to `onError`.
   */
  publish(notice: CommitNotice, onError: (e: unknown) => void = () => undefined): void {
    if (notice.events.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(notice);
      } catch (e) {
        onError(e);
      }
    }
  }
}
