/** The activity stream and a task's history (core/task-history.ts): paged, newest first, from the event log. */
import { z } from 'zod';
import type { StoreContext } from '../../core/context.js';
import { pageQuery } from '../../core/paging.js';
import { resolveTask } from '../../core/service/resolve.js';
import { pageActivity, pageTaskHistory } from '../../core/task-history.js';
import { ACTIVITY_KINDS } from '../../protocol/activity.js';
import { activityItemModel } from '../../protocol/activity-model.js';
import { pageModel } from '../../protocol/page.js';
import { route, type AnyRoute } from '../route.js';

/** Page sizes of both routes: default, maximum (docs/api.md). */
export const ACTIVITY_PAGE: readonly [number, number] = [50, 200];

const kindsQuery = z.string().max(200)
  .transform((s, c) => {
    const kinds = s.split(',').filter((k) => k !== '');
    for (const k of kinds) {
      if (!(ACTIVITY_KINDS as readonly string[]).includes(k)) {
        c.addIssue({ code: 'custom', message: `unknown kind "${k}"; kinds are ${ACTIVITY_KINDS.join(', ')}` });
        return z.NEVER;
      }
    }
    return kinds as (typeof ACTIVITY_KINDS)[number][];
  })
  .describe(`comma-separated kinds to show (default all): ${ACTIVITY_KINDS.join(', ')}`);

export function activityRoutes(ctx: StoreContext): AnyRoute[] {
  return [
    route({
      method: 'GET', path: '/activity', tag: 'activity',
      summary: 'The activity stream, newest first, a page at a time: task created, status changes, edits, claims, lost claims, assignments, notes, broadcasts (filter: kinds)',
      query: z.object({ kinds: kindsQuery.optional(), ...pageQuery(...ACTIVITY_PAGE) }),
      response: pageModel(activityItemModel),
      handler: ({ query }) => pageActivity(ctx.db, query.kinds === undefined || query.kinds.length === 0 ? undefined : query.kinds, { limit: query.limit, cursor: query.cursor }),
    }),
    route({
      method: 'GET', path: '/tasks/:id/history', tag: 'tasks',
      summary: 'One task\'s history, newest first, a page at a time (id, short id or exact title): created, status changes, edits, claims, lost claims, assignments, notes',
      params: z.object({ id: z.string().min(1).max(200) }),
      query: z.object(pageQuery(...ACTIVITY_PAGE)),
      response: pageModel(activityItemModel),
      handler: ({ params, query }) => pageTaskHistory(ctx.db, resolveTask(ctx.db, params.id), { limit: query.limit, cursor: query.cursor }),
    }),
  ];
}
