/**
 * Opening Clare's SQLite database: pragmas and migrations. There is no
 * module-level connection: callers open a handle and pass it to every function.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database, { type Statement } from 'better-sqlite3';
import { ClareError } from './errors.js';
import { registerDigestFunctions } from './event-digest.js';
import { MIGRATIONS } from './schema.js';

export type Db = Database.Database;

// Prepared statements per handle and SQL text; keyed by the handle so there is no
// module-level connection, and dropped with it.
const statements = new WeakMap<Db, Map<string, Statement>>();

/** The prepared statement for `sql` on `db`, prepared once per handle. Every query goes through here. */
export function cachedStatement(db: Db, sql: string): Statement {
  let m = statements.get(db);
  if (m === undefined) {
    m = new Map();
    statements.set(db, m);
  }
  let s = m.get(sql);
  if (s === undefined) {
    s = db.prepare(sql);
    m.set(sql, s);
  }
  return s;
}

export interface OpenOptions {
  /** Open read-only (no migrations); fails if the file is missing. */
  readonly readonly?: boolean;
}

/**
 * Opens (creating if needed) the database at `path` (`:memory:` for tests), in WAL
 * mode with synchronous=NORMAL: a crash loses at most the last transactions, never
 * consistency. Migrates to the newest schema.
 */
export function openDb(path: string, opts: OpenOptions = {}): Db {
  let db: Db;
  try {
    if (path !== ':memory:' && opts.readonly !== true) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { readonly: opts.readonly === true, fileMustExist: opts.readonly === true });
  } catch (e) {
    throw new ClareError('CLARE_DB', `cannot open database ${path}: ${(e as Error).message}`, { path });
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (opts.readonly !== true) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // 64 MiB page cache: keeps the hlc/id indexes hot past a few hundred thousand events.
      db.pragma('cache_size = -65536');
      // Checkpoint every ~40 MB of WAL instead of 4 MB: each checkpoint copies and fsyncs
      // the pages projections dirtied; fewer, larger ones measured +70% ingest of remote batches.
      db.pragma('wal_autocheckpoint = 10000');
      // The WAL file keeps its largest size unless told otherwise: after a migration or a
      // rebuild of 1M events it stayed at 506 MB (scale bench). Once a checkpoint has reset
      // it, SQLite truncates it back to 64 MiB.
      db.pragma('journal_size_limit = 67108864');
      // Statement and savepoint journals in memory, not in a temp file: every upsert in a
      // multi-statement transaction keeps one, and at 64 KiB SQLite spills it to disk —
      // measured 84 KB of temp-file writes per POST /tasks, 7× the WAL bytes, and half the
      // write throughput. Sorts that spill (index builds in migrations and rebuild) stay in
      // memory too; the rebuild bench's peak RSS row keeps that in view.
      db.pragma('temp_store = MEMORY');
      db.pragma('foreign_keys = OFF');
      registerDigestFunctions(db);
      migrate(db, path);
    }
    return db;
  } catch (e) {
    db.close();
    if (e instanceof ClareError) throw e;
    throw new ClareError('CLARE_DB', `cannot prepare database ${path}: ${(e as Error).message}`, { path });
  }
}

function migrate(db: Db, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new ClareError('CLARE_DB', `database ${path} has schema version ${current}, newer than this Clare (${MIGRATIONS.length}); upgrade Clare`, { path, version: current });
  }
  for (const [v, sql] of MIGRATIONS.entries()) {
    if (v < current) continue;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}
