/**
 * The in-memory store context unit tests build again and again: a `:memory:`
 * database (migrated), a clock for a fresh or given machine, a commit feed.
 */
import { CommitFeed } from '../../src/core/commit-feed.js';
import type { StoreContext } from '../../src/core/context.js';
import { openDb } from '../../src/core/db.js';
import { HybridClock } from '../../src/core/hlc.js';
import { newMachineId, type MachineId } from '../../src/core/ids.js';
import { silentLogger, type Logger } from '../../src/core/log.js';

export interface MemoryContextOptions {
  readonly machineId?: MachineId;
  /** Wall clock for the HLC (e.g. a laptop whose clock is behind, or a test's stepped time). */
  readonly now?: () => number;
  /** Hears a commit listener that throws (CommitFeed); silent unless a test listens. */
  readonly log?: Logger;
}

/** A fresh `:memory:` store with its clock and feed. */
export function memoryContext(opts: MemoryContextOptions = {}): StoreContext {
  const machine = opts.machineId ?? newMachineId();
  return { db: openDb(':memory:'), clock: new HybridClock({ machine, ...(opts.now ? { now: opts.now } : {}) }), feed: new CommitFeed(opts.log ?? silentLogger) };
}
