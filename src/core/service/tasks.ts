/** Task operations: create, update fields and status, dependencies, archive, ranking. */
import type { StoreContext } from '../context.js';
import { commitLocal } from '../context.js';
import type { TaskStatus } from '../../protocol/models.js';
import { ClareError } from '../errors.js';
import type { EventDraft } from '../events/catalog.js';
import { newTaskId, trustedAssignmentId, type ProjectId } from '../ids.js';
import type { Task } from '../../protocol/models.js';
import type { Page } from '../../protocol/page.js';
import { fieldsBase, getProjectOrThrow, getSession, getTaskOrThrow, heldTasks, pendingAssignedTasks, projectsByIds, projectsHolding, tasksByIds } from '../queries.js';
import { dependencyGraph, pageTasks, readyCandidates, type TaskOrder } from '../task-queries.js';
import { findCycle, rankTasks, type RankedTask } from '../scheduler.js';
import type { CreateTaskInput, DependencyInput, NextInput, UpdateTaskInput } from '../../protocol/inputs.js';
import { parseSessionRef, resolveProject, resolveTask } from './resolve.js';
import { shortId } from '../../protocol/short-id.js';

function activeProject(ctx: StoreContext, ref: string): ProjectId {
  const id = resolveProject(ctx.db, ref);
  const p = getProjectOrThrow(ctx.db, id);
  if (p.archived) throw new ClareError('CLARE_ARCHIVED', `project ${p.name} is archived`, { id });
  return id;
}

function cycleError(path: readonly string[]): ClareError {
  return new ClareError('CLARE_DEPENDENCY_CYCLE', `dependency cycle: ${path.map((id) => shortId(id, path)).join(' → ')}; a task cannot wait for itself`, { cycle: [...path] });
}

export function createTask(ctx: StoreContext, input: CreateTaskInput): Task {
  const projectId = activeProject(ctx, input.project);
  const deps = [...new Set((input.depends_on ?? []).map((d) => resolveTask(ctx.db, d)))];
  const id = newTaskId();
  commitLocal(ctx, [{ type: 'task.created', payload: { task_id: id, project_id: projectId, title: input.title, description: input.description ?? '', priority: input.priority ?? 2, depends_on: deps } }]);
  return getTaskOrThrow(ctx.db, id);
}

export function findTask(ctx: StoreContext, ref: string): Task {
  return getTaskOrThrow(ctx.db, resolveTask(ctx.db, ref));
}

