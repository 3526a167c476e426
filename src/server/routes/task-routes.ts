import { z } from 'zod';
import type { StoreContext } from '../../core/context.js';
import { taskStatusSchema } from '../../core/domain.js';
import { taskModel } from '../../protocol/models.js';
import { PAGE_LIMITS, pageQuery } from '../../core/paging.js';
import { pageModel } from '../../protocol/page.js';
import { TASK_ORDERS } from '../../core/task-queries.js';
import { createTaskInput, dependencyInput, nextInput, startTaskInput, updateTaskInput } from '../../protocol/inputs.js';
import { startTask } from '../../core/service/claims.js';
import { changeDependency, createTask, findTask, nextTasks, tasks, updateTask } from '../../core/service/tasks.js';
import { route, type AnyRoute } from '../route.js';
import { boolQuery, idParams, searchQuery } from './project-routes.js';

import { rankedTaskModel } from '../../protocol/ranked-task.js';

export function taskRoutes(ctx: StoreContext): AnyRoute[] {
  return [
    route({
      method: 'GET', path: '/tasks', tag: 'tasks', summary: 'List tasks, a page at a time (filters: project, status, ready, archived, q)',
      query: z.object({
        project: z.string().min(1).max(200).optional(), status: taskStatusSchema.optional(), ready: boolQuery.optional(), archived: boolQuery.optional(),
        q: searchQuery.optional().describe('substring of the title (ASCII case-insensitive)'),
        order: z.enum(TASK_ORDERS).default('created').describe('created: oldest first; urgency: priority, then oldest; recent: newest status change first'),
        ...pageQuery(...PAGE_LIMITS.tasks),
      }),
      response: pageModel(taskModel),
      handler: ({ query }) => tasks(ctx, {
        project: query.project, status: query.status, ready: query.ready, includeArchived: query.archived === true, q: query.q,
        order: query.order, limit: query.limit, cursor: query.cursor,
      }),
    }),
    route({
      method: 'POST', path: '/tasks', tag: 'tasks', summary: 'Create a task', status: 201, grouped: true,
      body: createTaskInput, response: taskModel,
      handler: ({ body }) => createTask(ctx, body),
    }),
    route({
      method: 'GET', path: '/tasks/next', tag: 'tasks', summary: 'What to work on: the asking session\'s own tasks (held, then assigned), then ready tasks ranked by the scheduler',
      query: nextInput, response: z.array(rankedTaskModel),
      handler: ({ query }) => nextTasks(ctx, query).map((r) => ({ ...r.task, score: r.score, reasons: r.reasons, held: r.held, assigned: r.assigned })),
    }),
    route({
      method: 'GET', path: '/tasks/:id', tag: 'tasks', summary: 'One task, by id, short id or exact title',
      params: idParams, response: taskModel,
      handler: ({ params }) => findTask(ctx, params.id),
    }),
    route({
      method: 'PATCH', path: '/tasks/:id', tag: 'tasks', summary: 'Change fields, status, or archive a task', grouped: true,
      params: idParams, body: updateTaskInput, response: taskModel,
      handler: ({ params, body }) => updateTask(ctx, params.id, body),
    }),
    route({
      method: 'POST', path: '/tasks/:id/start', tag: 'tasks', summary: 'Start a task; with a session, that session claims it (CLARE_CONFLICT if another holds it, unless force)', grouped: true,
      params: idParams, body: startTaskInput, response: taskModel,
      handler: ({ params, body }) => startTask(ctx, params.id, body),
    }),
    route({
      method: 'POST', path: '/tasks/:id/dependencies', tag: 'tasks', summary: 'Add (or with remove: true, remove) a dependency', grouped: true,
      params: idParams, body: dependencyInput, response: taskModel,
      handler: ({ params, body }) => changeDependency(ctx, params.id, body),
    }),
  ];
}
