// The agent loop on one store, through the service layer: assign → delivered (the
// session claims the task) → next → done → idle → assign --auto picks it again.
// The bugs of issue 11 are the first block (each failed before the fix).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitLocal, type StoreContext } from '../../src/core/context.js';
import { ClareError } from '../../src/core/errors.js';
import { HybridClock } from '../../src/core/hlc.js';
import { newEventId, newMachineId, type AssignmentId, type TaskId } from '../../src/core/ids.js';
import { claimLostMessage } from '../../src/core/fleet/delivery-message.js';
import { pendingClaimNotices } from '../../src/core/fleet/delivery-work.js';
import { claimOnDelivery, startTask } from '../../src/core/service/claims.js';
import { eventCount, ingest } from '../../src/core/store.js';
import { assign, unassign } from '../../src/core/service/assignments.js';
import { createProject } from '../../src/core/service/projects.js';
import { createTask, nextTasks, setTaskStatus } from '../../src/core/service/tasks.js';
import { getAssignment, getSession, getTask, sessionBusy } from '../../src/core/queries.js';
import { memoryContext } from '../helpers/memory-context.js';

const T0 = Date.parse('2026-11-22T04:00:00.000Z');
let wall = T0;
let ctx: StoreContext;

beforeEach(() => {
  wall = T0;
  ctx = memoryContext({ now: () => wall });
  createProject(ctx, { name: 'api', path: '/src/api' });
  for (const s of ['api-1', 'api-2']) {
    commitLocal(ctx, [{ type: 'session.seen', payload: { host: 'desk', session: s, cwd: '/src/api', state: 'idle', last_activity: new Date(wall).toISOString() } }]);
  }
});
afterEach(() => ctx.db.close());

/** What the owning host's delivery service commits when the text was typed in (no claim before the fix). */
function delivered(id: string): void {
  commitLocal(ctx, [{ type: 'assignment.delivered', payload: { assignment_id: id as AssignmentId } }]);
}

function code(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof ClareError) return e.code;
    throw e;
  }
}

describe('issue 11: the loop as a new user found it', () => {
  it('a session whose task is done is idle again: assign --auto picks it', () => {
    const t1 = createTask(ctx, { project: 'api', title: 'first' });
    const t2 = createTask(ctx, { project: 'api', title: 'second' });
    const t3 = createTask(ctx, { project: 'api', title: 'third' });
    assign(ctx, { task: t1.id, session: 'desk:api-1' });
    assign(ctx, { task: t2.id, session: 'desk:api-2' });
    setTaskStatus(ctx, t1.id, 'done');
    expect(assign(ctx, { task: t3.id, auto: true })).toMatchObject({ host: 'desk', session: 'api-1' });
  });

  it('unassign takes the short id the CLI prints', () => {
    const t = createTask(ctx, { project: 'api', title: 'one' });
    const a = assign(ctx, { task: t.id, session: 'desk:api-1' });
    expect(unassign(ctx, a.id.slice(-8)).removed).toBe(true);
  });

  it('next --session offers the session\'s own task first', () => {
    const mine = createTask(ctx, { project: 'api', title: 'mine', priority: 4 });
    createTask(ctx, { project: 'api', title: 'urgent', priority: 0 });
    assign(ctx, { task: mine.id, session: 'desk:api-1' });
    expect(nextTasks(ctx, { session: 'desk:api-1', limit: 10 })[0]?.task.id).toBe(mine.id);
  });

  it('reopening a task puts it back among the ready ones', () => {
    const t = createTask(ctx, { project: 'api', title: 'again' });
    const a = assign(ctx, { task: t.id, session: 'desk:api-1' });
    delivered(a.id);
    setTaskStatus(ctx, t.id, 'in_progress');
    setTaskStatus(ctx, t.id, 'open');
    expect(getTask(ctx.db, t.id)!.ready).toBe(true);
    expect(code(() => assign(ctx, { task: t.id, auto: true }))).toBeNull();
  });
});

/** What the delivery service commits once the assignment's text is typed in. */
function deliveredAndClaimed(id: string): void {
  const a = ctx.db.prepare('SELECT task_id, host, session FROM assignments WHERE id = ?').get(id) as { task_id: string; host: string; session: string };
  commitLocal(ctx, [{ type: 'assignment.delivered', payload: { assignment_id: id as AssignmentId } }, ...claimOnDelivery(ctx.db, a.task_id, a)]);
}

