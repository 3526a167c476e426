import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventCount } from '../../src/core/store.js';
import { commitLocal } from '../../src/core/context.js';
import { closeTestApp, testApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await closeTestApp(t);
});

async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<{ status: number; body: any }> {
  const r = await t.app.inject({ method, url: `/api/v1${url}`, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: r.body === '' ? null : JSON.parse(r.body) };
}

describe('projects and tasks', () => {
  it('creates, lists, finds by name, short id and id, and updates', async () => {
    const p = await call('POST', '/projects', { name: 'api', path: '/srv/api' });
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({ name: 'api', path: '/srv/api', weight: 1, archived: false });
    expect((await call('GET', '/projects')).body.items).toHaveLength(1);
    expect((await call('GET', '/projects/api')).body.id).toBe(p.body.id);
    expect((await call('GET', `/projects/${p.body.id.slice(-8)}`)).body.id).toBe(p.body.id);
    const u = await call('PATCH', `/projects/${p.body.id}`, { weight: 2, description: 'the API' });
    expect(u.body).toMatchObject({ weight: 2, description: 'the API' });
  });

  it('refuses a duplicate project name with 409 and writes nothing', async () => {
    await call('POST', '/projects', { name: 'api' });
    const before = eventCount(t.ctx.db);
    const r = await call('POST', '/projects', { name: 'API' });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CLARE_CONFLICT');
    expect(eventCount(t.ctx.db)).toBe(before);
  });

  it('creates tasks with dependencies; next never offers a task with an open dependency', async () => {
    await call('POST', '/projects', { name: 'api' });
    const a = (await call('POST', '/tasks', { project: 'api', title: 'first', priority: 3 })).body;
    const b = (await call('POST', '/tasks', { project: 'api', title: 'second', priority: 0, depends_on: [a.id] })).body;
    expect(b.blocked_by).toEqual([a.id]);
    expect(b.ready).toBe(false);
    let next = (await call('GET', '/tasks/next')).body;
    expect(next.map((x: { id: string }) => x.id)).toEqual([a.id]);
    await call('PATCH', `/tasks/${a.id}`, { status: 'done' });
    next = (await call('GET', '/tasks/next')).body;
    expect(next.map((x: { id: string }) => x.id)).toEqual([b.id]);
    expect(next[0].reasons).toContain('priority 0');
    expect((await call('GET', '/tasks?ready=true')).body.items.map((x: { id: string }) => x.id)).toEqual([b.id]);
    expect((await call('GET', '/tasks?status=done')).body.items.map((x: { id: string }) => x.id)).toEqual([a.id]);
    expect((await call('GET', '/tasks?project=api')).body.items).toHaveLength(2);
  });

  it('refuses dependency cycles with a clear error', async () => {
    await call('POST', '/projects', { name: 'api' });
    const a = (await call('POST', '/tasks', { project: 'api', title: 'a' })).body;
    const b = (await call('POST', '/tasks', { project: 'api', title: 'b', depends_on: [a.id] })).body;
    const c = (await call('POST', '/tasks', { project: 'api', title: 'c', depends_on: [b.id] })).body;
    const r = await call('POST', `/tasks/${a.id}/dependencies`, { depends_on: c.id });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CLARE_DEPENDENCY_CYCLE');
    expect(r.body.error.message).toContain('cycle');
    const self = await call('POST', `/tasks/${a.id}/dependencies`, { depends_on: a.id });
    expect(self.body.error.code).toBe('CLARE_DEPENDENCY_CYCLE');
    const removed = await call('POST', `/tasks/${c.id}/dependencies`, { depends_on: b.id, remove: true });
    expect(removed.body.depends_on).toEqual([]);
  });

  it('finds a task by a short id: its last 8 (or 6–7) characters, or a prefix', async () => {
    await call('POST', '/projects', { name: 'api' });
    const t = (await call('POST', '/tasks', { project: 'api', title: 'short' })).body;
    for (const ref of [t.id.slice(-8), t.id.slice(-6), t.id.slice(-12), t.id.slice(0, 24)]) {
      const r = await call('GET', `/tasks/${ref}`);
      expect(r.status, ref).toBe(200);
      expect(r.body.id).toBe(t.id);
    }
    expect((await call('GET', `/tasks/${t.id.slice(-8).replace(/./, (c: string) => (c === 'f' ? 'e' : 'f'))}`)).status).toBe(404);
  });

  it('finds a task by exact title and reports ambiguity', async () => {
    await call('POST', '/projects', { name: 'api' });
    await call('POST', '/tasks', { project: 'api', title: 'same' });
    await call('POST', '/tasks', { project: 'api', title: 'same' });
    const r = await call('GET', '/tasks/same');
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CLARE_AMBIGUOUS');
  });
});

describe('lists page', () => {
  it('every list route takes limit and cursor and answers next_cursor, documented in OpenAPI', async () => {
    const doc = (await call('GET', '/openapi.json')).body as { paths: Record<string, { get?: { parameters?: { name: string; schema: { default?: number; maximum?: number } }[]; responses: Record<string, { content: { 'application/json': { schema: { properties?: Record<string, unknown> } } } }> } }> };
    for (const path of ['/tasks', '/projects', '/sessions', '/assignments', '/updates', '/groups', '/conflicts']) {
      const get = doc.paths[`/api/v1${path}`]?.get;
      const limit = get?.parameters?.find((p) => p.name === 'limit');
      expect(limit?.schema.default, path).toBeGreaterThan(0);
      expect(limit?.schema.maximum, path).toBeGreaterThanOrEqual(limit!.schema.default!);
      expect(get?.parameters?.some((p) => p.name === 'cursor'), path).toBe(true);
      expect(Object.keys(get!.responses['200']!.content['application/json'].schema.properties ?? {}), path).toEqual(['items', 'next_cursor']);
      expect((await call('GET', `${path}?limit=${limit!.schema.maximum! + 1}`)).status, path).toBe(422);
    }
  });

  it('pages tasks with limit and cursor, and refuses a cursor of another query', async () => {
    await call('POST', '/projects', { name: 'api' });
    for (let i = 0; i < 5; i++) await call('POST', '/tasks', { project: 'api', title: `t${i}`, priority: 4 - i });
    const first = (await call('GET', '/tasks?limit=2')).body;
    expect(first.items.map((t: { title: string }) => t.title)).toEqual(['t0', 't1']);
    const second = (await call('GET', `/tasks?limit=2&cursor=${first.next_cursor}`)).body;
    expect(second.items.map((t: { title: string }) => t.title)).toEqual(['t2', 't3']);
    const last = (await call('GET', `/tasks?limit=2&cursor=${second.next_cursor}`)).body;
    expect(last).toMatchObject({ items: [{ title: 't4' }], next_cursor: null });
    expect((await call('GET', '/tasks?order=urgency&limit=5')).body.items.map((t: { title: string }) => t.title)).toEqual(['t4', 't3', 't2', 't1', 't0']);
    const wrong = await call('GET', `/tasks?status=open&limit=2&cursor=${first.next_cursor}`);
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.code).toBe('CLARE_VALIDATION');
  });
});

