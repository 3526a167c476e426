/**
 * The derived task state (`task_state`) and the `counters` beside it: per task, its
 * bucket (status, or archived) and whether it is ready; per bucket and for ready, how
 * many. They let status count and lists filter by readiness without reading every
 * task. Only `applyEvent` calls `refreshTasks`, after the writes of an event.
 *
 * What must stay true: each row equals what the rules below compute from the rows of
 * tasks, task_dependencies and assignments as they stand, and each counter equals the
 * number of rows it counts. Refreshing after every write that can change an input
 * keeps that, whatever order events arrive in, so rebuild gives the same rows.
 * Inputs of a task's row: its own created/archived/status; its present dependencies
 * and whether each of them is settled (created, and done or archived); its active
 * assignments. Hence: a task's own write refreshes it, and when its settledness
 * flips, the tasks that depend on it are refreshed too (their bucket cannot change,
 * so this never cascades further).
 */
import { cachedStatement as stmt, type Db } from '../db.js';

type Bucket = 'open' | 'in_progress' | 'blocked' | 'done' | 'archived';

/** A task's inputs and its stored state, read in one statement. */
interface Inputs {
  created: number | null; archived: number | null; status: string | null;
  /**
   * For an open task: 1 if a present dependency is not settled (missing, not created,
   * or neither done nor archived) or an active assignment targets it. 1 otherwise.
   */
  held: number;
  bucket: Bucket | null; ready: number | null;
}

/** A bucket settles the tasks that wait for it: done, or archived (abandoned). */
const settled = (b: Bucket | null): boolean => b === 'done' || b === 'archived';

/** Adds each delta to its counter, in one statement. */
function bump(db: Db, deltas: readonly (readonly [string, number])[]): void {
  if (deltas.length === 0) return;
  stmt(db, `INSERT INTO counters (name, n) VALUES ${deltas.map(() => '(?, ?)').join(', ')} ON CONFLICT (name) DO UPDATE SET n = n + excluded.n`).run(deltas.flat());
}

/** Recomputes one task's row; returns whether its settledness changed. */
function refreshOne(db: Db, id: string): boolean {
  // Dependencies and assignments only matter for an open task (CASE evaluates them lazily).
  const r = stmt(db, `SELECT t.created, t.archived, t.status,
      CASE WHEN t.created = 1 AND t.archived = 0 AND coalesce(t.status, 'open') = 'open' THEN
        EXISTS (SELECT 1 FROM task_dependencies d LEFT JOIN tasks x ON x.id = d.depends_on
          WHERE d.task_id = k.id AND d.present = 1 AND coalesce(x.created = 1 AND (x.status = 'done' OR x.archived = 1), 0) = 0)
        OR EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = k.id AND a.created = 1 AND a.removed = 0)
      ELSE 1 END AS held,
      s.bucket, s.ready
    FROM (SELECT ? AS id) k LEFT JOIN tasks t ON t.id = k.id LEFT JOIN task_state s ON s.task_id = k.id`).get(id) as Inputs;
  const bucket: Bucket | null = r.created !== 1 ? null : r.archived === 1 ? 'archived' : ((r.status ?? 'open') as Bucket);
  const ready = bucket === 'open' && r.held === 0;
  const oldReady = r.ready === 1;
  if (r.bucket === bucket && oldReady === ready) return false;
  if (bucket === null) stmt(db, 'DELETE FROM task_state WHERE task_id = ?').run(id);
  else stmt(db, 'INSERT INTO task_state (task_id, bucket, ready) VALUES (?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET bucket = excluded.bucket, ready = excluded.ready').run(id, bucket, ready ? 1 : 0);
  const deltas: [string, number][] = [];
  if (r.bucket !== bucket) {
    if (r.bucket !== null) deltas.push([`tasks.${r.bucket}`, -1]);
    if (bucket !== null) deltas.push([`tasks.${bucket}`, 1]);
  }
  if (oldReady !== ready) deltas.push(['tasks.ready', ready ? 1 : -1]);
  bump(db, deltas);
  return settled(r.bucket) !== settled(bucket);
}

/** Refreshes the derived state of `ids` (and of their dependents where that can change). Inside applyEvent's transaction. */
export function refreshTasks(db: Db, ids: readonly (string | null)[]): void {
  for (const id of ids) {
    if (id === null || !refreshOne(db, id)) continue;
    const dependents = stmt(db, 'SELECT task_id FROM task_dependencies WHERE depends_on = ? AND present = 1').all(id) as { task_id: string }[];
    for (const d of dependents) refreshOne(db, d.task_id);
  }
}
