/**
 * Backups and restores of this machine's database file.
 *
 * A backup is taken with SQLite's online backup API from a read-only connection,
 * so it runs beside a live daemon and is one consistent snapshot; it is written
 * under a temporary name, checked, stamped with the machine it belongs to, made a
 * single self-contained file (rollback journal, no -wal), synced, and only then
 * renamed onto the target: a crash leaves the old backup or the new one, never half.
 *
 * A restore puts such a file back on a stopped machine and marks it for recovery
 * (`local_meta.recovery = pending`): events this machine wrote after the backup
 * live on only in its peers, and the daemon fetches its own origin's events from
 * them before it appends anything under its id (docs/operations.md, "Restore").
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { cachedStatement as stmt, type Db } from './db.js';
import { ClareError } from './errors.js';
import { machineIdSchema, type MachineId } from './ids.js';
import { MIGRATIONS } from './schema.js';

/** local_meta keys a backup carries (the copy only; the live database never has them). */
export const BACKUP_META = {
  machineId: 'backup_machine_id',
  name: 'backup_name',
  takenAt: 'backup_taken_at',
  version: 'backup_clare_version',
} as const;

/** The local_meta key and value that tell the daemon to recover this machine's own events first. */
export const RECOVERY_KEY = 'recovery';
export const RECOVERY_PENDING = 'pending';

/** The recovery state a database carries (`pending` after `clare restore`), or null. */
export function recoveryState(db: Db): string | null {
  return meta(db, RECOVERY_KEY);
}

/** What a database file holds, as far as restore and doctor need to know. */
export interface DatabaseInfo {
  readonly file: string;
  readonly schema: number;
  readonly events: number;
  readonly origins: number;
  /** The machine a `clare backup` stamped it with, or null (a plain copy of a database). */
  readonly backupOf: { readonly machineId: MachineId; readonly name: string | null; readonly takenAt: string | null; readonly version: string | null } | null;
  readonly recovery: string | null;
}

