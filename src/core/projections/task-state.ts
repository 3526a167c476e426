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
import type { Db } from '../db.js';
import { cachedStatement as stmt } from './registers.js';

type Bucket = 'open' | 'in_progress' | 'blocked' | 'done' | 'archived';

interface TaskRow { created: number | null; archived: number; status: string | null }
interface StateRow { bucket: Bucket; ready: number }

/** A bucket settles the tasks that wait for it: done, or archived (abandoned). */
const settled = (b: Bucket | null): boolean => b === 'done' || b === 'archived';

function bucketOf(r: TaskRow | undefined): Bucket | null {
  if (r === undefined || r.created !== 1) return null;
  return r.archived === 1 ? 'archived' : ((r.status ?? 'open') as Bucket);
}

function bump(db: Db, name: string, by: number): void {
  stmt(db, 'INSERT INTO counters (name, n) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET n = n + excluded.n').run(name, by);
}

/** Recomputes one task's row; returns whether its settledness changed. */
function refreshOne(db: Db, id: string): boolean {
  const bucket = bucketOf(stmt(db, 'SELECT created, archived, status FROM tasks WHERE id = ?').get(id) as TaskRow | undefined);
  const ready = bucket === 'open'
    && stmt(db, `SELECT 1 FROM task_dependencies d LEFT JOIN tasks x ON x.id = d.depends_on
      WHERE d.task_id = ? AND d.present = 1 AND coalesce(x.created = 1 AND (x.status = 'done' OR x.archived = 1), 0) = 0 LIMIT 1`).get(id) === undefined
    && stmt(db, 'SELECT 1 FROM assignments WHERE task_id = ? AND created = 1 AND removed = 0 LIMIT 1').get(id) === undefined;
  const old = stmt(db, 'SELECT bucket, ready FROM task_state WHERE task_id = ?').get(id) as StateRow | undefined;
  const oldBucket = old?.bucket ?? null;
  const oldReady = old?.ready === 1;
  if (oldBucket === bucket && oldReady === ready) return false;
  if (bucket === null) stmt(db, 'DELETE FROM task_state WHERE task_id = ?').run(id);
  else stmt(db, 'INSERT INTO task_state (task_id, bucket, ready) VALUES (?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET bucket = excluded.bucket, ready = excluded.ready').run(id, bucket, ready ? 1 : 0);
  if (oldBucket !== bucket) {
    if (oldBucket !== null) bump(db, `tasks.${oldBucket}`, -1);
    if (bucket !== null) bump(db, `tasks.${bucket}`, 1);
  }
  if (oldReady !== ready) bump(db, 'tasks.ready', ready ? 1 : -1);
  return settled(oldBucket) !== settled(bucket);
}

/** Refreshes the derived state of `ids` (and of their dependents where that can change). Inside applyEvent's transaction. */
export function refreshTasks(db: Db, ids: readonly (string | null)[]): void {
  for (const id of ids) {
    if (id === null || !refreshOne(db, id)) continue;
    const dependents = stmt(db, 'SELECT task_id FROM task_dependencies WHERE depends_on = ? AND present = 1').all(id) as { task_id: string }[];
    for (const d of dependents) refreshOne(db, d.task_id);
  }
}
