/**
 * What every write path needs: the database handle, this machine's clock, and the
 * feed that hears about commits. Passed explicitly; there is no global store.
 */
import type { CommitFeed } from './commit-feed.js';
import type { Db } from './db.js';
import type { EventDraft } from './events/catalog.js';
import type { HybridClock } from './hlc.js';
import type { WriteGate } from './recovery.js';
import { appendMany, ingest, type Committed, type IngestResult } from './store.js';

export interface StoreContext {
  readonly db: Db;
  readonly clock: HybridClock;
  readonly feed: CommitFeed;
  /** Closed while the machine recovers its own events (recovery.ts): local appends are refused then. */
  readonly gate?: WriteGate;
}

/**
 * Appends local events atomically and announces them. Throws CLARE_RECOVERING
 * (nothing written) while the write gate is closed.
 */
export function commitLocal(ctx: StoreContext, drafts: readonly EventDraft[]): Committed {
  ctx.gate?.check();
  const c = appendMany(ctx.db, ctx.clock, drafts);
  ctx.feed.publish({ ...c, source: 'local' });
  return c;
}

/** Ingests a remote batch (validated whole, deduped) and announces what was new. */
export function commitRemote(ctx: StoreContext, raw: readonly unknown[], source: string): IngestResult {
  const r = ingest(ctx.db, ctx.clock, raw);
  ctx.feed.publish({ events: r.events, changes: r.changes, source });
  return r;
}
