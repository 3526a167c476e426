// GET /activity and GET /tasks/:id/history: the task lifecycle from the event log,
// filtered by kind, paged newest first by cursor, each page read from an index.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityEntry } from '../../src/protocol/activity.js';
import type { Page } from '../../src/protocol/page.js';
import { commitLocal } from '../../src/core/context.js';
import { closeTestApp, testApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await closeTestApp(t);
});

async function call<T>(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown): Promise<{ status: number; body: T }> {
  const r = await t.app.inject({ method, url: `/api/v1${url}`, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: r.json<T>() };
}

/** Every item, following next_cursor, `limit` at a time. */
async function all(path: string, limit: number): Promise<ActivityEntry[]> {
  const out: ActivityEntry[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r: { status: number; body: Page<ActivityEntry> } = await call('GET', `${path}${sep}limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeLessThanOrEqual(limit);
    out.push(...r.body.items);
    cursor = r.body.next_cursor;
  } while (cursor !== null);
  return out;
}

describe('activity from the event log', () => {
  it('shows a task\'s whole lifecycle, filters by kind, and pages a task\'s history', async () => {
    commitLocal(t.ctx, [{ type: 'session.seen', payload: { host: 'desk', session: 'api-1', cwd: '/src/api', state: 'idle', last_activity: new Date().toISOString() } }]);
    await call('POST', '/projects', { name: 'api' });
    const a = (await call<{ id: string }>('POST', '/tasks', { project: 'api', title: 'Rate limiter' })).body;
    const b = (await call<{ id: string }>('POST', '/tasks', { project: 'api', title: 'Other' })).body;
    expect((await call('POST', `/tasks/${a.id}/start`, { session: 'desk:api-1' })).status).toBe(200);
    expect((await call('POST', '/updates', { text: 'half way', task: a.id })).status).toBe(201);
    expect((await call('PATCH', `/tasks/${a.id}`, { status: 'blocked', note: 'waiting on infra' })).status).toBe(200);
    expect((await call('PATCH', `/tasks/${a.id}`, { status: 'done' })).status).toBe(200);
    expect((await call('PATCH', `/tasks/${a.id}`, { status: 'open' })).status).toBe(200);
    expect((await call('PATCH', `/tasks/${a.id}`, { priority: 0 })).status).toBe(200);
    expect((await call('POST', '/updates', { text: 'unrelated' })).status).toBe(201);

    const history = await all(`/tasks/${a.id.slice(-8)}/history`, 2);
    const summary = history.map((e) => (e.kind === 'status' ? `status:${e.status ?? ''}` : e.kind)).reverse();
    expect(summary).toEqual(['created', 'claimed', 'status:in_progress', 'note', 'status:blocked', 'status:done', 'status:open', 'edited']);
    expect(history.every((e) => e.task_id === a.id && e.task_title === 'Rate limiter')).toBe(true);
    expect(history.find((e) => e.kind === 'claimed')).toMatchObject({ host: 'desk', session: 'api-1', previous: null });
    expect(history.find((e) => e.status === 'blocked')?.text).toBe('waiting on infra');
    expect(history.find((e) => e.kind === 'edited')?.fields).toEqual(['priority']);
    // Newest first, strictly.
    expect(history.map((e) => e.hlc)).toEqual([...history.map((e) => e.hlc)].sort().reverse());

    const everything = await all('/activity', 3);
    expect(everything.filter((e) => e.task_id === b.id).map((e) => e.kind)).toEqual(['created']);
    expect(everything.some((e) => e.kind === 'note' && e.task_id === null && e.text === 'unrelated')).toBe(true);
    expect(everything.length).toBe(history.length + 2);
    const notes = await all('/activity?kinds=note,created', 1);
    expect(notes.map((e) => e.kind).sort()).toEqual(['created', 'created', 'note', 'note']);

    // A cursor belongs to its filter; a bad kind is a coded refusal.
    const first = await call<Page<ActivityEntry>>('GET', '/activity?kinds=note&limit=1');
    const other = await call<{ error: { code: string } }>('GET', `/activity?kinds=created&cursor=${first.body.next_cursor ?? ''}`);
    expect(other.body.error.code).toBe('CLARE_VALIDATION');
    const bad = await call<{ error: { code: string; message: string } }>('GET', '/activity?kinds=nope');
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toMatch(/unknown kind "nope"/);
    expect((await call('GET', '/tasks/ffffffff/history')).status).toBe(404);
  });

  it('documents both routes in OpenAPI with limit, cursor and a bounded page', async () => {
    const doc = (await call<{ paths: Record<string, { get?: { parameters?: { name: string; schema: { default?: number; maximum?: number } }[] } }> }>('GET', '/openapi.json')).body;
    for (const path of ['/api/v1/activity', '/api/v1/tasks/{id}/history']) {
      const params = doc.paths[path]?.get?.parameters ?? [];
      expect(params.find((p) => p.name === 'limit')?.schema, path).toMatchObject({ default: 50, maximum: 200 });
      expect(params.some((p) => p.name === 'cursor'), path).toBe(true);
    }
    expect((await call('GET', '/activity?limit=201')).status).toBe(422);
  });

  it('reads each page from an index, whatever the size of the log', () => {
    const plan = (sql: string): string => (t.ctx.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    const byType = plan("SELECT id FROM events WHERE type = 'task.created' AND type IN ('task.created', 'task.status_changed', 'task.updated', 'task.archived', 'task.claimed', 'task.claim_notice', 'assignment.created', 'update.posted', 'broadcast.sent') AND hlc < '~' ORDER BY hlc DESC LIMIT 51");
    expect(byType).toMatch(/USING (COVERING )?INDEX events_activity/);
    expect(byType).not.toMatch(/TEMP B-TREE/);
    const byTask = plan("SELECT id FROM events WHERE json_extract(payload, '$.task_id') = 'x' AND type IN ('task.created', 'task.status_changed', 'task.updated', 'task.archived', 'task.claimed', 'task.claim_notice', 'assignment.created', 'update.posted') AND hlc < '~' ORDER BY hlc DESC LIMIT 51");
    expect(byTask).toMatch(/USING INDEX events_task/);
    expect(byTask).not.toMatch(/TEMP B-TREE/);
  });
});