describe('bad input gets a coded error and writes nothing', () => {
  it.each([
    ['malformed JSON', 'POST', '/projects', '{"name": ', 400, 'CLARE_BAD_REQUEST'],
    ['missing field', 'POST', '/projects', {}, 422, 'CLARE_VALIDATION'],
    ['unknown field', 'POST', '/projects', { name: 'x', colour: 'red' }, 422, 'CLARE_VALIDATION'],
    ['relative path', 'POST', '/projects', { name: 'x', path: 'rel/dir' }, 422, 'CLARE_VALIDATION'],
    ['priority out of range', 'POST', '/tasks', { project: 'x', title: 't', priority: 7 }, 422, 'CLARE_VALIDATION'],
    ['unknown project', 'POST', '/tasks', { project: 'nope', title: 't' }, 404, 'CLARE_NOT_FOUND'],
    ['unknown task in an assignment', 'POST', '/assignments', { task: 'x', session: 'desk:a' }, 404, 'CLARE_NOT_FOUND'],
    ['assignment without session or auto', 'POST', '/assignments', { task: 'x' }, 422, 'CLARE_VALIDATION'],
    ['broadcast to unknown group', 'POST', '/broadcast', { group: 'g', message: 'hi' }, 404, 'CLARE_NOT_FOUND'],
    ['no route', 'GET', '/nothing', undefined, 404, 'CLARE_NOT_FOUND'],
  ])('%s', async (_name, method, url, payload, status, code) => {
    const before = eventCount(t.ctx.db);
    const r = await t.app.inject({
      method: method as 'GET' | 'POST', url: `/api/v1${url}`,
      ...(payload === undefined ? {} : typeof payload === 'string' ? { payload, headers: { 'content-type': 'application/json' } } : { payload: payload }),
    });
    expect(r.statusCode).toBe(status);
    expect(JSON.parse(r.body).error.code).toBe(code);
    expect(eventCount(t.ctx.db)).toBe(before);
  });
});

