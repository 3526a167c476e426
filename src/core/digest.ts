/**
 * `digest`: a stable hash of all projection rows. Two stores have equal digests
 * exactly when their projections are equal (up to SHA-256 collisions), whatever
 * order their events arrived in.
 */
import { createHash } from 'node:crypto';
import type { Db } from './db.js';
import { PROJECTION_TABLES } from './schema.js';

/**
 * What the previous release (sync protocol 1, schema 2) hashed, for comparing with a
 * version-1 peer, whose state answers its projection digest: the tables and columns
 * added since are left out (columns are appended, so the rest keep their order).
 */
const ADDED_SINCE_V1 = {
  tables: new Set(['lost_claims']),
  columns: new Map([['tasks', new Set(['holder_host', 'holder_session', 'holder_hlc', 'holder_base'])]]),
};

/** The projection digest; `shape: 'v1'` hashes what a version-1 peer hashes. */
export function digest(db: Db, shape: 'current' | 'v1' = 'current'): string {
  const h = createHash('sha256');
  for (const t of PROJECTION_TABLES) {
    if (!t.digest) continue;
    if (shape === 'v1' && ADDED_SINCE_V1.tables.has(t.name)) continue;
    h.update(`\u0000table:${t.name}\u0000`);
    const drop = shape === 'v1' ? ADDED_SINCE_V1.columns.get(t.name) : undefined;
    const cols = drop === undefined ? '*' : (db.prepare(`SELECT name FROM pragma_table_info('${t.name}') ORDER BY cid`).pluck().all() as string[]).filter((c) => !drop.has(c)).join(', ');
    // raw(): arrays in column order, so the hash does not depend on object key order.
    for (const row of db.prepare(`SELECT ${cols} FROM ${t.name} ORDER BY ${t.key}`).raw().iterate()) {
      h.update(JSON.stringify(row));
      h.update('\n');
    }
  }
  return h.digest('hex');
}