export interface TaskQuery {
  readonly project?: string | undefined;
  readonly status?: TaskStatus | undefined;
  readonly ready?: boolean | undefined;
  readonly includeArchived?: boolean | undefined;
  /** Substring of the title (ASCII case-insensitive). */
  readonly q?: string | undefined;
  readonly order?: TaskOrder | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** One page of tasks (paging.ts); `project` is resolved as a person types it. */
export function tasks(ctx: StoreContext, q: TaskQuery): Page<Task> {
  const projectId = q.project === undefined ? undefined : resolveProject(ctx.db, q.project);
  return pageTasks(ctx.db, { projectId, status: q.status, ready: q.ready, includeArchived: q.includeArchived, q: q.q }, q.order ?? 'created', { limit: q.limit, cursor: q.cursor });
}

export function updateTask(ctx: StoreContext, ref: string, input: UpdateTaskInput): Task {
  const id = resolveTask(ctx.db, ref);
  const current = getTaskOrThrow(ctx.db, id);
  if (current.archived) throw new ClareError('CLARE_ARCHIVED', `task ${shortId(id)} is archived`, { id });
  const fields: { title?: string; description?: string; priority?: number; project_id?: ProjectId } = {};
  if (input.title !== undefined && input.title !== current.title) fields.title = input.title;
  if (input.description !== undefined && input.description !== current.description) fields.description = input.description;
  if (input.priority !== undefined && input.priority !== current.priority) fields.priority = input.priority;
  if (input.project !== undefined) {
    const p = activeProject(ctx, input.project);
    if (p !== current.project_id) fields.project_id = p;
  }
  const drafts: EventDraft[] = [];
  if (Object.keys(fields).length > 0) {
    drafts.push({ type: 'task.updated', payload: { task_id: id, base: fieldsBase(ctx.db, 'tasks', id, Object.keys(fields)), fields } });
  }
  if (input.status !== undefined && input.status !== current.status) {
    const note = input.note === undefined ? {} : { note: input.note };
    drafts.push({ type: 'task.status_changed', payload: { task_id: id, base: fieldsBase(ctx.db, 'tasks', id, ['status']), status: input.status, ...note } });
    // Reopening puts the task back among the ready ones: its assignment ends with its holder.
    if (input.status === 'open' && current.assignment !== null) drafts.push({ type: 'assignment.removed', payload: { assignment_id: trustedAssignmentId(current.assignment.id) } });
  }
  if (input.archived === true) drafts.push({ type: 'task.archived', payload: { task_id: id } });
  if (drafts.length > 0) commitLocal(ctx, drafts);
  return getTaskOrThrow(ctx.db, id);
}

/** Sets a task's status (done, blocked, in_progress, open), optionally with a note. */
export function setTaskStatus(ctx: StoreContext, ref: string, status: TaskStatus, note?: string): Task {
  return updateTask(ctx, ref, note === undefined ? { status } : { status, note });
}

export function archiveTask(ctx: StoreContext, ref: string): Task {
  return updateTask(ctx, ref, { archived: true });
}

/** Adds (or removes) a dependency; refuses one that would close a cycle. */
export function changeDependency(ctx: StoreContext, ref: string, input: DependencyInput): Task {
  const id = resolveTask(ctx.db, ref);
  const dep = resolveTask(ctx.db, input.depends_on);
  const current = getTaskOrThrow(ctx.db, id);
  if (input.remove === true) {
    if (current.depends_on.includes(dep)) commitLocal(ctx, [{ type: 'task.dependency_removed', payload: { task_id: id, depends_on: dep } }]);
    return getTaskOrThrow(ctx.db, id);
  }
  if (dep === id) throw cycleError([id, id]);
  if (current.depends_on.includes(dep)) return current;
  const cycle = findCycle(dependencyGraph(ctx.db), id, [dep]);
  if (cycle !== null) throw cycleError(cycle);
  commitLocal(ctx, [{ type: 'task.dependency_added', payload: { task_id: id, depends_on: dep } }]);
  return getTaskOrThrow(ctx.db, id);
}

/** A task `next` offers: ranked, and whether it is the asking session's own. */
export interface NextTask extends RankedTask {
  /** The asking session holds it (its claim, in progress): work on this first. */
  readonly held: boolean;
  /** Assigned to the asking session, on its way (not yet typed into it, so not yet claimed). */
  readonly assigned: boolean;
}

/**
 * What to work on, best first. With a session: the tasks it holds first (`held`),
 * then those being assigned to it (`assigned`), then the ranked ready tasks — which
 * no session holds or is assigned, by definition of ready — where tasks of the
 * project whose path holds the session's working directory rank higher.
 */
export function nextTasks(ctx: StoreContext, input: NextInput, now: number = Date.now()): NextTask[] {
  let cwd: string | null = null;
  const own: NextTask[] = [];
  const projectId = input.project === undefined ? undefined : resolveProject(ctx.db, input.project);
  if (input.session !== undefined) {
    const s = parseSessionRef(input.session);
    cwd = getSession(ctx.db, s.host, s.session)?.cwd ?? null;
    const held = heldTasks(ctx.db, s.host, s.session, { inProgressOnly: true, limit: input.limit });
    const assigned = pendingAssignedTasks(ctx.db, s.host, s.session, input.limit).filter((id) => !held.includes(id));
    const byId = tasksByIds(ctx.db, [...held, ...assigned]);
    const mine = (ids: readonly string[], kind: 'held' | 'assigned'): NextTask[] => ids.flatMap((id) => {
      const task = byId.get(id);
      if (task === undefined || (projectId !== undefined && task.project_id !== projectId)) return [];
      return [{ task, score: 0, reasons: [kind === 'held' ? 'held by this session' : 'assigned to this session'], held: kind === 'held', assigned: kind === 'assigned' }];
    });
    own.push(...mine(held, 'held'), ...mine(assigned, 'assigned'));
  }
  const rest = input.limit - own.length;
  if (rest <= 0) return own.slice(0, input.limit);
  // SQL picks the best-scored ready tasks (a few spare for floating-point ties); the scheduler ranks them.
  const candidates = readyCandidates(ctx.db, { projectId, now, limit: rest + NEXT_SPARE, nearProjects: cwd === null ? [] : projectsHolding(ctx.db, cwd) });
  const projects = projectsByIds(ctx.db, candidates.map((t) => t.project_id));
  const ranked = rankTasks(candidates, [...projects.values()], { now, cwd }).slice(0, rest);
  return [...own, ...ranked.map((r) => ({ ...r, held: false, assigned: false }))];
}

/** Candidates beyond `limit` that `next` ranks, so scores equal up to rounding cannot push a better task out. */
const NEXT_SPARE = 16;
