/** Groups of sessions by `host:session` patterns: replicated data, edited by events. */
import type { StoreContext } from '../context.js';
import { commitLocal } from '../context.js';
import { ClareError } from '../errors.js';
import type { EventDraft } from '../events/catalog.js';
import type { Group } from '../../protocol/models.js';
import type { Page } from '../../protocol/page.js';
import { getGroup, getGroupOrThrow, pageGroups, type PageRequest } from '../queries.js';
import type { CreateGroupInput, UpdateGroupInput } from '../../protocol/inputs.js';

function activeGroup(ctx: StoreContext, name: string): Group {
  const g = getGroup(ctx.db, name);
  if (g === null || g.archived) throw new ClareError('CLARE_NOT_FOUND', `no group ${JSON.stringify(name)}; \`clare group list\` shows them`, { kind: 'group', ref: name });
  return g;
}

/** Creates a group, or adds members to an existing one (creating is idempotent by name). */
export function createGroup(ctx: StoreContext, input: CreateGroupInput): Group {
  const existing = getGroup(ctx.db, input.name);
  const drafts: EventDraft[] = [];
  if (existing === null || existing.archived) drafts.push({ type: 'group.created', payload: { group: input.name } });
  const have = new Set(existing !== null && !existing.archived ? existing.members : []);
  for (const pattern of new Set(input.members)) if (!have.has(pattern)) drafts.push({ type: 'group.member_added', payload: { group: input.name, pattern } });
  if (drafts.length > 0) commitLocal(ctx, drafts);
  return getGroupOrThrow(ctx.db, input.name);
}

export function updateGroup(ctx: StoreContext, name: string, input: UpdateGroupInput): Group {
  const g = activeGroup(ctx, name);
  const have = new Set(g.members);
  const drafts: EventDraft[] = [];
  for (const pattern of new Set(input.add ?? [])) if (!have.has(pattern)) drafts.push({ type: 'group.member_added', payload: { group: g.name, pattern } });
  for (const pattern of new Set(input.remove ?? [])) if (have.has(pattern)) drafts.push({ type: 'group.member_removed', payload: { group: g.name, pattern } });
  if (drafts.length > 0) commitLocal(ctx, drafts);
  return getGroupOrThrow(ctx.db, g.name);
}

export function archiveGroup(ctx: StoreContext, name: string): Group {
  const g = activeGroup(ctx, name);
  commitLocal(ctx, [{ type: 'group.archived', payload: { group: g.name } }]);
  return getGroupOrThrow(ctx.db, g.name);
}

/** One page of groups by name. */
export function groups(ctx: StoreContext, p: PageRequest): Page<Group> {
  return pageGroups(ctx.db, {}, p);
}

export function findGroup(ctx: StoreContext, name: string): Group {
  return activeGroup(ctx, name);
}
