// The live protocol and the dashboard's HTTP surface, on an app that never listens:
// the snapshot, one change frame per changed entity (with derived rows re-read),
// tombstones, coded errors for bad frames, the token rules (?token= only on the live
// route; static files public), caching of the static files, and that every frame the
// server sends is described by its schema (no field the schema lacks) and accepted by
// the page's parser. Both sides take their types from src/protocol.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { initialConfigText, parseConfig } from '../../src/core/config.js';
import { randomUUID } from 'node:crypto';
import { commitLocal, commitRemote } from '../../src/core/context.js';
import type { StoreContext } from '../../src/core/context.js';
import { openDb } from '../../src/core/db.js';
import { newMachineId, newUpdateId, type TaskId, type UpdateId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/log.js';
import { openContext } from '../../src/core/setup.js';
import { buildApp } from '../../src/server/app.js';
import type { DaemonPart } from '../../src/server/daemon.js';
import { MAX_CHANGES_PER_COMMIT } from '../../src/server/live-changes.js';
import { SNAPSHOT_LISTS } from '../../src/server/live-snapshot.js';
import { livePart } from '../../src/server/live-part.js';
import * as server from '../../src/protocol/live.js';
import { LIVE_PROTOCOL_VERSION } from '../../src/protocol/live-version.js';
import { parseFrame } from '../../src/ui/live/parse-frame.js';
import { PeerRegistry } from '../../src/server/peer-registry.js';
import { waitFor } from '../helpers/wait-for.js';

const TOKEN = 'a-mesh-token-of-32-characters-xx';
const INDEX = '<!doctype html><html><head><script type="module" src="/app.js"></script></head><body><clare-app></clare-app></body></html>';
const APP_JS = `console.log(${JSON.stringify('x'.repeat(4000))});`;

interface Harness {
  readonly app: FastifyInstance;
  readonly ctx: StoreContext;
  readonly part: DaemonPart;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(opts: { token?: string; ui?: boolean } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'clare-live-'));
  const uiDir = join(dir, 'ui');
  if (opts.ui !== false) {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(uiDir);
    writeFileSync(join(uiDir, 'index.html'), INDEX);
    writeFileSync(join(uiDir, 'app.js'), APP_JS);
  }
  const file = join(dir, 'clare.toml');
  let text = initialConfigText(newMachineId(), 'desk');
  if (opts.token !== undefined) text = text.replace(/^# token = .*$/m, `token = "${opts.token}"`);
  writeFileSync(file, text);
  const config = parseConfig(text, file);
  const ctx = openContext(openDb(':memory:'), config, silentLogger);
  const peers = new PeerRegistry(file, config.peers);
  const part = await livePart({ uiDir: opts.ui === false ? null : uiDir, pollMs: 50 })({ ctx, config, log: silentLogger, peers, rclaude: { path: '/bin/false', version: 'test', timeoutMs: 1000 }, version: 'test', startedAt: new Date() });
  const app = buildApp({
    ctx, config, log: silentLogger, version: 'test', startedAt: new Date(), peers,
    registerExtra: async (a) => { await part.register?.(a, {}); },
  });
  await app.ready();
  await part.service?.run();
  cleanups.push(async () => {
    await part.service?.stop();
    await app.close();
    ctx.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, ctx, part };
}

/** A connected live client recording every frame and the close. */
class Client {
  readonly frames: Record<string, unknown>[] = [];
  /** Bytes of each frame, as sent. */
  readonly sizes: number[] = [];
  closed: { code: number; reason: string } | null = null;

  ws: WebSocket | null = null;

  /** Listens from `onInit`, before the upgrade completes: the snapshot may be the very first bytes. */
  private listen(ws: WebSocket): void {
    this.ws = ws;
    ws.on('message', (d: Buffer) => {
      this.sizes.push(d.length);
      this.frames.push(JSON.parse(d.toString('utf8')) as Record<string, unknown>);
    });
    ws.on('close', (code: number, reason: Buffer) => { this.closed = { code, reason: reason.toString('utf8') }; });
  }

  /** `remoteAddress`: where the upgrade request appears to come from (injectWS has no socket of its own). */
  static async connect(app: FastifyInstance, path = '/api/v1/live', remoteAddress = '127.0.0.1'): Promise<Client> {
    const c = new Client();
    await app.injectWS(path, { socket: { remoteAddress } as never }, { onInit: (ws) => c.listen(ws) });
    cleanups.push(() => { c.ws?.terminate(); });
    return c;
  }

  send(data: string | Buffer, binary = false): void {
    this.ws?.send(data, { binary });
  }

  /** The first frame after index `from` matching `pred`. */
  async next(pred: (f: Record<string, unknown>) => boolean, from = 0, what = 'a frame'): Promise<Record<string, unknown>> {
    return waitFor(what, () => this.frames.slice(from).find(pred), 5000, 5);
  }

  change(entity: string, id: string, from = 0): Promise<Record<string, unknown>> {
    return this.next((f) => f['type'] === 'change' && f['entity'] === entity && f['id'] === id, from, `change ${entity} ${id}`);
  }

  async closedWith(): Promise<{ code: number; reason: string }> {
    return waitFor('the socket to close', () => this.closed, 5000, 5);
  }
}

async function post<T>(app: FastifyInstance, url: string, body: unknown, method: 'POST' | 'PATCH' = 'POST'): Promise<T> {
  const r = await app.inject({ method, url: `/api/v1${url}`, payload: body as Record<string, unknown> });
  if (r.statusCode >= 300) throw new Error(`${method} ${url} → ${r.statusCode} ${r.body}`);
  return r.json<T>();
}

describe('live protocol', () => {
  it('every frame the server sends is exactly what its schema describes, and the page parses it', async () => {
    const { app, ctx } = await harness();
    const c = await Client.connect(app);
    await c.next((f) => f['type'] === 'snapshot');
    await post(app, '/projects', { name: 'web' });
    const t = await post<{ id: string }>(app, '/tasks', { project: 'web', title: 'first' });
    commitLocal(ctx, [{ type: 'session.seen', payload: { host: 'desk', session: 'agent-1', cwd: '/tmp', state: 'idle', last_activity: new Date().toISOString() } }]);
    await post(app, '/groups', { name: 'all', members: ['desk:*'] });
    await post(app, '/broadcast', { group: 'all', message: 'hello' });
    await post(app, `/tasks/${t.id}`, { archived: true }, 'PATCH');
    await c.change('task', t.id, 1);
    const kinds = new Set<string>();
    for (const f of c.frames) {
      kinds.add(String(f['type']));
      // A schema strips what it does not describe: a frame equal to its own parse carries nothing undocumented.
      expect(server.serverMessage.parse(f), `frame ${JSON.stringify(f).slice(0, 200)}`).toEqual(f);
      const page = parseFrame(JSON.stringify(f));
      expect(page.ok, page.ok ? '' : page.reason).toBe(true);
    }
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['change', 'snapshot']));
    expect(c.frames[0]).toMatchObject({ type: 'snapshot', protocol: LIVE_PROTOCOL_VERSION });
  });

  it('sends a snapshot on connect, then one change frame per changed entity, rows re-read', async () => {
    const { app } = await harness();
    const project = await post<{ id: string }>(app, '/projects', { name: 'web' });
    const c = await Client.connect(app);
    const snap = server.snapshotMessage.parse(await c.next((f) => f['type'] === 'snapshot'));
    expect(snap.protocol).toBe(LIVE_PROTOCOL_VERSION);
    expect(snap.data.projects.items.map((p) => p.name)).toEqual(['web']);
    expect(snap.data.status.machine.name).toBe('desk');

    const task = await post<{ id: string }>(app, '/tasks', { project: 'web', title: 'first' });
    const f = server.changeMessage.parse(await c.change('task', task.id));
    expect(f.row).toMatchObject({ id: task.id, title: 'first', project_id: project.id, status: 'open', ready: true });
    expect(f.cursor).toBeGreaterThan(snap.cursor);
    // Every event also refreshes its machine (hosts' "last seen").
    expect(server.changeMessage.parse(await c.next((x) => x['entity'] === 'machine')).row).toMatchObject({ machine_id: snap.data.status.machine.id });

    const mark = c.frames.length;
    await post(app, `/tasks/${task.id}`, { archived: true }, 'PATCH');
    expect((await c.change('task', task.id, mark))['row']).toBeNull();
  });

  it('re-reads derived rows: dependents of a task, the task and session of an assignment, the update of a receipt', async () => {
    const { app, ctx } = await harness();
    await post(app, '/projects', { name: 'web' });
    const a = await post<{ id: string }>(app, '/tasks', { project: 'web', title: 'A' });
    const b = await post<{ id: string }>(app, '/tasks', { project: 'web', title: 'B', depends_on: [a.id] });
    commitLocal(ctx, [{ type: 'session.seen', payload: { host: 'desk', session: 'agent-1', cwd: '/tmp', state: 'idle', last_activity: new Date().toISOString() } }]);
    const c = await Client.connect(app);
    await c.next((f) => f['type'] === 'snapshot');

    let mark = c.frames.length;
    await post(app, `/tasks/${a.id}`, { status: 'done' }, 'PATCH');
    expect((await c.change('task', b.id, mark))['row']).toMatchObject({ blocked_by: [], ready: true });

    mark = c.frames.length;
    const asg = await post<{ id: string }>(app, '/assignments', { task: b.id, session: 'desk:agent-1' });
    expect((await c.change('assignment', asg.id, mark))['row']).toMatchObject({ task_id: b.id, delivery: 'pending' });
    expect((await c.change('task', b.id, mark))['row']).toMatchObject({ ready: false, assignment: { id: asg.id } });
    expect((await c.change('session', 'desk:agent-1', mark))['row']).toMatchObject({ task_id: b.id, state: 'idle' });

    mark = c.frames.length;
    await app.inject({ method: 'DELETE', url: `/api/v1/assignments/${asg.id}` });
    expect((await c.change('assignment', asg.id, mark))['row']).toBeNull();
    expect((await c.change('task', b.id, mark))['row']).toMatchObject({ assignment: null, ready: true });
    expect((await c.change('session', 'desk:agent-1', mark))['row']).toMatchObject({ task_id: null });

    await post(app, '/groups', { name: 'all', members: ['desk:*'] });
    const u = await post<{ id: UpdateId }>(app, '/broadcast', { group: 'all', message: 'hello' });
    mark = c.frames.length;
    commitLocal(ctx, [{ type: 'broadcast.receipt', payload: { update_id: u.id, host: 'desk', session: 'agent-1', status: 'delivered', detail: null } }]);
    const upd = server.changeMessage.parse(await c.change('update', u.id, mark));
    expect(upd.row).toMatchObject({ id: u.id, receipts: [{ host: 'desk', session: 'agent-1', status: 'delivered' }] });
    expect(c.frames.slice(mark).some((f) => f['entity'] === 'receipt')).toBe(false);

    mark = c.frames.length;
    commitLocal(ctx, [{ type: 'session.gone', payload: { host: 'desk', session: 'agent-1' } }]);
    expect((await c.change('session', 'desk:agent-1', mark))['row']).toBeNull();
  });

  it('sends the conflicts the merge records', async () => {
    const { app, ctx } = await harness();
    await post(app, '/projects', { name: 'web' });
    const t = await post<{ id: TaskId }>(app, '/tasks', { project: 'web', title: 'base' });
    const base = ctx.db.prepare('SELECT title_hlc FROM tasks WHERE id = ?').pluck().get(t.id) as string;
    const c = await Client.connect(app);
    await c.next((f) => f['type'] === 'snapshot');
    // Two edits from two machines that both saw only the create: concurrent, so the merge records a conflict.
    commitLocal(ctx, [{ type: 'task.updated', payload: { task_id: t.id, base: base as never, fields: { title: 'one' } } }]);
    const other = newMachineId();
    const hlc = `${String(Date.now() + 5).padStart(15, '0')}:00000:${other}`;
    commitRemote(ctx, [{ id: randomUUID(), hlc, origin: other, type: 'task.updated', v: 1, payload: { task_id: t.id, base, fields: { title: 'two' } } }], other);
    const f = server.changeMessage.parse(await c.next((x) => x['entity'] === 'conflict'));
    expect(f.row).toMatchObject({ entity: 'task', entity_id: t.id, field: 'title' });
  });

  it('answers a commit too large for frames with a fresh snapshot', async () => {
    const { app, ctx } = await harness();
    await post(app, '/groups', { name: 'g', members: ['desk:*'] });
    const c = await Client.connect(app);
    await c.next((f) => f['type'] === 'snapshot');
    const mark = c.frames.length;
    const drafts = Array.from({ length: MAX_CHANGES_PER_COMMIT + 5 }, (_, i) => ({ type: 'update.posted' as const, payload: { update_id: newUpdateId(), text: `note ${i}`, task_id: null, host: null, session: null } }));
    commitLocal(ctx, drafts);
    const snap = server.snapshotMessage.parse(await c.next((f) => f['type'] === 'snapshot', mark));
    expect(snap.data.updates.items.length).toBe(SNAPSHOT_LISTS.updates.rows);
    expect(snap.data.updates.next_cursor).not.toBeNull();
    expect(c.frames.slice(mark).some((f) => f['type'] === 'change')).toBe(false);
  });

  it('keeps the snapshot within SNAPSHOT_MAX_BYTES at any size; every list is the first page of its API list and continues there', async () => {
    const { app, ctx } = await harness();
    const peer = newMachineId();
    let ms = Date.now() - 3_600_000;
    const events: unknown[] = [];
    const put = (type: string, payload: Record<string, unknown>): void => {
      events.push({ id: randomUUID(), hlc: `${String(ms++).padStart(15, '0')}:00000:${peer}`, origin: peer, type, v: type === 'task.created' ? 2 : 1, payload });
    };
    const projects = Array.from({ length: 350 }, () => randomUUID());
    projects.forEach((id, i) => put('project.created', { project_id: id, name: `project ${String(i).padStart(3, '0')}`, path: null, description: '', weight: 1 }));
    const statuses = ['open', 'in_progress', 'blocked', 'done'] as const;
    for (let i = 0; i < 1200; i++) {
      const id = randomUUID();
      put('task.created', { task_id: id, project_id: projects[i % projects.length], title: `task ${i}`, description: 'x'.repeat(2000), priority: i % 5, depends_on: [] });
      if (i % 4 !== 0) put('task.status_changed', { task_id: id, base: null, status: statuses[i % 4] });
      if (i < 150) put('assignment.created', { assignment_id: randomUUID(), task_id: id, host: 'far', session: `s${i}` });
    }
    for (let i = 0; i < 700; i++) put('session.seen', { host: `h${i % 7}`, session: `s${i}`, cwd: '/srv', state: 'idle', last_activity: new Date().toISOString() });
    for (let i = 0; i < 150; i++) put('update.posted', { update_id: randomUUID(), text: `note ${i}`, task_id: null, host: null, session: null });
    for (let i = 0; i < 210; i++) put('group.created', { group: `g${String(i).padStart(3, '0')}` });
    for (let i = 0; i < events.length; i += 500) commitRemote(ctx, events.slice(i, i + 500), peer);

    const c = await Client.connect(app);
    const at = c.frames.indexOf(await c.next((f) => f['type'] === 'snapshot'));
    expect(c.sizes[at]).toBeLessThanOrEqual(server.SNAPSHOT_MAX_BYTES);
    expect(c.sizes[at]).toBeGreaterThan(server.SNAPSHOT_MAX_BYTES / 2); // it fills the budget rather than leaving the page empty
    const snap = server.snapshotMessage.parse(c.frames[at]);
    const d = snap.data;
    const lists: [string, { items: unknown[]; next_cursor: string | null }, (x: never) => string][] = [
      ['/projects', d.projects, (p: { id: string }) => p.id],
      ['/sessions', d.sessions, (x: { key: string }) => x.key],
      ['/groups', d.groups, (g: { name: string }) => g.name],
      ['/updates', d.updates, (u: { id: string }) => u.id],
      ['/assignments', d.assignments, (a: { id: string }) => a.id],
      ...statuses.map((st) => [`/tasks?status=${st}&order=${st === 'done' ? 'recent' : 'urgency'}`, d.tasks[st], (t: { id: string }) => t.id] as [string, { items: unknown[]; next_cursor: string | null }, (x: never) => string]),
    ];
    for (const [route, page, key] of lists) {
      // More exists than the snapshot holds, and the route continues right after it.
      expect(page.next_cursor, route).not.toBeNull();
      const sep = route.includes('?') ? '&' : '?';
      const first = (await app.inject({ method: 'GET', url: `/api/v1${route}${sep}limit=${Math.max(1, page.items.length)}` })).json<{ items: never[] }>();
      expect(first.items.map(key), route).toEqual(page.items.map((x) => key(x as never)));
      const next = await app.inject({ method: 'GET', url: `/api/v1${route}${sep}cursor=${page.next_cursor!}` });
      expect(next.statusCode, route).toBe(200);
      const rest = next.json<{ items: never[] }>().items.map(key);
      expect(rest.length, route).toBeGreaterThan(0);
      const shown = new Set(page.items.map((x) => key(x as never)));
      expect(rest.filter((k) => shown.has(k)), route).toEqual([]);
    }
    // Open work is what the board shows first: it got rows in every open column.
    for (const st of ['open', 'in_progress', 'blocked'] as const) expect(d.tasks[st].items.length).toBeGreaterThan(20);
  });

  it('answers ping with pong and resync with a snapshot', async () => {
    const { app } = await harness();
    const c = await Client.connect(app);
    await c.next((f) => f['type'] === 'snapshot');
    c.send(JSON.stringify({ type: 'ping', t: 42 }));
    expect(await c.next((f) => f['type'] === 'pong')).toEqual({ type: 'pong', t: 42 });
    const mark = c.frames.length;
    c.send(JSON.stringify({ type: 'resync' }));
    await c.next((f) => f['type'] === 'snapshot', mark);
  });

  it.each([
    ['text that is not JSON', 'not json', false],
    ['an unknown frame type', JSON.stringify({ type: 'subscribe', to: 'everything' }), false],
    ['a frame with extra fields', JSON.stringify({ type: 'resync', please: true }), false],
    ['a binary frame', '{"type":"resync"}', true],
    ['an oversized frame', JSON.stringify({ type: 'ping', t: 1, pad: 'x'.repeat(server.MAX_CLIENT_FRAME_BYTES) }), false],
  ])('refuses %s with a coded error and closes the socket', async (_what, data, binary) => {
    const { app } = await harness();
    const c = await Client.connect(app);
    await c.next((f) => f['type'] === 'snapshot');
    c.send(binary ? Buffer.from(data) : data, binary);
    const err = server.errorMessage.parse(await c.next((f) => f['type'] === 'error'));
    expect(err.code).toBe('CLARE_PROTOCOL');
    expect((await c.closedWith()).code).toBe(server.LIVE_CLOSE.protocolError);
    // The daemon carries on: a new dashboard connects fine.
    const d = await Client.connect(app);
    await d.next((f) => f['type'] === 'snapshot');
  });

  it('closes dashboards with "going away" when the daemon drains', async () => {
    const { app, part } = await harness();
    const c = await Client.connect(app);
    await c.next((f) => f['type'] === 'snapshot');
    await part.service?.drain?.();
    expect((await c.closedWith()).code).toBe(server.LIVE_CLOSE.goingAway);
  });

  it('sends peers/fleet status frames from the status poll', async () => {
    const { app } = await harness();
    const c = await Client.connect(app);
    await c.next((f) => f['type'] === 'snapshot');
    // No replication or fleet part here: the first poll reports the empty state once.
    expect(server.peersMessage.parse(await c.next((f) => f['type'] === 'peers'))).toEqual({ type: 'peers', peers: [] });
    expect(server.fleetMessage.parse(await c.next((f) => f['type'] === 'fleet'))).toEqual({ type: 'fleet', fleet: null });
  });
});

