/** Project operations: create, update, archive. */
import type { StoreContext } from '../context.js';
import { commitLocal } from '../context.js';
import { ClareError } from '../errors.js';
import type { EventDraft } from '../events/catalog.js';
import { newProjectId } from '../ids.js';
import type { Project } from '../../protocol/models.js';
import type { Page } from '../../protocol/page.js';
import { fieldsBase, getProjectOrThrow, pageProjects, type PageRequest } from '../queries.js';
import { resolveProject } from './resolve.js';
import type { CreateProjectInput, UpdateProjectInput } from '../../protocol/inputs.js';
import { cachedStatement as stmt } from '../db.js';

function assertNameFree(ctx: StoreContext, name: string, except?: string): void {
  const clash = stmt(ctx.db, 'SELECT id FROM projects WHERE created = 1 AND archived = 0 AND lower(name) = lower(?) AND id != ?').get(name, except ?? '') as { id: string } | undefined;
  if (clash !== undefined) throw new ClareError('CLARE_CONFLICT', `a project named ${JSON.stringify(name)} already exists (${clash.id})`, { id: clash.id });
}

export function createProject(ctx: StoreContext, input: CreateProjectInput): Project {
  assertNameFree(ctx, input.name);
  const id = newProjectId();
  commitLocal(ctx, [{ type: 'project.created', payload: { project_id: id, name: input.name, path: input.path ?? null, description: input.description ?? '', weight: input.weight ?? 1 } }]);
  return getProjectOrThrow(ctx.db, id);
}

export function findProject(ctx: StoreContext, ref: string): Project {
  return getProjectOrThrow(ctx.db, resolveProject(ctx.db, ref));
}

/** One page of projects by name; `q` matches a substring of the name. */
export function projects(ctx: StoreContext, opts: { includeArchived?: boolean; q?: string | undefined } & PageRequest): Page<Project> {
  return pageProjects(ctx.db, { includeArchived: opts.includeArchived === true, q: opts.q }, opts);
}

export function updateProject(ctx: StoreContext, ref: string, input: UpdateProjectInput): Project {
  const id = resolveProject(ctx.db, ref);
  const current = getProjectOrThrow(ctx.db, id);
  if (current.archived) throw new ClareError('CLARE_ARCHIVED', `project ${current.name} is archived`, { id });
  if (input.name !== undefined) assertNameFree(ctx, input.name, id);
  const fields: { name?: string; path?: string | null; description?: string; weight?: number } = {};
  if (input.name !== undefined && input.name !== current.name) fields.name = input.name;
  if (input.path !== undefined && input.path !== current.path) fields.path = input.path;
  if (input.description !== undefined && input.description !== current.description) fields.description = input.description;
  if (input.weight !== undefined && input.weight !== current.weight) fields.weight = input.weight;
  const drafts: EventDraft[] = [];
  if (Object.keys(fields).length > 0) {
    drafts.push({ type: 'project.updated', payload: { project_id: id, base: fieldsBase(ctx.db, 'projects', id, Object.keys(fields)), fields } });
  }
  if (input.archived === true) drafts.push({ type: 'project.archived', payload: { project_id: id } });
  if (drafts.length > 0) commitLocal(ctx, drafts);
  return getProjectOrThrow(ctx.db, id);
}

export function archiveProject(ctx: StoreContext, ref: string): Project {
  return updateProject(ctx, ref, { archived: true });
}