function openReadonly(file: string): Db {
  try {
    return new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch (e) {
    throw new ClareError('CLARE_DB', `cannot open ${file}: ${(e as Error).message}`, { path: file });
  }
}

function meta(db: Db, key: string): string | null {
  const r = stmt(db, 'SELECT value FROM local_meta WHERE key = ?').get(key) as { value: string } | undefined;
  return r?.value ?? null;
}

/** `PRAGMA quick_check`: 'ok', or the first problems SQLite reports. */
export function quickCheck(db: Db): string {
  const rows = db.pragma('quick_check(20)') as { quick_check: string }[];
  return rows.map((r) => r.quick_check).join('; ');
}

/**
 * Says what `file` is, or throws CLARE_DB saying what it is not: not SQLite, SQLite
 * but not Clare's, damaged, or of a schema newer than this Clare knows.
 */
export function inspectDatabase(file: string): DatabaseInfo {
  if (!existsSync(file)) throw new ClareError('CLARE_DB', `${file} does not exist`, { path: file });
  const db = openReadonly(file);
  try {
    let schema: number;
    try {
      schema = db.pragma('user_version', { simple: true }) as number;
    } catch (e) {
      throw new ClareError('CLARE_DB', `${file} is not an SQLite database (${(e as Error).message})`, { path: file });
    }
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
    if (!tables.has('events') || !tables.has('watermarks') || !tables.has('local_meta') || schema < 1) {
      throw new ClareError('CLARE_DB', `${file} is an SQLite database but not Clare's (no events, watermarks and local_meta tables at a Clare schema version; it has ${tables.size === 0 ? 'no tables' : [...tables].slice(0, 8).join(', ')})`, { path: file });
    }
    if (schema > MIGRATIONS.length) {
      throw new ClareError('CLARE_DB', `${file} is a Clare database of schema ${schema}, newer than this Clare (${MIGRATIONS.length}); upgrade Clare first`, { path: file, schema });
    }
    const check = quickCheck(db);
    if (check !== 'ok') throw new ClareError('CLARE_DB', `${file} is a damaged Clare database: ${check}`, { path: file });
    const w = db.prepare('SELECT count(*) AS origins, coalesce(sum(count), 0) AS events FROM watermarks').get() as { origins: number; events: number };
    const stampText = meta(db, BACKUP_META.machineId);
    const stamped = stampText === null ? null : machineIdSchema.safeParse(stampText);
    if (stamped?.success === false) throw new ClareError('CLARE_DB', `${file} carries a backup stamp that is not a machine id (${JSON.stringify(stampText?.slice(0, 60))})`, { path: file });
    return {
      file, schema, events: w.events, origins: w.origins,
      backupOf: stamped === null ? null : { machineId: stamped.data, name: meta(db, BACKUP_META.name), takenAt: meta(db, BACKUP_META.takenAt), version: meta(db, BACKUP_META.version) },
      recovery: recoveryState(db),
    };
  } finally {
    db.close();
  }
}

/**
 * Whether some process (a daemon, `clare rebuild`) has the database open: an
 * exclusive lock cannot be taken while any other connection holds it.
 */
export function databaseInUse(file: string): boolean {
  if (!existsSync(file)) return false;
  const db = new Database(file, { fileMustExist: true, timeout: 200 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw new ClareError('CLARE_DB', `cannot check whether ${file} is in use: ${(e as Error).message}`, { path: file });
  } finally {
    db.close();
  }
}

/** A temporary name next to `file` (same directory, so the final rename is atomic). */
function tempNameFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

function removeDbFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Copies `source` (read-only, live or not) to `target` with the online backup API, all pages in one step. */
async function copyDatabase(source: string, target: string): Promise<void> {
  const src = openReadonly(source);
  try {
    // One step for all pages: a single read transaction, one consistent snapshot.
    await src.backup(target, { progress: () => 0x7fffffff });
  } finally {
    src.close();
  }
}

/** Makes the copy at `file` one self-contained file: no WAL, checked, then synced. */
function finishCopy(file: string, write: (db: Db) => void): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    const check = quickCheck(db);
    if (check !== 'ok') throw new ClareError('CLARE_DB', `the copy failed its integrity check: ${check}`, { path: file });
    db.transaction(() => write(db))();
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
  rmSync(`${file}-wal`, { force: true });
  rmSync(`${file}-shm`, { force: true });
  fsyncPath(file);
}

export interface BackupStamp {
  readonly machineId: string;
  readonly name: string;
  readonly version: string;
}

export interface BackupResult {
  readonly file: string;
  readonly bytes: number;
  readonly events: number;
  readonly schema: number;
  readonly ms: number;
}

/**
 * Writes a consistent backup of `dbFile` to `target` while the daemon may be
 * writing: online backup API from a read-only connection, into a temp file beside
 * the target, integrity-checked, stamped with `stamp`, then renamed into place.
 */
export async function backupDatabase(dbFile: string, target: string, stamp: BackupStamp): Promise<BackupResult> {
  const started = performance.now();
  inspectDatabase(dbFile);
  if (!existsSync(dirname(target))) throw new ClareError('CLARE_BAD_REQUEST', `the directory of ${target} does not exist`, { path: target });
  const tmp = tempNameFor(target);
  try {
    await copyDatabase(dbFile, tmp);
    finishCopy(tmp, (db) => {
      const put = db.prepare('INSERT OR REPLACE INTO local_meta (key, value) VALUES (?, ?)');
      put.run(BACKUP_META.machineId, stamp.machineId);
      put.run(BACKUP_META.name, stamp.name);
      put.run(BACKUP_META.takenAt, new Date().toISOString());
      put.run(BACKUP_META.version, stamp.version);
    });
    const info = inspectDatabase(tmp);
    renameSync(tmp, target);
    fsyncPath(dirname(target));
    return { file: target, bytes: statSync(target).size, events: info.events, schema: info.schema, ms: performance.now() - started };
  } catch (e) {
    removeDbFiles(tmp);
    throw e;
  }
}

export interface RestoreOptions {
  /** This machine's id (from clare.toml). */
  readonly machineId: string;
  /** Overwrite an existing database (kept beside it as `<db>.replaced-<time>`), or take an unstamped copy. */
  readonly force: boolean;
}

export interface RestoreResult {
  readonly source: DatabaseInfo;
  readonly dbFile: string;
  /** Where the database that was replaced was kept, or null when there was none. */
  readonly replaced: string | null;
}

/**
 * Puts the backup `source` in place of `dbFile` on a stopped machine and marks it
 * for recovery. Refuses (CLARE_CONFLICT) when the database is open by a process,
 * when it exists and `force` is not set, when `source` is another machine's backup,
 * and when `source` is an unstamped copy without `force`.
 */
export async function restoreDatabase(source: string, dbFile: string, o: RestoreOptions): Promise<RestoreResult> {
  const info = inspectDatabase(source);
  if (info.backupOf !== null && info.backupOf.machineId !== o.machineId) {
    throw new ClareError('CLARE_CONFLICT', `${source} is a backup of machine ${info.backupOf.machineId}${info.backupOf.name === null ? '' : ` (${info.backupOf.name})`} taken ${info.backupOf.takenAt ?? 'at an unknown time'}, and this machine is ${o.machineId}: restore it on that machine, or move its events here with \`clare export\` there and \`clare import\` here`, { source, backup_of: info.backupOf.machineId, machine_id: o.machineId });
  }
  if (info.backupOf === null && !o.force) {
    throw new ClareError('CLARE_CONFLICT', `${source} is a Clare database (schema ${info.schema}, ${info.events} events from ${info.origins} machines) but not a \`clare backup\`: nothing says it belongs to this machine (${o.machineId}). If it is this machine's database, restore it with --force`, { source });
  }
  if (existsSync(dbFile)) {
    if (databaseInUse(dbFile)) throw new ClareError('CLARE_CONFLICT', `${dbFile} is open by a running process (the daemon?): stop it first (systemctl --user stop clare)`, { path: dbFile });
    if (!o.force) throw new ClareError('CLARE_CONFLICT', `${dbFile} exists; restoring would replace it. Pass --force to restore anyway (the current database is kept beside it as ${basename(dbFile)}.replaced-<time>)`, { path: dbFile });
  }
  const tmp = tempNameFor(dbFile);
  try {
    await copyDatabase(source, tmp);
    finishCopy(tmp, (db) => {
      const put = db.prepare('INSERT OR REPLACE INTO local_meta (key, value) VALUES (?, ?)');
      put.run(RECOVERY_KEY, RECOVERY_PENDING);
      put.run('restored_at', new Date().toISOString());
      // The stamp describes the copy, not the live database it becomes.
      const drop = db.prepare('DELETE FROM local_meta WHERE key = ?');
      for (const k of Object.values(BACKUP_META)) drop.run(k);
    });
    let replaced: string | null = null;
    if (existsSync(dbFile)) {
      // Fold the old database's WAL into it first: a -wal left beside the restored file would be replayed onto it.
      const old = new Database(dbFile, { fileMustExist: true });
      try {
        old.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        old.close();
      }
      replaced = `${dbFile}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(dbFile, replaced);
    }
    rmSync(`${dbFile}-wal`, { force: true });
    rmSync(`${dbFile}-shm`, { force: true });
    renameSync(tmp, dbFile);
    fsyncPath(dirname(dbFile));
    return { source: info, dbFile, replaced };
  } catch (e) {
    removeDbFiles(tmp);
    throw e;
  }
}
