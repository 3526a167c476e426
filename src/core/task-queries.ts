/**
 * Task lists: pages in three orders with every filter on an index, the tasks that
 * wait for others, and the ready candidates `next` ranks. Rows are completed into
 * read-models by `assembleTasks` (queries.ts) for the rows at hand only, so a page
 * costs the same with a hundred or a million tasks in the store.
 */
import { cachedStatement as stmt, type Db } from './db.js';
import { ClareError } from './errors.js';
import type { TaskStatus } from '../protocol/models.js';
import type { Task } from '../protocol/models.js';
import type { Page } from '../protocol/page.js';
import { continueAfter, scopeOf, toPage, type PageRequest, type SortKey } from './paging.js';
import { assembleTasks, jsonIds, likePattern, TASK_COLS, type TaskRow } from './queries.js';

/** The tasks that wait for any of `taskIds` (present dependency edges). */
export function dependentsOf(db: Db, taskIds: Iterable<string>): string[] {
  return (stmt(db, 'SELECT DISTINCT task_id FROM task_dependencies WHERE present = 1 AND depends_on IN (SELECT value FROM json_each(?))')
    .all(jsonIds(taskIds)) as { task_id: string }[]).map((r) => r.task_id);
}

/** The dependency graph read edge by edge (task → what it depends on), for cycle checks. */
export function dependencyGraph(db: Db): { get(taskId: string): string[] } {
  return {
    get: (taskId) => (stmt(db, 'SELECT depends_on FROM task_dependencies WHERE task_id = ? AND present = 1 ORDER BY depends_on').all(taskId) as { depends_on: string }[]).map((r) => r.depends_on),
  };
}

/**
 * Orders of task lists.
 *   created — oldest first, by the creating event's HLC (causal order): the order of `clare task list`
 *   urgency — priority, then oldest first: the board's open, in progress and blocked columns
 *   recent  — newest status change first: the board's done column
 * The board's orders key on the millisecond of an HLC (its first 15 digits) and the id,
 * so the page can place any task it holds from its `created_at` / `status_at`
 * (src/ui/live/task-order.ts); tasks of one millisecond then follow their ids.
 */
export const TASK_ORDERS = ['created', 'urgency', 'recent'] as const;
export type TaskOrder = (typeof TASK_ORDERS)[number];

const ORDER_SQL: Readonly<Record<TaskOrder, { cols: readonly string[]; dir: 'ASC' | 'DESC'; shape: string; key: (r: TaskRow) => SortKey }>> = {
  created: { cols: ['t.created_hlc', 't.id'], dir: 'ASC', shape: 'ss', key: (r) => [r.created_hlc ?? '', r.id] },
  urgency: { cols: ['t.priority', 'substr(t.created_hlc, 1, 15)', 't.id'], dir: 'ASC', shape: 'nss', key: (r) => [r.priority ?? 2, (r.created_hlc ?? '').slice(0, 15), r.id] },
  recent: { cols: ['substr(t.status_hlc, 1, 15)', 't.id'], dir: 'DESC', shape: 'ss', key: (r) => [(r.status_hlc ?? '').slice(0, 15), r.id] },
};

export interface TaskFilter {
  readonly projectId?: string | undefined;
  readonly status?: TaskStatus | undefined;
  readonly ready?: boolean | undefined;
  readonly includeArchived?: boolean | undefined;
  /** Case-insensitive (ASCII) substring of the title. */
  readonly q?: string | undefined;
}

const taskScope = (f: TaskFilter, order: TaskOrder): string =>
  scopeOf('tasks', order, { project: f.projectId, status: f.status, ready: f.ready, archived: f.includeArchived === true, q: f.q });

/** One page of tasks. Every filter and order is served by an index (schema migration 4). */
export function pageTasks(db: Db, f: TaskFilter, order: TaskOrder, p: PageRequest): Page<Task> {
  const o = ORDER_SQL[order];
  const scope = taskScope(f, order);
  const conds = ['t.created = 1'];
  const args: (string | number)[] = [];
  if (f.includeArchived !== true) conds.push('t.archived = 0');
  if (f.projectId !== undefined) {
    conds.push('t.project_id = ?');
    args.push(f.projectId);
  }
  if (f.status !== undefined) {
    conds.push('t.status = ?');
    args.push(f.status);
  }
  if (f.ready !== undefined) conds.push(`${f.ready ? '' : 'NOT '}EXISTS (SELECT 1 FROM task_state s WHERE s.task_id = t.id AND s.ready = 1)`);
  if (f.q !== undefined) {
    conds.push("t.title LIKE ? ESCAPE '\\'");
    args.push(likePattern(f.q));
  }
  continueAfter(p, scope, o.cols, o.dir, o.shape, conds, args);
  // A project's tasks always through tasks_project: a seek in urgency order, a sort of
  // that project's tasks of the status otherwise. Left to itself the planner (without
  // statistics) sometimes walks a whole status index instead (37 ms vs 2 ms at 1M events).
  const from = f.projectId === undefined ? 'tasks t' : 'tasks t INDEXED BY tasks_project';
  const rows = stmt(db, `SELECT ${TASK_COLS} FROM ${from} WHERE ${conds.join(' AND ')} ORDER BY ${o.cols.map((c) => `${c} ${o.dir}`).join(', ')} LIMIT ?`)
    .all(...args, p.limit + 1) as TaskRow[];
  // Assembled per page, not per row: the lookups are batched.
  const tasks = new Map(assembleTasks(db, rows.slice(0, p.limit)).map((t) => [t.id, t]));
  return toPage(rows, p, scope, o.key, (r) => {
    const t = tasks.get(r.id);
    if (t === undefined) throw new ClareError('CLARE_INTERNAL', `task ${r.id} of a page was not assembled`);
    return t;
  });
}

/**
 * Candidates for ranking: the `limit` ready tasks with the best score (scheduler.ts),
 * computed in SQL over the ready set so only those rows are assembled.
 * `nearProjects`: ids of projects whose path holds the asking session's directory.
 * The caller ranks the candidates again with the scheduler (floating point aside,
 * the same order), so ask for a few more than needed.
 */
export function readyCandidates(db: Db, opts: { projectId?: string | undefined; now: number; limit: number; nearProjects: readonly string[] }): Task[] {
  const conds = ['s.ready = 1'];
  const args: (string | number)[] = [];
  if (opts.projectId !== undefined) {
    conds.push('t.project_id = ?');
    args.push(opts.projectId);
  }
  args.push(JSON.stringify(opts.nearProjects), opts.now);
  // score = priority − log2(weight) − 0.5·[near] − 0.5·min(age, 30 d)/30 d (scheduler.ts); archived projects never rank.
  const rows = stmt(db, `SELECT ${TASK_COLS} FROM task_state s JOIN tasks t ON t.id = s.task_id JOIN projects p ON p.id = t.project_id AND p.created = 1 AND p.archived = 0
    WHERE ${conds.join(' AND ')}
    ORDER BY t.priority - log2(coalesce(p.weight, 1))
      - CASE WHEN t.project_id IN (SELECT value FROM json_each(?)) THEN 0.5 ELSE 0 END
      - 0.5 * min(max(? - CAST(substr(t.created_hlc, 1, 15) AS INTEGER), 0), 2592000000) / 2592000000.0,
      substr(t.created_hlc, 1, 15), t.id
    LIMIT ?`).all(...args, opts.limit) as TaskRow[];
  return assembleTasks(db, rows);
}
