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

/**
 * Register writes of many events gathered, then written once per row: per field the
 * write with the newest HLC, which is what the writes one by one would leave (a
 * register takes only a strictly newer HLC, from the batch or already stored). Only
 * for tables nothing reads while the batch applies, so no read sees a write late.
 */
export interface RegisterBatch {
  /** Gathers `values` written at `hlc` to the row `key` of `t`. */
  add(t: RegisterTable, key: readonly SqlValue[], values: Readonly<Record<string, SqlValue>>, hlc: Hlc): void;
  /** Writes what was gathered (one upsert per row) and forgets it. */
  flush(db: Db): void;
}

export function registerBatch(): RegisterBatch {
  const rows = new Map<string, { t: RegisterTable; key: readonly SqlValue[]; fields: Map<string, { value: SqlValue; hlc: Hlc }> }>();
  return {
    add(t, key, values, hlc) {
      const k = JSON.stringify([t.table, key]);
      let row = rows.get(k);
      if (row === undefined) {
        row = { t, key, fields: new Map() };
        rows.set(k, row);
      }
      for (const [f, value] of Object.entries(values)) {
        const cur = row.fields.get(f);
        if (cur === undefined || hlc > cur.hlc) row.fields.set(f, { value, hlc });
      }
    },
    flush(db) {
      for (const { t, key, fields } of rows.values()) {
        // Fields in a fixed order, so rows written the same fields share one statement.
        const sorted = [...fields].sort(([a], [b]) => (a < b ? -1 : 1));
        registerUpsert(db, t, sorted.map(([f]) => f)).run([...key, ...sorted.map(([, w]) => w.value), ...sorted.map(([, w]) => w.hlc)]);
      }
      rows.clear();
    },
  };
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
  /**
   * Which of two concurrent writes stands: `newest` (the LWW registers: the newer
   * HLC) or `claim` (the claim register, claims.ts: the newer base, then the older HLC).
   */
  readonly rule?: 'newest' | 'claim';
}

/** One conflict pair a write formed: the event ids and values (JSON) of both sides. */
export interface ConflictPair {
  readonly winner: { readonly event: string; readonly value: string };
  readonly loser: { readonly event: string; readonly value: string };
}

/**
 * Records an edit and every conflict it forms with earlier-applied edits of the
 * same field: two writes from different machines conflict when neither writer had
 * seen the other (each one's HLC is newer than the other's base) and they wrote
 * different values (the same value written twice loses nothing). Pairs are found
 * whichever arrives first, so the conflicts table is order-independent too.
 * Returns the pairs this write formed.
 */
export function recordFieldWrite(db: Db, w: FieldWrite): ConflictPair[] {
  const value = JSON.stringify(w.value);
  // Only the concurrent ones: another origin, and each write newer than the other's base.
  const others = stmt(db, `SELECT hlc, base, origin, event_id, value FROM field_writes
    WHERE entity = ? AND entity_id = ? AND field = ? AND hlc > ? AND base < ? AND origin <> ? AND value <> ?`)
    .all(w.entity, w.entityId, w.field, w.base, w.hlc, w.origin, value) as { hlc: string; base: string; origin: string; event_id: string; value: string }[];
  const pairs: ConflictPair[] = [];
  for (const o of others) {
    const mineWins = w.rule === 'claim' ? w.base > o.base || (w.base === o.base && w.hlc < o.hlc) : w.hlc > o.hlc;
    const [win, lose] = mineWins
      ? [{ e: w.eventId, h: w.hlc, v: value }, { e: o.event_id, h: o.hlc, v: o.value }]
      : [{ e: o.event_id, h: o.hlc, v: o.value }, { e: w.eventId, h: w.hlc, v: value }];
    stmt(db, `INSERT OR IGNORE INTO conflicts (entity, entity_id, field, winner_event, winner_hlc, winner_value, loser_event, loser_hlc, loser_value)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(w.entity, w.entityId, w.field, win.e, win.h, win.v, lose.e, lose.h, lose.v);
    pairs.push({ winner: { event: win.e, value: win.v }, loser: { event: lose.e, value: lose.v } });
  }
  stmt(db, 'INSERT OR IGNORE INTO field_writes (entity, entity_id, field, hlc, base, origin, event_id, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(w.entity, w.entityId, w.field, w.hlc, w.base, w.origin, w.eventId, value);
  return pairs;
}

/** Inserts an immutable row once; later copies of the same event change nothing. */
export function insertOnce(db: Db, table: string, row: Readonly<Record<string, SqlValue>>): boolean {
  const cols = Object.keys(row);
  return stmt(db, `INSERT OR IGNORE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
    .run(...cols.map((c) => row[c] ?? null)).changes > 0;
}