describe('token rules and static files', () => {
  const remote = { remoteAddress: '198.18.0.7' };

  it('takes the mesh token as ?token= on the live route only; static files are public', async () => {
    const { app } = await harness({ token: TOKEN });
    const live = (q: string) => app.inject({ method: 'GET', url: `/api/v1/live${q}`, ...remote });
    expect((await live('')).statusCode).toBe(401);
    expect((await live('?token=wrong-token-wrong-token-wrong')).statusCode).toBe(401);
    // Accepted: a plain GET (no upgrade) of a WebSocket route then answers the coded 400 (an upgrade is needed), not 401.
    const plain = await live(`?token=${TOKEN}`);
    expect(plain.statusCode).toBe(400);
    expect(plain.json().error.code).toBe('CLARE_BAD_REQUEST');
    expect((await app.inject({ method: 'GET', url: `/api/v1/live`, headers: { authorization: `Bearer ${TOKEN}` }, ...remote })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/api/v1/tasks?token=${TOKEN}`, ...remote })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/', ...remote })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/app.js', ...remote })).statusCode).toBe(200);
    // A browser on another machine: the token in the query opens the live socket.
    const c = await Client.connect(app, `/api/v1/live?token=${TOKEN}`, remote.remoteAddress);
    await c.next((f) => f['type'] === 'snapshot');
    await expect(Client.connect(app, '/api/v1/live?token=nope', remote.remoteAddress)).rejects.toThrow(/401/);
    // Loopback needs no token (the local browser and CLI).
    const local = await Client.connect(app);
    await local.next((f) => f['type'] === 'snapshot');
  });

  it('serves index.html revalidated and app.js pinned to its content hash, gzipped on request', async () => {
    const { app } = await harness();
    const index = await app.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    const v = /src="\/app\.js\?v=([\w-]+)"/.exec(index.body)?.[1];
    expect(v).toBeDefined();
    expect((await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': String(index.headers['etag']) } })).statusCode).toBe(304);

    const pinned = await app.inject({ method: 'GET', url: `/app.js?v=${v}`, headers: { 'accept-encoding': 'gzip, br' } });
    expect(pinned.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(pinned.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(pinned.headers['content-encoding']).toBe('gzip');
    const { gunzipSync } = await import('node:zlib');
    expect(gunzipSync(pinned.rawPayload).toString('utf8')).toBe(APP_JS);
    const plain = await app.inject({ method: 'GET', url: '/app.js' });
    expect(plain.headers['cache-control']).toBe('no-cache');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(APP_JS);

    const missing = await app.inject({ method: 'GET', url: '/../package.json' });
    expect(missing.statusCode).toBe(404);
  });

  it('answers / with 503 and what to do when the dashboard is not built', async () => {
    const { app } = await harness({ ui: false });
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('npm run build');
  });
});