describe('groups, updates, broadcasts, assignments', () => {
  it('manages groups by name with member patterns', async () => {
    const g = await call('POST', '/groups', { name: 'api', members: ['desk:api-*', 'build:*'] });
    expect(g.status).toBe(201);
    expect(g.body.members).toEqual(['build:*', 'desk:api-*']);
    const u = await call('PATCH', '/groups/api', { remove: ['build:*'], add: ['laptop:x'] });
    expect(u.body.members).toEqual(['desk:api-*', 'laptop:x']);
    expect((await call('POST', '/groups', { name: 'bad', members: ['no-colon'] })).status).toBe(422);
    expect((await call('DELETE', '/groups/api')).body.archived).toBe(true);
    expect((await call('GET', '/groups')).body).toEqual({ items: [], next_cursor: null });
  });

  it('posts notes and broadcasts with a TTL', async () => {
    await call('POST', '/groups', { name: 'all', members: ['*:*'] });
    const b = await call('POST', '/broadcast', { group: 'all', message: 'stop and commit', ttl_s: 3600 });
    expect(b.status).toBe(201);
    expect(b.body).toMatchObject({ kind: 'broadcast', group: 'all', ttl_s: 3600 });
    expect(Date.parse(b.body.expires_at) - Date.parse(b.body.created_at)).toBe(3_600_000);
    const n = await call('POST', '/updates', { text: 'halfway', session: 'desk:api-1' });
    expect(n.body).toMatchObject({ kind: 'note', host: 'desk', session: 'api-1' });
    expect((await call('GET', '/updates')).body.items.map((x: { kind: string }) => x.kind)).toEqual(['note', 'broadcast']);
  });

  it('assigns a task to a known session, moves it, unassigns it', async () => {
    commitLocal(t.ctx, [
      { type: 'session.seen', payload: { host: 'desk', session: 'a', cwd: '/srv/api', state: 'idle', last_activity: new Date().toISOString() } },
      { type: 'session.seen', payload: { host: 'desk', session: 'b', cwd: '/tmp', state: 'idle', last_activity: new Date().toISOString() } },
    ]);
    await call('POST', '/projects', { name: 'api', path: '/srv/api' });
    const task = (await call('POST', '/tasks', { project: 'api', title: 'x' })).body;
    const auto = await call('POST', '/assignments', { task: task.id, auto: true });
    expect(auto.status).toBe(201);
    expect(auto.body).toMatchObject({ host: 'desk', session: 'a', delivery: 'pending' }); // cwd inside the project path wins
    const moved = (await call('POST', '/assignments', { task: task.id, session: 'desk:b' })).body;
    expect((await call('GET', '/assignments')).body.items.map((a: { id: string }) => a.id)).toEqual([moved.id]);
    expect((await call('GET', `/tasks/${task.id}`)).body.assignment.session).toBe('b');
    expect((await call('GET', '/tasks/next')).body).toEqual([]); // assigned tasks are not offered
    expect((await call('DELETE', `/assignments/${moved.id}`)).body.removed).toBe(true);
    expect((await call('GET', '/sessions')).body.items.map((s: { key: string }) => s.key)).toEqual(['desk:a', 'desk:b']);
    const unknown = await call('POST', '/assignments', { task: task.id, session: 'desk:zzz' });
    expect(unknown.body.error.code).toBe('CLARE_NOT_FOUND');
    const malformed = await call('POST', '/assignments', { task: task.id, session: 'nocolon' });
    expect([malformed.status, malformed.body.error.code]).toEqual([422, 'CLARE_VALIDATION']);
  });
});

describe('status, sync state, openapi, auth', () => {
  it('answers status and sync state', async () => {
    await call('POST', '/projects', { name: 'api' });
    const s = (await call('GET', '/status')).body;
    expect(s.machine.name).toBe('desk');
    expect(s.counts.projects).toBe(1);
    const st = (await call('GET', '/sync/state')).body;
    expect(st.machine_id).toBe(t.config.machine_id);
    expect(st.event_count).toBe(eventCount(t.ctx.db));
    expect(st.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(st.watermarks)).toEqual([t.config.machine_id]);
  });

  it('publishes an OpenAPI document generated from the route schemas', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/projects', '/api/v1/tasks/{id}', '/api/v1/broadcast', '/api/v1/status']));
    expect(doc.paths['/api/v1/tasks'].post.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['project', 'title']));
  });

  it('requires the mesh token on sync routes, and on any route from a non-loopback address', async () => {
    const secured = await testApp({ token: 'a-long-enough-secret-token' });
    try {
      const r = await secured.app.inject({ method: 'GET', url: '/api/v1/sync/state' });
      expect(r.statusCode).toBe(401);
      expect(JSON.parse(r.body).error.code).toBe('CLARE_UNAUTHORIZED');
      const wrong = await secured.app.inject({ method: 'GET', url: '/api/v1/sync/state', headers: { authorization: 'Bearer wrong-token-of-some-length' } });
      expect(wrong.statusCode).toBe(401);
      const ok = await secured.app.inject({ method: 'GET', url: '/api/v1/sync/state', headers: { authorization: 'Bearer a-long-enough-secret-token' } });
      expect(ok.statusCode).toBe(200);
      expect((await secured.app.inject({ method: 'GET', url: '/api/v1/status' })).statusCode).toBe(200); // loopback
      const remote = await secured.app.inject({ method: 'GET', url: '/api/v1/status', remoteAddress: '198.18.0.7' });
      expect(remote.statusCode).toBe(401);
    } finally {
      await closeTestApp(secured);
    }
  });
});
