// Delivery bookkeeping on a :memory: store: who a broadcast is owed to, pending
// assignments, crash recovery of intents, and the text typed into a session.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitLocal, type StoreContext } from '../../src/core/context.js';
import { assignmentMessage, broadcastMessage, MAX_DESCRIPTION_CHARS, oneLine } from '../../src/core/fleet/delivery-message.js';
import { DeliveryService, INTERRUPTED } from '../../src/core/fleet/delivery-service.js';
import { listIntents, pendingAssignments, pendingBroadcastCopies, writeIntent, type DeliveryItem } from '../../src/core/fleet/delivery-work.js';
import { newAssignmentId, newProjectId, newTaskId, newUpdateId, type TaskId, type UpdateId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/log.js';
import { getAssignment, getTask, getUpdate } from '../../src/core/queries.js';
import { memoryContext } from '../helpers/memory-context.js';

const T0 = Date.parse('2026-11-22T04:00:00.000Z');
let wall = T0;
let ctx: StoreContext;

beforeEach(() => {
  wall = T0;
  ctx = memoryContext({ now: () => wall });
});
afterEach(() => ctx.db.close());

function seen(host: string, session: string): void {
  commitLocal(ctx, [{ type: 'session.seen', payload: { host, session, cwd: '/src', state: 'idle', last_activity: new Date(wall).toISOString() } }]);
}
function group(name: string, ...patterns: string[]): void {
  commitLocal(ctx, [{ type: 'group.created', payload: { group: name } }, ...patterns.map((pattern) => ({ type: 'group.member_added' as const, payload: { group: name, pattern } }))]);
}
function broadcast(g: string, text: string, ttl_s: number | null = null): UpdateId {
  const id = newUpdateId();
  commitLocal(ctx, [{ type: 'broadcast.sent', payload: { update_id: id, group: g, text, ttl_s } }]);
  return id;
}
const targets = (graceMs = 0): string[] => pendingBroadcastCopies(ctx.db, 'desk', graceMs).map((i) => `${i.ref}/${i.session}`);

describe('pendingBroadcastCopies', () => {
  it('owes a copy to each matching, present session of this host that had appeared', () => {
    seen('desk', 'api-1');
    seen('desk', 'api-2');
    seen('desk', 'docs');
    seen('build', 'api-1');
    commitLocal(ctx, [{ type: 'session.gone', payload: { host: 'desk', session: 'api-2' } }]);
    group('api', 'desk:api-*', 'build:*');
    wall += 1000;
    const b = broadcast('api', 'commit your work');
    expect(targets()).toEqual([`${b}/api-1`]);
    commitLocal(ctx, [{ type: 'broadcast.receipt', payload: { update_id: b, host: 'desk', session: 'api-1', status: 'delivered', detail: null } }]);
    expect(targets()).toEqual([]);
  });

  it('does not type old broadcasts into sessions that appeared later than the grace', () => {
    group('all', '*:*');
    const b = broadcast('all', 'old news');
    wall += 5000;
    seen('desk', 'early');
    wall += 60_000;
    seen('desk', 'late');
    expect(targets(10_000)).toEqual([`${b}/early`]);
    expect(targets(120_000).sort()).toEqual([`${b}/early`, `${b}/late`]);
  });

  it('goes to the group as it was when sent: later members do not get it', () => {
    seen('desk', 'api-1');
    seen('desk', 'web-1');
    group('g', 'desk:api-*');
    wall += 1;
    const b = broadcast('g', 'hello');
    commitLocal(ctx, [{ type: 'group.member_added', payload: { group: 'g', pattern: 'desk:web-*' } }]);
    expect(targets()).toEqual([`${b}/api-1`]);
    const b2 = broadcast('g', 'again');
    expect(targets()).toEqual([`${b}/api-1`, `${b2}/api-1`, `${b2}/web-1`]);
  });

  it('skips groups without members', () => {
    seen('desk', 'a');
    group('empty');
    wall += 1;
    broadcast('empty', 'to nobody');
    expect(targets()).toEqual([]);
  });
});

describe('pendingAssignments and recovery', () => {
  function task(): TaskId {
    const project_id = newProjectId();
    const task_id = newTaskId();
    commitLocal(ctx, [
      { type: 'project.created', payload: { project_id, name: 'api', path: '/src/api', description: '', weight: 1 } },
      { type: 'task.created', payload: { task_id, project_id, title: 'Fix login', description: 'Cookies.\nThen tests.', priority: 1, depends_on: [] } },
    ]);
    return task_id;
  }

  it('lists active, undelivered assignments of this host only', () => {
    const t = task();
    const mine = newAssignmentId();
    const theirs = newAssignmentId();
    const removed = newAssignmentId();
    commitLocal(ctx, [
      { type: 'assignment.created', payload: { assignment_id: mine, task_id: t, host: 'desk', session: 'a' } },
      { type: 'assignment.created', payload: { assignment_id: theirs, task_id: t, host: 'build', session: 'a' } },
      { type: 'assignment.created', payload: { assignment_id: removed, task_id: t, host: 'desk', session: 'b' } },
      { type: 'assignment.removed', payload: { assignment_id: removed } },
    ]);
    expect(pendingAssignments(ctx.db, 'desk').map((i) => i.ref)).toEqual([mine]);
    commitLocal(ctx, [{ type: 'assignment.delivered', payload: { assignment_id: mine } }]);
    expect(pendingAssignments(ctx.db, 'desk')).toEqual([]);
  });

  it('records an interrupted send as failed, never resends it, and clears the intent', async () => {
    const t = task();
    const a = newAssignmentId();
    commitLocal(ctx, [{ type: 'assignment.created', payload: { assignment_id: a, task_id: t, host: 'desk', session: 's' } }]);
    seen('desk', 's');
    group('g', 'desk:*');
    wall += 1;
    const b = broadcast('g', 'hello');
    const done = broadcast('g', 'already delivered');
    const items: DeliveryItem[] = [
      { kind: 'assignment', ref: a, host: 'desk', session: 's', taskId: t },
      { kind: 'broadcast', ref: b, host: 'desk', session: 's', group: 'g', text: 'hello', expiresMs: null },
      { kind: 'broadcast', ref: done, host: 'desk', session: 's', group: 'g', text: 'x', expiresMs: null },
    ];
    for (const i of items) writeIntent(ctx.db, i, new Date(wall));
    // The crash hit after this receipt committed but before its intent was cleared.
    commitLocal(ctx, [{ type: 'broadcast.receipt', payload: { update_id: done, host: 'desk', session: 's', status: 'delivered', detail: null } }]);

    // No rclaude is ever run: recovery only records, and the first scan is held back.
    const svc = new DeliveryService({
      ctx, host: 'desk', rclaude: { path: '/nonexistent/rclaude', timeoutMs: 1000 }, log: silentLogger,
      broadcastGraceMs: 0, rescanMs: 60_000, ready: new Promise(() => undefined),
    });
    await svc.run();
    expect(listIntents(ctx.db)).toEqual([]);
    expect(getAssignment(ctx.db, a)).toMatchObject({ delivery: 'failed', error: INTERRUPTED });
    expect(getUpdate(ctx.db, b)!.receipts).toEqual([{ host: 'desk', session: 's', status: 'failed', detail: INTERRUPTED }]);
    expect(getUpdate(ctx.db, done)!.receipts).toEqual([{ host: 'desk', session: 's', status: 'delivered', detail: null }]);
    expect(pendingAssignments(ctx.db, 'desk')).toEqual([]);
    expect(targets()).toEqual([]);
    await svc.stop();
  });

  it('types one line with the task, the project path and how to report back', () => {
    const t = getTask(ctx.db, task())!;
    const msg = assignmentMessage(t, { id: t.project_id, name: 'api', path: '/src/api', description: '', weight: 1, archived: false, created_at: '' });
    expect(msg).not.toMatch(/[\r\n]/);
    expect(msg).toContain(`task ${t.id}: Fix login in project api (/src/api)`);
    expect(msg).toContain('Details: Cookies. / Then tests.');
    expect(msg).toContain(`clare update --task ${t.id} "`);
    expect(msg).toContain(`clare task done ${t.id}`);
    const long = assignmentMessage({ ...t, description: 'x'.repeat(MAX_DESCRIPTION_CHARS + 500) }, null);
    expect(long).toContain(`clare task show ${t.id}`);
    expect(long.length).toBeLessThan(MAX_DESCRIPTION_CHARS + 600);
    expect(broadcastMessage('api', 'line one\n\n  line two')).toBe('[clare broadcast to api] line one / line two');
    expect(oneLine('a\tb   c')).toBe('a b c');
  });
});
