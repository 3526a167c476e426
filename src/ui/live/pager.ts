/**
 * Fetching further pages of the lists the snapshot started (protocol 2): the same
 * API routes the CLI uses, continued with the `next_cursor` the page holds. The
 * envelope is checked; rows are the read-models of the daemon that served this page.
 */
import * as z from 'zod/mini';
import { apiRequest } from '../api/api-client.js';
import type { ListName, ListRows, TaskContext } from './fleet-state.js';
import { COLUMN_ORDER_OF } from './task-order.js';
import type { Task, TaskStatus } from '../../protocol/models.js';
import type { Page } from '../../protocol/page.js';

/** Rows per page the board and the lists ask for. */
export const PAGE_ROWS = 50;

const envelope = z.object({ items: z.array(z.looseObject({})), next_cursor: z.nullable(z.string()) });

async function getPage<T>(path: string, params: Record<string, string | undefined>): Promise<Page<T>> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const body = await apiRequest('GET', `${path}?${q.toString()}`);
  const r = envelope.safeParse(body);
  if (!r.success) throw new Error(`GET ${path} answered something that is not a page`);
  // The envelope is checked; rows are the read-models of the daemon that served this page.
  return body as Page<T>;
}

/** One board column of a context: its first page (`after` undefined) or the page after `after`. */
export function fetchColumn(c: TaskContext, status: TaskStatus, after?: string): Promise<Page<Task>> {
  return getPage<Task>('/tasks', {
    status, order: COLUMN_ORDER_OF[status], limit: String(PAGE_ROWS),
    project: c.project ?? undefined, q: c.q === '' ? undefined : c.q, cursor: after,
  });
}

const LIST_PATHS: Readonly<Record<ListName, string>> = {
  projects: '/projects', sessions: '/sessions', groups: '/groups', updates: '/updates', assignments: '/assignments', conflicts: '/conflicts',
};

/** The page of a list after `after` (the snapshot's filters: what the routes list by default). */
export function fetchList<L extends ListName>(list: L, after: string): Promise<Page<ListRows[L]>> {
  return getPage<ListRows[L]>(LIST_PATHS[list], { limit: String(PAGE_ROWS), cursor: after });
}
