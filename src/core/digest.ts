/**
 * `digest`: a stable hash of all projection rows. Two stores have equal digests
 * exactly when their projections are equal (up to SHA-256 collisions), whatever
 * order their events arrived in.
 */
import { createHash } from 'node:crypto';
import type { Db } from './db.js';
import { PROJECTION_TABLES } from './schema.js';

export function digest(db: Db): string {
  const h = createHash('sha256');
  for (const t of PROJECTION_TABLES) {
    if (!t.digest) continue;
    h.update(`\u0000table:${t.name}\u0000`);
    // raw(): arrays in column order, so the hash does not depend on object key order.
    for (const row of db.prepare(`SELECT * FROM ${t.name} ORDER BY ${t.key}`).raw().iterate()) {
      h.update(JSON.stringify(row));
      h.update('\n');
    }
  }
  return h.digest('hex');
}
