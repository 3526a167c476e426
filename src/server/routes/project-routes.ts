import { z } from 'zod';
import type { StoreContext } from '../../core/context.js';
import { projectModel } from '../../protocol/models.js';
import { PAGE_LIMITS, pageQuery } from '../../core/paging.js';
import { pageModel } from '../../protocol/page.js';
import { createProjectInput, updateProjectInput } from '../../protocol/inputs.js';
import { createProject, findProject, projects, updateProject } from '../../core/service/projects.js';
import { route, type AnyRoute } from '../route.js';

const idParams = z.object({ id: z.string().min(1).max(200) });
const boolQuery = z.enum(['true', 'false', '1', '0']).transform((s) => s === 'true' || s === '1');
/** A search string (`q`): a substring, ASCII case-insensitive. */
const searchQuery = z.string().min(1).max(200).describe('substring to look for (ASCII case-insensitive)');

export function projectRoutes(ctx: StoreContext): AnyRoute[] {
  return [
    route({
      method: 'GET', path: '/projects', tag: 'projects', summary: 'List projects by name, a page at a time',
      query: z.object({ archived: boolQuery.optional(), q: searchQuery.optional(), ...pageQuery(...PAGE_LIMITS.projects) }),
      response: pageModel(projectModel),
      handler: ({ query }) => projects(ctx, { includeArchived: query.archived === true, q: query.q, limit: query.limit, cursor: query.cursor }),
    }),
    route({
      method: 'POST', path: '/projects', tag: 'projects', summary: 'Create a project', status: 201, grouped: true,
      body: createProjectInput, response: projectModel,
      handler: ({ body }) => createProject(ctx, body),
    }),
    route({
      method: 'GET', path: '/projects/:id', tag: 'projects', summary: 'One project, by id, short id or name',
      params: idParams, response: projectModel,
      handler: ({ params }) => findProject(ctx, params.id),
    }),
    route({
      method: 'PATCH', path: '/projects/:id', tag: 'projects', summary: 'Change fields or archive a project', grouped: true,
      params: idParams, body: updateProjectInput, response: projectModel,
      handler: ({ params, body }) => updateProject(ctx, params.id, body),
    }),
  ];
}

export { boolQuery, idParams, searchQuery };
