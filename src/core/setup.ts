/**
 * First-run and start-up chores that write: `clare init`, the one-time import of
 * the first version's [groups], and announcing this machine's name.
 */
import { existsSync } from 'node:fs';
import { CommitFeed } from './commit-feed.js';
import { defaultHostName, initialConfigText, loadConfig, writeFileAtomic, type ClareConfig } from './config.js';
import { commitLocal, type StoreContext } from './context.js';
import { cachedStatement as stmt, openDb, type Db } from './db.js';
import type { EventDraft } from './events/catalog.js';
import { HybridClock } from './hlc.js';
import { newMachineId } from './ids.js';
import { silentLogger, type Logger } from './log.js';
import type { ClarePaths } from './paths.js';
import { getGroup } from './queries.js';
import { detectRecovery, WriteGate } from './recovery.js';
import { newestHlc } from './store.js';

export interface InitResult {
  readonly created: boolean;
  readonly config: ClareConfig;
  readonly dbFile: string;
  /**
   * Why the daemon will first fetch this machine's own events from its peers (an
   * existing machine id with a database that lacks its events), or null.
   */
  readonly recovery: string | null;
}

/**
 * Creates the config (new uuid4 machine id) unless present, and the database. Keeps
 * an existing machine id. A new id is announced at once (`machine.named`): nothing
 * of it exists anywhere, so it never waits for peers. An existing id whose database
 * holds none of its events (a wiped or re-initialised machine) is marked for
 * recovery instead, and nothing is appended: appending first would hide its older
 * events from replication (recovery.ts).
 */
export function initMachine(paths: ClarePaths, name?: string): InitResult {
  const created = !existsSync(paths.configFile);
  if (created) writeFileAtomic(paths.configFile, initialConfigText(newMachineId(), name ?? defaultHostName()));
  const config = loadConfig(paths.configFile);
  const db = openDb(paths.dbFile);
  let recovery: string | null = null;
  try {
    if (!created) recovery = detectRecovery(db, config.machine_id);
    // Nothing subscribes to this short-lived context's feed: no listener to log for.
    if (recovery === null) announceName(openContext(db, config, silentLogger), config);
  } finally {
    db.close();
  }
  return { created, config, dbFile: paths.dbFile, recovery };
}

/** A store context for this machine: its clock seeded from the newest event held; writes open. */
export function openContext(db: Db, config: ClareConfig, log: Logger): StoreContext {
  const clock = new HybridClock({ machine: config.machine_id, maxSkewMs: config.mesh.max_clock_skew_ms });
  const newest = newestHlc(db);
  if (newest !== null) clock.seed(newest);
  return { db, clock, feed: new CommitFeed(log), gate: new WriteGate() };
}

/** Appends machine.named when the replicated name of this machine differs from the config. */
export function announceName(ctx: StoreContext, config: ClareConfig): boolean {
  const r = stmt(ctx.db, 'SELECT name FROM machines WHERE machine_id = ?').get(config.machine_id) as { name: string | null } | undefined;
  if (r?.name === config.name) return false;
  commitLocal(ctx, [{ type: 'machine.named', payload: { name: config.name } }]);
  return true;
}

/**
 * How the `[groups]` table of clare.toml differs from the replicated groups, one
 * line per group that differs (empty when they agree). The table is imported once
 * (importLegacyGroups); later edits to it do nothing, and this says so — in the
 * daemon's log at start and in `clare doctor`.
 */
export function legacyGroupsDrift(db: Db, groups: Readonly<Record<string, readonly string[]>>): string[] {
  const drift: string[] = [];
  for (const [name, patterns] of Object.entries(groups)) {
    // One lookup per group of the table (groups are read a page at a time, not listed whole).
    const g = getGroup(db, name);
    const have = g === null || g.archived ? undefined : new Set(g.members);
    const want = new Set(patterns);
    if (have === undefined) drift.push(`${name}: in clare.toml, not replicated`);
    else if (have.size !== want.size || [...want].some((p) => !have.has(p))) drift.push(`${name}: clare.toml has ${[...want].join(' ') || '(none)'}, the mesh has ${[...have].join(' ') || '(none)'}`);
  }
  return drift;
}

/** What to do about a drifted [groups] table (the daemon's log line and doctor's advice). */
export const GROUPS_DRIFT_ADVICE = 'the table is imported only once and edits to it do nothing: make the changes with `clare group add|rm`, then delete [groups] from clare.toml';

/**
 * Imports the first version's `[groups]` table into group events, once per
 * machine (remembered in local_meta); the file itself is left alone.
 * Returns the names imported, empty if nothing was done.
 */
export function importLegacyGroups(ctx: StoreContext, config: ClareConfig): string[] {
  if (config.groups === undefined) return [];
  if (stmt(ctx.db, "SELECT 1 FROM local_meta WHERE key = 'legacy_groups_imported'").get() !== undefined) return [];
  const drafts: EventDraft[] = [];
  const names: string[] = [];
  for (const [group, patterns] of Object.entries(config.groups)) {
    const existing = getGroup(ctx.db, group);
    if (existing === null || existing.archived) drafts.push({ type: 'group.created', payload: { group } });
    for (const pattern of patterns) if (existing?.members.includes(pattern) !== true) drafts.push({ type: 'group.member_added', payload: { group, pattern } });
    names.push(group);
  }
  ctx.db.transaction(() => {
    if (drafts.length > 0) commitLocal(ctx, drafts);
    stmt(ctx.db, "INSERT INTO local_meta (key, value) VALUES ('legacy_groups_imported', ?)").run(new Date().toISOString());
  })();
  return names;
}
