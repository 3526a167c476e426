/**
 * Claiming a task: the session that works on it becomes its holder (task.claimed,
 * merged by the rule in projections/claims.ts). A session claims by starting the
 * task (`clare task start --session`), or when an assignment is typed into it.
 */
import type { StoreContext } from '../context.js';
import { commitLocal } from '../context.js';
import { sessionKey } from '../domain.js';
import { ClareError } from '../errors.js';
import type { EventDraft } from '../events/catalog.js';
import { trustedAssignmentId, trustedTaskId } from '../ids.js';
import type { Task } from '../../protocol/models.js';
import type { Db } from '../db.js';
import { fieldsBase, getTask, getTaskOrThrow, newestClaimHlc } from '../queries.js';
import type { StartTaskInput } from '../../protocol/inputs.js';
import { resolveSession, resolveTask, shortId } from './resolve.js';
import { updateTask } from './tasks.js';

type SessionRef = { readonly host: string; readonly session: string };

const same = (a: SessionRef | null, b: SessionRef): boolean => a !== null && a.host === b.host && a.session === b.session;

/**
 * The events that make `target` the holder of `task` and put it in progress (none
 * when it already is). Without `force`, a task another session holds, or one
 * assigned to another session, is refused with CLARE_CONFLICT; with it, the claim
 * names the holder it takes over from and the other assignment is removed.
 */
export function claimDrafts(db: Db, task: Task, target: SessionRef, opts: { force: boolean; note?: string | undefined }): EventDraft[] {
  const id = trustedTaskId(task.id);
  if (task.archived) throw new ClareError('CLARE_ARCHIVED', `task ${shortId(id)} is archived`, { id });
  if (task.status === 'done') throw new ClareError('CLARE_CONFLICT', `task ${shortId(id)} is done; reopen it first (clare task reopen ${shortId(id)})`, { id });
  const holder = task.holder;
  const other = task.assignment !== null && !same(task.assignment, target) ? task.assignment : null;
  if (!opts.force) {
    if (holder !== null && !same(holder, target)) {
      throw new ClareError('CLARE_CONFLICT', `task ${shortId(id)} is held by ${sessionKey(holder.host, holder.session)} since ${holder.since}; --force takes it over`, { id, holder: sessionKey(holder.host, holder.session) });
    }
    if (other !== null && holder === null) {
      throw new ClareError('CLARE_CONFLICT', `task ${shortId(id)} is assigned to ${sessionKey(other.host, other.session)}; --force takes it over`, { id, assigned: sessionKey(other.host, other.session) });
    }
  }
  const drafts: EventDraft[] = [];
  if (other !== null) drafts.push({ type: 'assignment.removed', payload: { assignment_id: trustedAssignmentId(other.id) } });
  if (!same(holder, target)) {
    drafts.push({
      type: 'task.claimed',
      payload: { task_id: id, host: target.host, session: target.session, base: newestClaimHlc(db, id), previous: holder === null ? null : { host: holder.host, session: holder.session } },
    });
  }
  if (task.status !== 'in_progress') {
    drafts.push({ type: 'task.status_changed', payload: { task_id: id, base: fieldsBase(db, 'tasks', id, ['status']), status: 'in_progress', ...(opts.note === undefined ? {} : { note: opts.note }) } });
  }
  return drafts;
}

/**
 * Starts a task. With a session, that session claims it (refused with CLARE_CONFLICT
 * when another session holds it, unless `force`); without one, only the status moves.
 */
export function startTask(ctx: StoreContext, ref: string, input: StartTaskInput): Task {
  const id = resolveTask(ctx.db, ref);
  if (input.session === undefined) return updateTask(ctx, id, { status: 'in_progress', ...(input.note === undefined ? {} : { note: input.note }) });
  const target = resolveSession(ctx.db, input.session);
  const drafts = claimDrafts(ctx.db, getTaskOrThrow(ctx.db, id), target, { force: input.force === true, note: input.note });
  if (drafts.length > 0) commitLocal(ctx, drafts);
  return getTaskOrThrow(ctx.db, id);
}

/**
 * What delivering an assignment to `target` adds to its receipt: the session claims
 * the task (taking it over from any holder: the person who assigned chose), unless
 * the task was finished or archived meanwhile.
 */
export function claimOnDelivery(db: Db, taskId: string, target: SessionRef): EventDraft[] {
  const task = getTask(db, taskId);
  if (task === null || task.archived || task.status === 'done') return [];
  return claimDrafts(db, task, target, { force: true });
}
