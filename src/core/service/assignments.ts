/** Assigning tasks to sessions. Delivery is done by the owning host's daemon (fleet). */
import type { StoreContext } from '../context.js';
import { commitLocal } from '../context.js';
import { ClareError } from '../errors.js';
import { newAssignmentId, trustedAssignmentId, type TaskId } from '../ids.js';
import type { Assignment } from '../../protocol/models.js';
import type { Page } from '../../protocol/page.js';
import { getAssignmentOrThrow, getTaskOrThrow, pageAssignments, pageSessions, projectsByIds, sessionBusy, type PageRequest } from '../queries.js';
import { rankTasks } from '../scheduler.js';
import type { CreateAssignmentInput } from '../../protocol/inputs.js';
import { resolveAssignment, resolveSession, resolveTask } from './resolve.js';
import { shortId } from '../../protocol/short-id.js';

/**
 * Assigns a task to a session (`host:session`), or with `auto` to the idle session
 * the scheduler likes best for it (the one working in the project's path, else any).
 * A task has at most one active assignment: re-assigning moves it.
 */
export function assign(ctx: StoreContext, input: CreateAssignmentInput): Assignment {
  const taskId = resolveTask(ctx.db, input.task);
  const task = getTaskOrThrow(ctx.db, taskId);
  if (task.archived) throw new ClareError('CLARE_ARCHIVED', `task ${shortId(taskId)} is archived`, { id: taskId });
  if (task.status === 'done') throw new ClareError('CLARE_CONFLICT', `task ${shortId(taskId)} is done; reopen it first (clare task update ${shortId(taskId)} --status open)`, { id: taskId });
  const target = 'session' in input ? resolveSession(ctx.db, input.session) : pickIdleSession(ctx, taskId);
  if (task.assignment !== null && task.assignment.host === target.host && task.assignment.session === target.session) return task.assignment;
  const id = newAssignmentId();
  commitLocal(ctx, [
    ...(task.assignment === null ? [] : [{ type: 'assignment.removed' as const, payload: { assignment_id: trustedAssignmentId(task.assignment.id) } }]),
    { type: 'assignment.created', payload: { assignment_id: id, task_id: taskId, host: target.host, session: target.session } },
  ]);
  return getAssignmentOrThrow(ctx.db, id);
}

/** Sessions `--auto` looks at: the first this many live ones (a fleet is tens of sessions). */
const AUTO_SESSIONS = 1000;

function pickIdleSession(ctx: StoreContext, taskId: TaskId): { host: string; session: string } {
  const idle = pageSessions(ctx.db, {}, { limit: AUTO_SESSIONS }).items.filter((s) => s.state === 'idle' && !sessionBusy(ctx.db, s.host, s.session));
  if (idle.length === 0) throw new ClareError('CLARE_NOT_FOUND', 'no idle session without a task; `clare status` shows the fleet', { kind: 'session' });
  const task = getTaskOrThrow(ctx.db, taskId);
  const projects = [...projectsByIds(ctx.db, [task.project_id]).values()];
  // The session for which this task ranks best (the cwd bonus decides), then name order.
  const scored = idle.map((s) => ({ s, r: rankTasks([{ ...task, ready: true }], projects, { now: 0, cwd: s.cwd })[0]?.score ?? Infinity }));
  scored.sort((a, b) => a.r - b.r || a.s.key.localeCompare(b.s.key));
  const [best] = scored;
  if (best === undefined) throw new ClareError('CLARE_NOT_FOUND', 'no idle session without a task; `clare status` shows the fleet', { kind: 'session' });
  return { host: best.s.host, session: best.s.session };
}

/** One page of assignments, newest first; active only unless `includeRemoved`. */
export function assignments(ctx: StoreContext, opts: { includeRemoved?: boolean; task?: string | undefined } & PageRequest): Page<Assignment> {
  return pageAssignments(ctx.db, {
    includeRemoved: opts.includeRemoved === true,
    ...(opts.task === undefined ? {} : { taskId: resolveTask(ctx.db, opts.task) }),
  }, opts);
}

/** Removes an assignment, by id or short id. */
export function unassign(ctx: StoreContext, ref: string): Assignment {
  const a = getAssignmentOrThrow(ctx.db, resolveAssignment(ctx.db, ref));
  if (!a.removed) commitLocal(ctx, [{ type: 'assignment.removed', payload: { assignment_id: trustedAssignmentId(a.id) } }]);
  return getAssignmentOrThrow(ctx.db, a.id);
}
