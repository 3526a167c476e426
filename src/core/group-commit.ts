/**
 * Group commit: local writes that arrive together share one SQLite transaction.
 *
 * Each write is a whole service call (read, validate, append). The writes queued
 * in one turn of the event loop run at the next `setImmediate`, inside one
 * transaction, each in its own savepoint; the callers are answered only after
 * that transaction committed, so a 2xx still means committed.
 *
 * What must stay true:
 * - A failing write does not fail its neighbours: its savepoint is rolled back,
 *   its commit notices dropped, and it is answered with its own error.
 * - If the shared COMMIT fails (or SQLite abandoned the transaction), nothing of the
 *   group was written; every write is then run again alone, in its own
 *   transaction, and answered with its own result or error.
 * - Commit notices (live pushes, relaying) go out only after the commit, in order.
 *
 * Why: a commit in WAL mode writes every page the transaction dirtied to the WAL
 * (an event row, its indexes, the projection rows, the counters and watermarks);
 * writes to the same tables share most of those pages, so 32 writes in one
 * transaction append a fraction of the WAL bytes 32 transactions do.
 */
import type { CommitFeed } from './commit-feed.js';
import type { Db } from './db.js';

interface Pending {
  readonly write: () => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/** Writes run in one transaction at most; the rest wait for the next turn. */
export const MAX_GROUP = 256;

/** Thrown inside the shared transaction when SQLite rolled it back on its own. */
class GroupAbandoned extends Error {}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly db: Db, private readonly feed: CommitFeed) {}

  /**
   * Runs `write` (synchronous; it may append events through `commitLocal`) in the
   * next shared transaction; resolves with its result once that is committed, or
   * rejects with its own error (nothing of it written).
   */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const group = this.queue.splice(0, MAX_GROUP);
      this.flush(group);
      this.schedule();
    });
  }

  private flush(group: readonly Pending[]): void {
    const [only] = group;
    if (group.length === 1 && only !== undefined) {
      this.alone(only);
      return;
    }
    const outcomes: ({ p: Pending; ok: true; value: unknown } | { p: Pending; ok: false; error: unknown })[] = [];
    const held = this.feed.hold();
    try {
      this.db.transaction(() => {
        for (const p of group) {
          const mark = held.length;
          try {
            outcomes.push({ p, ok: true, value: this.db.transaction(p.write)() });
          } catch (error) {
            held.length = mark;
            // Some errors (SQLITE_FULL, SQLITE_IOERR, …) make SQLite roll the whole transaction
            // back: the writes after this one would then run outside it, one autocommit each.
            if (!this.db.inTransaction) throw new GroupAbandoned();
            outcomes.push({ p, ok: false, error });
          }
        }
      })();
    } catch {
      // The shared transaction did not commit: nothing of the group is written. Each alone.
      this.feed.release([]);
      for (const p of group) this.alone(p);
      return;
    }
    this.feed.release(held);
    for (const o of outcomes) {
      if (o.ok) o.p.resolve(o.value);
      else o.p.reject(o.error);
    }
  }

  /** One write in its own transaction; its notices go out once that committed. */
  private alone(p: Pending): void {
    const held = this.feed.hold();
    let value: unknown;
    try {
      value = this.db.transaction(p.write)();
    } catch (e) {
      this.feed.release([]);
      p.reject(e);
      return;
    }
    this.feed.release(held);
    p.resolve(value);
  }
}
