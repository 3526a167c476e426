// The derived task state and counters (projections/task-state.ts) on concrete
// histories: each write that changes a task's readiness — its own status, a
// dependency settling or reopening, an assignment made, moved or removed, events
// arriving before the create they refer to — moves the counts exactly, and a rebuild
// derives the same rows. (store-laws.test.ts checks the same on random histories.)
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/core/db.js';
import { randomUUID } from 'node:crypto';
import { EVENT_CATALOG, type EventDraft } from '../../src/core/events/catalog.js';
import { formatHlc, HybridClock } from '../../src/core/hlc.js';
import type { AssignmentId, MachineId, ProjectId, TaskId } from '../../src/core/ids.js';
import { taskCounts } from '../../src/core/queries.js';
import { rebuild } from '../../src/core/rebuild.js';
import { append, ingest } from '../../src/core/store.js';
import { fixedUuid } from '../helpers/event-gen.js';

const P = fixedUuid(0x01, 0) as ProjectId;
const A = fixedUuid(0x02, 1) as TaskId;
const B = fixedUuid(0x02, 2) as TaskId;
const C = fixedUuid(0x02, 3) as TaskId;
const X = fixedUuid(0x03, 1) as AssignmentId;

const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

const PEER = fixedUuid(0xa0, 7) as MachineId;

function store(): { db: Db; put: (d: EventDraft) => void; remote: (ms: number, d: EventDraft) => void } {
  const db = openDb(':memory:');
  dbs.push(db);
  const clock = new HybridClock({ machine: fixedUuid(0xcc, 0) as MachineId });
  return {
    db,
    put: (d) => { append(db, clock, d); },
    // An event a peer stamped at `ms` (so its place among the writes is chosen, whatever the arrival order).
    remote: (ms, d) => { ingest(db, clock, [{ id: randomUUID(), hlc: formatHlc({ ms, counter: 0, machine: PEER }), origin: PEER, type: d.type, v: EVENT_CATALOG[d.type].v, payload: d.payload }]); },
  };
}

const created = (task_id: TaskId, depends_on: TaskId[] = []): EventDraft =>
  ({ type: 'task.created', payload: { task_id, project_id: P, title: `task ${task_id.slice(-2)}`, description: '', priority: 2, depends_on } });
const status = (task_id: TaskId, s: 'open' | 'in_progress' | 'blocked' | 'done'): EventDraft => ({ type: 'task.status_changed', payload: { task_id, base: null, status: s } });

/** ready flags by task, and the counters (zeros dropped). */
function state(db: Db): { ready: Record<string, number>; counts: ReturnType<typeof taskCounts> } {
  const ready: Record<string, number> = {};
  for (const r of db.prepare('SELECT task_id, ready FROM task_state ORDER BY task_id').all() as { task_id: string; ready: number }[]) ready[r.task_id.slice(-2)] = r.ready;
  return { ready, counts: taskCounts(db) };
}

