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
 * assignments; for the rank columns (migration 6), its project_id, priority and
 * created_hlc, and its project's created/archived/weight. Hence: a task's own write
 * refreshes it, and when its settledness flips, the tasks that depend on it are
 * refreshed too (their bucket cannot change, so this never cascades further); a
 * project's write refreshes the rank of its tasks (`refreshProjectRank`).
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
  project_id: string | null; created_ms: string | null; rank_base: number | null;
  bucket: Bucket | null; ready: number | null;
  s_project_id: string | null; s_created_ms: string | null; s_rank_base: number | null;
}

/**
 * A task's rank_base (schema migration 6) from its row `t` and its project's row `p`:
 * priority − log2(weight), NULL when the project is not created or is archived. The
 * one expression both refreshes use, so they cannot disagree.
 */
const RANK_BASE = 'CASE WHEN p.created = 1 AND p.archived = 0 THEN t.priority - log2(coalesce(p.weight, 1)) END';

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
      t.project_id, substr(t.created_hlc, 1, 15) AS created_ms, ${RANK_BASE} AS rank_base,
      s.bucket, s.ready, s.project_id AS s_project_id, s.created_ms AS s_created_ms, s.rank_base AS s_rank_base
    FROM (SELECT ? AS id) k LEFT JOIN tasks t ON t.id = k.id LEFT JOIN projects p ON p.id = t.project_id
      LEFT JOIN task_state s ON s.task_id = k.id`).get(id) as Inputs;
  const bucket: Bucket | null = r.created !== 1 ? null : r.archived === 1 ? 'archived' : ((r.status ?? 'open') as Bucket);
  const ready = bucket === 'open' && r.held === 0;
  const oldReady = r.ready === 1;
  const sameRank = r.project_id === r.s_project_id && r.created_ms === r.s_created_ms && r.rank_base === r.s_rank_base;
  if (r.bucket === bucket && oldReady === ready && (bucket === null || sameRank)) return false;
  if (bucket === null) stmt(db, 'DELETE FROM task_state WHERE task_id = ?').run(id);
  else {
    stmt(db, `INSERT INTO task_state (task_id, bucket, ready, project_id, created_ms, rank_base) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (task_id) DO UPDATE SET bucket = excluded.bucket, ready = excluded.ready,
        project_id = excluded.project_id, created_ms = excluded.created_ms, rank_base = excluded.rank_base`)
      .run(id, bucket, ready ? 1 : 0, r.project_id, r.created_ms, r.rank_base);
  }
  const deltas: [string, number][] = [];
  if (r.bucket !== bucket) {
    if (r.bucket !== null) deltas.push([`tasks.${r.bucket}`, -1]);
    if (bucket !== null) deltas.push([`tasks.${bucket}`, 1]);
  }
  if (oldReady !== ready) deltas.push(['tasks.ready', ready ? 1 : -1]);
  bump(db, deltas);
  return settled(r.bucket) !== settled(bucket);
}

/**
 * Recomputes the rank_base of every task of `projectId`, after a write to the project
 * (created, weight, archived): the only input of task_state a project holds. Their
 * bucket and readiness do not depend on the project, so no counter moves.
 */
export function refreshProjectRank(db: Db, projectId: string): void {
  stmt(db, `UPDATE task_state SET rank_base = (SELECT ${RANK_BASE} FROM tasks t LEFT JOIN projects p ON p.id = t.project_id WHERE t.id = task_state.task_id)
    WHERE task_id IN (SELECT id FROM tasks WHERE project_id = ?)`).run(projectId);
}

/** Refreshes the derived state of `ids` (and of their dependents where that can change). Inside applyEvent's transaction. */
export function refreshTasks(db: Db, ids: readonly (string | null)[]): void {
  for (const id of ids) {
    if (id === null || !refreshOne(db, id)) continue;
    const dependents = stmt(db, 'SELECT task_id FROM task_dependencies WHERE depends_on = ? AND present = 1').all(id) as { task_id: string }[];
    for (const d of dependents) refreshOne(db, d.task_id);
  }
}
