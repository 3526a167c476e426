import { z } from 'zod';
import type { StoreContext } from '../../core/context.js';
import { assignmentModel, groupModel, sessionModel, updateModel } from '../../protocol/models.js';
import { assign, assignments, unassign } from '../../core/service/assignments.js';
import { archiveGroup, createGroup, findGroup, groups, updateGroup } from '../../core/service/groups.js';
import { broadcastInput, createAssignmentInput, createGroupInput, postUpdateInput, updateGroupInput } from '../../protocol/inputs.js';
import { broadcast, postUpdate, updates } from '../../core/service/updates.js';
import { PAGE_LIMITS, pageQuery } from '../../core/paging.js';
import { pageModel } from '../../protocol/page.js';
import { pageConflicts, pageSessions } from '../../core/queries.js';
import { liveConflictModel } from '../../protocol/live.js';
import { toLiveConflict } from '../live-changes.js';
import { route, type AnyRoute } from '../route.js';
import { boolQuery, idParams, searchQuery } from './project-routes.js';

const nameParams = z.object({ name: z.string().min(1).max(64) });

/** Assignments, sessions, groups, updates and broadcasts. */
export function fleetDataRoutes(ctx: StoreContext): AnyRoute[] {
  return [
    route({
      method: 'GET', path: '/assignments', tag: 'assignments', summary: 'List assignments, newest first, a page at a time (active only unless removed=true)',
      query: z.object({ task: z.string().min(1).max(200).optional(), removed: boolQuery.optional(), ...pageQuery(...PAGE_LIMITS.assignments) }),
      response: pageModel(assignmentModel),
      handler: ({ query }) => assignments(ctx, { includeRemoved: query.removed === true, task: query.task, limit: query.limit, cursor: query.cursor }),
    }),
    route({
      method: 'POST', path: '/assignments', tag: 'assignments', summary: 'Assign a task to a session (or auto)', status: 201, grouped: true,
      body: createAssignmentInput, response: assignmentModel,
      handler: ({ body }) => assign(ctx, body),
    }),
    route({
      method: 'DELETE', path: '/assignments/:id', tag: 'assignments', summary: 'Unassign', grouped: true,
      params: idParams, response: assignmentModel,
      handler: ({ params }) => unassign(ctx, params.id),
    }),
    route({
      method: 'GET', path: '/sessions', tag: 'sessions', summary: 'Sessions of the whole fleet by host and name, a page at a time',
      query: z.object({ gone: boolQuery.optional(), host: z.string().min(1).max(200).optional(), ...pageQuery(...PAGE_LIMITS.sessions) }),
      response: pageModel(sessionModel),
      handler: ({ query }) => pageSessions(ctx.db, { includeGone: query.gone === true, host: query.host }, { limit: query.limit, cursor: query.cursor }),
    }),
    route({
      method: 'GET', path: '/groups', tag: 'groups', summary: 'List groups by name, a page at a time',
      query: z.object(pageQuery(...PAGE_LIMITS.groups)),
      response: pageModel(groupModel),
      handler: ({ query }) => groups(ctx, { limit: query.limit, cursor: query.cursor }),
    }),
    route({
      method: 'POST', path: '/groups', tag: 'groups', summary: 'Create a group or add members to it', status: 201, grouped: true,
      body: createGroupInput, response: groupModel,
      handler: ({ body }) => createGroup(ctx, body),
    }),
    route({
      method: 'GET', path: '/groups/:name', tag: 'groups', summary: 'One group',
      params: nameParams, response: groupModel,
      handler: ({ params }) => findGroup(ctx, params.name),
    }),
    route({
      method: 'PATCH', path: '/groups/:name', tag: 'groups', summary: 'Add or remove members', grouped: true,
      params: nameParams, body: updateGroupInput, response: groupModel,
      handler: ({ params, body }) => updateGroup(ctx, params.name, body),
    }),
    route({
      method: 'DELETE', path: '/groups/:name', tag: 'groups', summary: 'Remove (archive) a group', grouped: true,
      params: nameParams, response: groupModel,
      handler: ({ params }) => archiveGroup(ctx, params.name),
    }),
    route({
      method: 'GET', path: '/updates', tag: 'updates', summary: 'Progress notes and broadcasts, newest first, a page at a time',
      query: z.object({
        kind: z.enum(['note', 'broadcast']).optional(), task: z.string().min(1).max(200).optional(),
        q: searchQuery.optional().describe('substring of the text (ASCII case-insensitive)'), ...pageQuery(...PAGE_LIMITS.updates),
      }),
      response: pageModel(updateModel),
      handler: ({ query }) => updates(ctx, { kind: query.kind, task: query.task, q: query.q, limit: query.limit, cursor: query.cursor }),
    }),
    route({
      method: 'GET', path: '/conflicts', tag: 'updates', summary: 'Concurrent edits the merge recorded, newest first, a page at a time',
      query: z.object(pageQuery(...PAGE_LIMITS.conflicts)),
      response: pageModel(liveConflictModel),
      handler: ({ query }) => {
        const p = pageConflicts(ctx.db, { limit: query.limit, cursor: query.cursor });
        return { items: p.items.map(toLiveConflict), next_cursor: p.next_cursor };
      },
    }),
    route({
      method: 'POST', path: '/updates', tag: 'updates', summary: 'Post a progress note', status: 201, grouped: true,
      body: postUpdateInput, response: updateModel,
      handler: ({ body }) => postUpdate(ctx, body),
    }),
    route({
      method: 'POST', path: '/broadcast', tag: 'updates', summary: 'Broadcast a message to a group of sessions', status: 201, grouped: true,
      body: broadcastInput, response: updateModel,
      handler: ({ body }) => broadcast(ctx, body),
    }),
  ];
}
