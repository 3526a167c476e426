/**
 * The merge primitives behind every projection (cr-sqlite's semantics, HLC as the
 * clock): last-writer-wins field registers, per-element set registers, and the
 * concurrent-write record. Only `applyEvent` calls these.
 *
 * Laws they keep: applying the same writes in any order, any number of times,
 * leaves the same rows, because a register takes a value only from a strictly
 * newer HLC and every HLC is unique per event.
 */
import type { Statement } from 'better-sqlite3';
import { cachedStatement as stmt, type Db } from '../db.js';
import type { Hlc } from '../hlc.js';

export type SqlValue = string | number | null;

/** A table of LWW registers: key columns, and fields each stored as `f` + `f_hlc`. */
export interface RegisterTable {
  readonly table: string;
  readonly key: readonly string[];
}

// The one-statement register write per handle and (table, fields) shape.
const upserts = new WeakMap<Db, Map<string, Statement>>();

function registerUpsert(db: Db, t: RegisterTable, fields: readonly string[]): Statement {
  let m = upserts.get(db);
  if (m === undefined) {
    m = new Map();
    upserts.set(db, m);
  }
  const shape = `${t.table}(${fields.join(',')})`;
  let s = m.get(shape);
  if (s === undefined) {
    const cols = [...t.key, ...fields, ...fields.map((f) => `${f}_hlc`)];
    // SET expressions all read the row as it was, so each field is judged on its own register.
    const newer = (f: string) => `(${t.table}.${f}_hlc IS NULL OR excluded.${f}_hlc > ${t.table}.${f}_hlc)`;
    s = db.prepare(`INSERT INTO ${t.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
      ON CONFLICT (${t.key.join(', ')}) DO UPDATE SET ${fields.map((f) =>
        `${f} = CASE WHEN ${newer(f)} THEN excluded.${f} ELSE ${t.table}.${f} END, ${f}_hlc = CASE WHEN ${newer(f)} THEN excluded.${f}_hlc ELSE ${t.table}.${f}_hlc END`).join(', ')}`);
    m.set(shape, s);
  }
  return s;
}

/**
 * Writes `values` (field → value) at `hlc` into the row with key `key`, field by
 * field: a field takes the value only if `hlc` is newer than its register. Creates
 * the row if missing (an update may arrive before its create). One statement.
 */
export function writeRegisters(db: Db, t: RegisterTable, key: readonly SqlValue[], values: Readonly<Record<string, SqlValue>>, hlc: Hlc): void {
  const fields = Object.keys(values);
  const args: SqlValue[] = [...key];
  for (const f of fields) args.push(values[f] ?? null);
  for (let i = 0; i < fields.length; i++) args.push(hlc);
  registerUpsert(db, t, fields).run(args);
}

/** A per-element set register: `present` 1 or 0, taken only from a newer HLC. Returns whether it changed. */
export function writeElement(db: Db, table: string, keyCols: readonly [string, string], key: readonly [string, string], present: boolean, hlc: Hlc): boolean {
  const r = stmt(db, `INSERT INTO ${table} (${keyCols[0]}, ${keyCols[1]}, present, hlc) VALUES (?, ?, ?, ?)
    ON CONFLICT (${keyCols[0]}, ${keyCols[1]}) DO UPDATE SET present = excluded.present, hlc = excluded.hlc WHERE excluded.hlc > ${table}.hlc`)
    .run(key[0], key[1], present ? 1 : 0, hlc);
  return r.changes > 0;
}

export interface FieldWrite {
  readonly entity: 'project' | 'task';
  readonly entityId: string;
  readonly field: string;
  readonly hlc: Hlc;
  /** Newest HLC the writer had seen for the fields it changed; '' when none. */
  readonly base: string;
  readonly origin: string;
  readonly eventId: string;
  readonly value: SqlValue;
}

/**
 * Records an edit and every conflict it forms with earlier-applied edits of the
 * same field: two writes from different machines conflict when neither writer had
 * seen the other (each one's HLC is newer than the other's base). Pairs are found
 * whichever arrives first, so the conflicts table is order-independent too.
 */
export function recordFieldWrite(db: Db, w: FieldWrite): void {
  // Only the concurrent ones: another origin, and each write newer than the other's base.
  const others = stmt(db, `SELECT hlc, base, origin, event_id, value FROM field_writes
    WHERE entity = ? AND entity_id = ? AND field = ? AND hlc > ? AND base < ? AND origin <> ?`)
    .all(w.entity, w.entityId, w.field, w.base, w.hlc, w.origin) as { hlc: string; base: string; origin: string; event_id: string; value: string }[];
  const value = JSON.stringify(w.value);
  for (const o of others) {
    const mineWins = w.hlc > o.hlc;
    const [win, lose] = mineWins
      ? [{ e: w.eventId, h: w.hlc, v: value }, { e: o.event_id, h: o.hlc, v: o.value }]
      : [{ e: o.event_id, h: o.hlc, v: o.value }, { e: w.eventId, h: w.hlc, v: value }];
    stmt(db, `INSERT OR IGNORE INTO conflicts (entity, entity_id, field, winner_event, winner_hlc, winner_value, loser_event, loser_hlc, loser_value)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(w.entity, w.entityId, w.field, win.e, win.h, win.v, lose.e, lose.h, lose.v);
  }
  stmt(db, 'INSERT OR IGNORE INTO field_writes (entity, entity_id, field, hlc, base, origin, event_id, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(w.entity, w.entityId, w.field, w.hlc, w.base, w.origin, w.eventId, value);
}

/** Inserts an immutable row once; later copies of the same event change nothing. */
export function insertOnce(db: Db, table: string, row: Readonly<Record<string, SqlValue>>): boolean {
  const cols = Object.keys(row);
  return stmt(db, `INSERT OR IGNORE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
    .run(...cols.map((c) => row[c] ?? null)).changes > 0;
}

