/**
 * `rebuild`: drop every projection and replay all events in HLC order. The result
 * must equal the incrementally maintained projections (tested as a law).
 */
import { cachedStatement as stmt, type Db } from './db.js';
import { checkPayload, EVENT_CATALOG, isEventType, type EventDraft } from './events/catalog.js';
import { trustedEventId, trustedHlc, trustedMachineId } from './ids.js';
import { applyEvent } from './projections/apply-event.js';
import { refreshTasks } from './projections/task-state.js';
import { PROJECTION_TABLES, READ_INDEXES } from './schema.js';

/** Replay page size: bounds memory (the events of one page are held at once). */
const PAGE = 5000;

export type Decoded = { kind: 'known'; draft: EventDraft } | { kind: 'skip'; reason: string };

/**
 * Turns a stored payload into an applicable draft, checked against the schemas of
 * this build whatever its version. A current-version payload is not trusted for
 * having been stored: one that came from a newer or unknown peer was stored
 * unchecked (opaque), and after an upgrade its version may be the current one; it
 * must pass the same schemas as one sent today, or it is skipped with the reason.
 */
export function decodeStored(type: string, v: number, payloadJson: string): Decoded {
  const c = checkPayload(type, v, JSON.parse(payloadJson));
  if (c.kind === 'known') return c;
  return { kind: 'skip', reason: c.kind === 'invalid' ? c.message : c.reason };
}

export interface RebuildStats {
  readonly events: number;
  readonly applied: number;
  readonly skipped: number;
  readonly ms: number;
}

/**
 * Rebuilds all projections from the events, in one transaction: a crash in the
 * middle leaves the old projections, never a half-built set.
 */
export function rebuild(db: Db, onProgress?: (done: number) => void): RebuildStats {
  const t0 = performance.now();
  let events = 0;
  let skipped = 0;
  db.transaction(() => {
    for (const t of PROJECTION_TABLES) db.exec(`DELETE FROM ${t.name}`);
    // Indexes only reads use are dropped for the replay and built again after it: one
    // sorted build each instead of an insert per row. In the transaction, like the rest.
    const readIndexes = (stmt(db, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as { name: string; sql: string }[])
      .filter((i) => READ_INDEXES.includes(i.name));
    for (const i of readIndexes) db.exec(`DROP INDEX ${i.name}`);
    const page = stmt(db, 'SELECT id, hlc, origin, type, v, payload FROM events WHERE hlc > ? ORDER BY hlc LIMIT ?');
    const skip = stmt(db, 'INSERT OR IGNORE INTO skipped_events (event_id, type, v, reason) VALUES (?, ?, ?, ?)');
    // Each task's derived state once at the end, not once per event that touches it.
    const touched = new Set<string>();
    let after = '';
    for (;;) {
      const rows = page.all(after, PAGE) as { id: string; hlc: string; origin: string; type: string; v: number; payload: string }[];
      const last = rows.at(-1);
      if (last === undefined) break;
      for (const r of rows) {
        const d = decodeStored(r.type, r.v, r.payload);
        if (d.kind === 'known') applyEvent(db, { id: trustedEventId(r.id), hlc: trustedHlc(r.hlc), origin: trustedMachineId(r.origin), draft: d.draft }, { deferTaskState: touched });
        else {
          skip.run(r.id, r.type, r.v, d.reason);
          skipped++;
        }
      }
      events += rows.length;
      after = last.hlc;
      onProgress?.(events);
    }
    refreshTasks(db, [...touched]);
    for (const i of readIndexes) db.exec(i.sql);
  })();
  return { events, applied: events - skipped, skipped, ms: performance.now() - t0 };
}

/**
 * Events held unapplied because this machine's build did not know their type or
 * version when they came, and that this build can apply: an upgrade taught it. The
 * daemon rebuilds at start when there are any, so an upgraded machine's projections
 * equal its peers' without a manual `clare rebuild`. (Events skipped as invalid are
 * not counted: they stay skipped.)
 */
export function applicableSkipped(db: Db): number {
  const rows = stmt(db, "SELECT type, v, count(*) AS n FROM skipped_events WHERE reason IN ('unknown-type', 'newer-version') GROUP BY type, v").all() as { type: string; v: number; n: number }[];
  return rows.reduce((n, r) => n + (isEventType(r.type) && r.v <= EVENT_CATALOG[r.type].v ? r.n : 0), 0);
}