describe('claims', () => {
  it('delivering an assignment puts the task in progress, held by its session', () => {
    const t = createTask(ctx, { project: 'api', title: 'one' });
    const a = assign(ctx, { task: t.id, session: 'desk:api-1' });
    expect(getTask(ctx.db, t.id)).toMatchObject({ status: 'open', holder: null });
    deliveredAndClaimed(a.id);
    expect(getTask(ctx.db, t.id)).toMatchObject({ status: 'in_progress', holder: { host: 'desk', session: 'api-1' } });
    expect(getSession(ctx.db, 'desk', 'api-1')?.task_id).toBe(t.id);
  });

  it('a second session\'s start of a held task is refused; --force takes it over with an event that names the holder', () => {
    const t = createTask(ctx, { project: 'api', title: 'contested' });
    startTask(ctx, t.id, { session: 'desk:api-1' });
    expect(getTask(ctx.db, t.id)!.holder).toMatchObject({ host: 'desk', session: 'api-1' });
    expect(code(() => startTask(ctx, t.id, { session: 'desk:api-2' }))).toBe('CLARE_CONFLICT');
    expect(getTask(ctx.db, t.id)!.holder).toMatchObject({ session: 'api-1' });
    // The holder starting it again changes nothing.
    const before = eventCount(ctx.db);
    startTask(ctx, t.id, { session: 'desk:api-1' });
    expect(eventCount(ctx.db)).toBe(before);
    startTask(ctx, t.id, { session: 'desk:api-2', force: true });
    expect(getTask(ctx.db, t.id)!.holder).toMatchObject({ host: 'desk', session: 'api-2' });
    const last = ctx.db.prepare("SELECT payload FROM events WHERE type = 'task.claimed' ORDER BY hlc DESC LIMIT 1").pluck().get() as string;
    expect(JSON.parse(last)).toMatchObject({ host: 'desk', session: 'api-2', previous: { host: 'desk', session: 'api-1' } });
  });

  it('starting a task assigned to another session is refused unless --force, which ends that assignment', () => {
    const t = createTask(ctx, { project: 'api', title: 'assigned' });
    const a = assign(ctx, { task: t.id, session: 'desk:api-1' });
    expect(code(() => startTask(ctx, t.id, { session: 'desk:api-2' }))).toBe('CLARE_CONFLICT');
    startTask(ctx, t.id, { session: 'desk:api-2', force: true });
    expect(getAssignment(ctx.db, a.id)!.removed).toBe(true);
    expect(getTask(ctx.db, t.id)!.holder).toMatchObject({ session: 'api-2' });
  });

  it('block keeps the holder (the session is then free for other work); done ends it; reopen ends it and the assignment', () => {
    const t = createTask(ctx, { project: 'api', title: 'lifecycle' });
    const other = createTask(ctx, { project: 'api', title: 'other' });
    deliveredAndClaimed(assign(ctx, { task: t.id, session: 'desk:api-1' }).id);
    expect(sessionBusy(ctx.db, 'desk', 'api-1')).toBe(true);
    setTaskStatus(ctx, t.id, 'blocked');
    expect(getTask(ctx.db, t.id)!.holder).toMatchObject({ session: 'api-1' });
    expect(sessionBusy(ctx.db, 'desk', 'api-1')).toBe(false);
    startTask(ctx, t.id, { session: 'desk:api-1' });
    expect(sessionBusy(ctx.db, 'desk', 'api-1')).toBe(true);
    setTaskStatus(ctx, t.id, 'done');
    expect(getTask(ctx.db, t.id)!.holder).toBeNull();
    expect(sessionBusy(ctx.db, 'desk', 'api-1')).toBe(false);
    expect(code(() => startTask(ctx, t.id, { session: 'desk:api-1' }))).toBe('CLARE_CONFLICT');
    setTaskStatus(ctx, t.id, 'open');
    expect(getTask(ctx.db, t.id)).toMatchObject({ holder: null, assignment: null, ready: true });
    // Another session may now take it without --force.
    startTask(ctx, t.id, { session: 'desk:api-2' });
    expect(getTask(ctx.db, t.id)!.holder).toMatchObject({ session: 'api-2' });
    expect(getTask(ctx.db, other.id)!.ready).toBe(true);
  });

  it('next --session: the held task first, marked held, then ready tasks no one holds', () => {
    const held = createTask(ctx, { project: 'api', title: 'held', priority: 4 });
    const elsewhere = createTask(ctx, { project: 'api', title: 'held elsewhere', priority: 0 });
    const free = createTask(ctx, { project: 'api', title: 'free', priority: 1 });
    startTask(ctx, held.id, { session: 'desk:api-1' });
    startTask(ctx, elsewhere.id, { session: 'desk:api-2' });
    const n = nextTasks(ctx, { session: 'desk:api-1', limit: 10 });
    expect(n.map((r) => [r.task.title, r.held])).toEqual([['held', true], ['free', false]]);
    expect(nextTasks(ctx, { session: 'desk:api-2', limit: 10 }).map((r) => r.task.id)).toEqual([elsewhere.id, free.id]);
    expect(nextTasks(ctx, { limit: 10 }).map((r) => r.task.id)).toEqual([free.id]);
  });

  it('a lost claim is owed a notice on the losing host until its receipt lands', () => {
    const t = createTask(ctx, { project: 'api', title: 'split' });
    startTask(ctx, t.id, { session: 'desk:api-1' });
    // A claim from another machine made without seeing this one, later in time.
    wall += 1000;
    const other = new HybridClock({ machine: newMachineId(), now: () => wall });
    const e = { id: newEventId(), hlc: other.tick(), origin: other.machine, type: 'task.claimed', v: 1, payload: { task_id: t.id, host: 'build', session: 'w-1', base: null, previous: null } };
    ingest(ctx.db, ctx.clock, [e]);
    expect(getTask(ctx.db, t.id)!.holder).toMatchObject({ host: 'desk', session: 'api-1' });
    expect(pendingClaimNotices(ctx.db, 'desk')).toEqual([]);
    expect(pendingClaimNotices(ctx.db, 'build')).toEqual([{ kind: 'claim', ref: e.id, host: 'build', session: 'w-1', taskId: t.id }]);
    commitLocal(ctx, [{ type: 'task.claim_notice', payload: { claim_event: e.id, task_id: t.id as TaskId, host: 'build', session: 'w-1', status: 'delivered', detail: null } }]);
    expect(pendingClaimNotices(ctx.db, 'build')).toEqual([]);
    expect(claimLostMessage(getTask(ctx.db, t.id)!, 'desk:api-1')).toContain('desk:api-1 claimed it first');
  });
});