describe('derived task state', () => {
  it('follows dependencies settling and reopening, archives and assignments', () => {
    const { db, put } = store();
    put({ type: 'project.created', payload: { project_id: P, name: 'p', path: null, description: '', weight: 1 } });
    put(created(B));
    put(created(A, [B]));
    expect(state(db).ready).toEqual({ '01': 0, '02': 1 });
    expect(state(db).counts).toEqual({ byStatus: { open: 2, in_progress: 0, blocked: 0, done: 0 }, ready: 1, archived: 0 });

    put(status(B, 'done'));
    expect(state(db).ready).toEqual({ '01': 1, '02': 0 });
    put(status(B, 'in_progress'));
    expect(state(db).ready).toEqual({ '01': 0, '02': 0 });
    expect(state(db).counts).toEqual({ byStatus: { open: 1, in_progress: 1, blocked: 0, done: 0 }, ready: 0, archived: 0 });

    // An abandoned dependency no longer blocks; the archived task leaves the status counts.
    put({ type: 'task.archived', payload: { task_id: B } });
    expect(state(db).ready).toEqual({ '01': 1, '02': 0 });
    expect(state(db).counts).toEqual({ byStatus: { open: 1, in_progress: 0, blocked: 0, done: 0 }, ready: 1, archived: 1 });

    put({ type: 'assignment.created', payload: { assignment_id: X, task_id: A, host: 'desk', session: 's1' } });
    expect(state(db).counts.ready).toBe(0);
    put({ type: 'assignment.removed', payload: { assignment_id: X } });
    expect(state(db).counts.ready).toBe(1);

    put({ type: 'task.dependency_added', payload: { task_id: A, depends_on: C } });
    expect(state(db).ready['01']).toBe(0); // C is unknown here yet: it blocks until it is created and done
    put(created(C));
    expect(state(db).ready['01']).toBe(0);
    put(status(C, 'done'));
    expect(state(db).ready).toEqual({ '01': 1, '02': 0, '03': 0 });
    put({ type: 'task.dependency_removed', payload: { task_id: A, depends_on: C } });
    put(status(C, 'open'));
    expect(state(db).ready).toEqual({ '01': 1, '02': 0, '03': 1 });

    const before = state(db);
    rebuild(db);
    expect(state(db)).toEqual(before);
  });

  it('is right when events come before the create they refer to, and when an assignment is re-created for another task', () => {
    const { db, put, remote } = store();
    const t0 = Date.UTC(2025, 0, 6);
    remote(t0, { type: 'project.created', payload: { project_id: P, name: 'p', path: null, description: '', weight: 1 } });
    // Written as: create A, create B, A depends on B, B done — arriving in the reverse order.
    remote(t0 + 4, status(B, 'done'));
    remote(t0 + 3, { type: 'task.dependency_added', payload: { task_id: A, depends_on: B } });
    expect(state(db).ready).toEqual({});
    remote(t0 + 1, created(A));
    expect(state(db).ready).toEqual({ '01': 0 });
    remote(t0 + 2, created(B));
    // B's create is older than its status register: it is created done, and that settles A.
    expect(state(db).ready).toEqual({ '01': 1, '02': 0 });
    expect(state(db).counts.byStatus).toEqual({ open: 1, in_progress: 0, blocked: 0, done: 1 });

    // A peer re-creates the same assignment id for another task (newer create wins): A is free again.
    put({ type: 'assignment.created', payload: { assignment_id: X, task_id: A, host: 'desk', session: 's1' } });
    expect(state(db).ready['01']).toBe(0);
    put(created(C));
    put({ type: 'assignment.created', payload: { assignment_id: X, task_id: C, host: 'desk', session: 's1' } });
    expect(state(db).ready).toEqual({ '01': 1, '02': 0, '03': 0 });

    const before = state(db);
    rebuild(db);
    expect(state(db)).toEqual(before);
  });

  it('keeps each task\'s rank inputs as its project is created, reweighted and archived, and as the task moves', () => {
    const { db, put, remote } = store();
    const Q = fixedUuid(0x01, 1) as ProjectId;
    const rank = (): Record<string, unknown> => Object.fromEntries((db.prepare('SELECT task_id, project_id, rank_base FROM task_state ORDER BY task_id').all() as { task_id: string; project_id: string; rank_base: number | null }[])
      .map((r) => [r.task_id.slice(-2), [r.project_id.slice(-1), r.rank_base]]));
    // The task arrives before its project: not ranked until the project is created.
    remote(Date.UTC(2025, 0, 6), created(A));
    expect(rank()).toEqual({ '01': ['0', null] });
    put({ type: 'project.created', payload: { project_id: P, name: 'p', path: null, description: '', weight: 1 } });
    expect(rank()).toEqual({ '01': ['0', 2] });
    put({ type: 'project.updated', payload: { project_id: P, base: null, fields: { weight: 2 } } });
    expect(rank()).toEqual({ '01': ['0', 1] });
    put({ type: 'task.updated', payload: { task_id: A, base: null, fields: { priority: 4 } } });
    expect(rank()).toEqual({ '01': ['0', 3] });
    put({ type: 'project.created', payload: { project_id: Q, name: 'q', path: null, description: '', weight: 0.5 } });
    put({ type: 'task.updated', payload: { task_id: A, base: null, fields: { project_id: Q } } });
    expect(rank()).toEqual({ '01': ['1', 5] });
    put({ type: 'project.archived', payload: { project_id: Q } });
    expect(rank()).toEqual({ '01': ['1', null] });

    const before = rank();
    rebuild(db);
    expect(rank()).toEqual(before);
  });
});
