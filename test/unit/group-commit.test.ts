import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitLocal } from '../../src/core/context.js';
import type { CommitNotice } from '../../src/core/commit-feed.js';
import { GroupCommit } from '../../src/core/group-commit.js';
import { newUpdateId } from '../../src/core/ids.js';
import { createProject } from '../../src/core/service/projects.js';
import { createTask } from '../../src/core/service/tasks.js';
import { eventCount } from '../../src/core/store.js';
import { closeTestApp, testApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let notices: CommitNotice[];
beforeEach(async () => {
  t = await testApp();
  notices = [];
  t.ctx.feed.subscribe((n) => notices.push(n));
});
afterEach(async () => {
  await closeTestApp(t);
});

describe('group commit', () => {
  it('runs writes that arrive together in one transaction and answers each after the commit', async () => {
    createProject(t.ctx, { name: 'p' });
    notices.length = 0;
    const group = new GroupCommit(t.ctx.db, t.ctx.feed);
    const held = eventCount(t.ctx.db);
    let inFlight = 0;
    const writes = Array.from({ length: 20 }, (_, i) => group.run(() => {
      inFlight++;
      // Every write of the group runs inside the one shared transaction.
      expect(t.ctx.db.inTransaction).toBe(true);
      return createTask(t.ctx, { project: 'p', title: `t${i}` });
    }));
    // Nothing ran yet: the group starts on the next turn of the event loop.
    expect(inFlight).toBe(0);
    const tasks = await Promise.all(writes);
    expect(tasks.map((x) => x.title)).toEqual(Array.from({ length: 20 }, (_, i) => `t${i}`));
    expect(t.ctx.db.inTransaction).toBe(false);
    expect(eventCount(t.ctx.db)).toBe(held + 20);
    // The notices came out after the commit, one per write, in order.
    expect(notices.map((n) => (n.events[0]!.payload as { title: string }).title)).toEqual(tasks.map((x) => x.title));
  });

  it('fails a bad write with its own error and commits its neighbours', async () => {
    createProject(t.ctx, { name: 'p' });
    notices.length = 0;
    const group = new GroupCommit(t.ctx.db, t.ctx.feed);
    const before = eventCount(t.ctx.db);
    const results = await Promise.allSettled([
      group.run(() => createTask(t.ctx, { project: 'p', title: 'a' })),
      group.run(() => createTask(t.ctx, { project: 'nope', title: 'b' })),
      // Writes some events, then fails: its savepoint takes them back.
      group.run(() => {
        commitLocal(t.ctx, [{ type: 'update.posted', payload: { update_id: newUpdateId(), text: 'rolled back', task_id: null, host: null, session: null } }]);
        throw new Error('late failure');
      }),
      group.run(() => createTask(t.ctx, { project: 'p', title: 'c' })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'CLARE_NOT_FOUND' });
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ message: 'late failure' });
    expect(eventCount(t.ctx.db)).toBe(before + 2);
    expect(t.ctx.db.prepare("SELECT count(*) AS n FROM events WHERE type = 'update.posted'").get()).toEqual({ n: 0 });
    expect(notices.map((n) => n.events[0]!.type)).toEqual(['task.created', 'task.created']);
  });

  it('runs each write alone when SQLite abandons the shared transaction, committing each once', async () => {
    createProject(t.ctx, { name: 'p' });
    notices.length = 0;
    const group = new GroupCommit(t.ctx.db, t.ctx.feed);
    const before = eventCount(t.ctx.db);
    let poisonRuns = 0;
    const results = await Promise.allSettled([
      group.run(() => createTask(t.ctx, { project: 'p', title: 'a' })),
      // As SQLITE_FULL or SQLITE_IOERR do: the whole transaction is rolled back under the group.
      group.run(() => {
        poisonRuns++;
        t.ctx.db.exec('ROLLBACK');
        throw new Error('disk full');
      }),
      group.run(() => createTask(t.ctx, { project: 'p', title: 'b' })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'disk full' });
    expect(poisonRuns).toBe(2);
    expect(eventCount(t.ctx.db)).toBe(before + 2);
    expect(t.ctx.db.prepare("SELECT title FROM tasks ORDER BY title").all()).toEqual([{ title: 'a' }, { title: 'b' }]);
    expect(notices.map((n) => (n.events[0]!.payload as { title: string }).title)).toEqual(['a', 'b']);
  });

  it('keeps the API answers of concurrent writes as if they ran one by one', async () => {
    const inject = (method: 'POST' | 'PATCH', url: string, payload: object) => t.app.inject({ method, url: `/api/v1${url}`, payload });
    const [p1, p2] = await Promise.all([inject('POST', '/projects', { name: 'same' }), inject('POST', '/projects', { name: 'same' })]);
    expect([p1.statusCode, p2.statusCode].sort()).toEqual([201, 409]);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => inject('POST', '/tasks', { project: i === 3 ? 'missing' : 'same', title: `t${i}` })));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map((_, i) => (i === 3 ? 404 : 201)));
    const listed = JSON.parse((await t.app.inject({ method: 'GET', url: '/api/v1/tasks?limit=50' })).body) as { items: { title: string }[] };
    expect(listed.items.map((x) => x.title).sort()).toEqual(['t0', 't1', 't2', 't4', 't5', 't6', 't7', 't8', 't9']);
  });
});
