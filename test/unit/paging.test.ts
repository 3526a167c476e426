// Keyset paging (core/paging.ts): following next_cursor from the first page visits
// every row of a list once, in the list's order, for every order and filter of the
// task lists, with any page size and byte budget — including tasks created in the
// same millisecond: oldest first follows their HLCs, the board's orders (equal in
// priority) their ids. Cursors
// from another query, or not made by us, are refused with a coded error.
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/core/db.js';
import { ClareError } from '../../src/core/errors.js';
import { EVENT_CATALOG, type EventDraft } from '../../src/core/events/catalog.js';
import { formatHlc, HybridClock } from '../../src/core/hlc.js';
import type { MachineId, ProjectId, TaskId } from '../../src/core/ids.js';
import type { Task } from '../../src/protocol/models.js';
import type { PageRequest } from '../../src/core/paging.js';
import type { Page } from '../../src/protocol/page.js';
import { pageAssignments, pageConflicts, pageGroups, pageProjects, pageSessions, pageUpdates, tasksByIds } from '../../src/core/queries.js';
import { pageTasks, TASK_ORDERS, type TaskFilter, type TaskOrder } from '../../src/core/task-queries.js';
import { ingest } from '../../src/core/store.js';
import { fixedUuid } from '../helpers/event-gen.js';

const RUNS = Number(process.env.FC_RUNS ?? 25);
const T0 = Date.UTC(2025, 0, 6);
const PEER = fixedUuid(0xa0, 9) as MachineId;
const PROJECTS = [0, 1, 2].map((i) => fixedUuid(0x01, i) as ProjectId);
const WORDS = ['Fix login', 'fix cache', 'Write docs', 'ship it', 'FIX_100%'];

const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

interface TaskSpec { ms: number; priority: number; status: 'open' | 'in_progress' | 'blocked' | 'done'; statusMs: number; archived: boolean; project: number; word: number; assigned: boolean; dep: number | null }

const taskSpec = fc.record({
  ms: fc.integer({ min: 0, max: 4 }), // few distinct milliseconds: many ties
  priority: fc.integer({ min: 0, max: 4 }),
  status: fc.constantFrom<TaskSpec['status'][]>('open', 'in_progress', 'blocked', 'done'),
  statusMs: fc.integer({ min: 5, max: 8 }),
  archived: fc.boolean(),
  project: fc.integer({ min: 0, max: 2 }),
  word: fc.integer({ min: 0, max: WORDS.length - 1 }),
  assigned: fc.boolean(),
  dep: fc.option(fc.nat(), { nil: null }),
});

/** A store holding these tasks, written by a peer at chosen times (so creates share milliseconds). */
function storeOf(specs: readonly TaskSpec[]): { db: Db; ids: string[] } {
  const db = openDb(':memory:');
  dbs.push(db);
  const clock = new HybridClock({ machine: fixedUuid(0xcc, 0) as MachineId });
  let counter = 0;
  const events: unknown[] = [];
  const put = (ms: number, d: EventDraft): void => {
    events.push({ id: randomUUID(), hlc: formatHlc({ ms: T0 + ms, counter: counter++, machine: PEER }), origin: PEER, type: d.type, v: EVENT_CATALOG[d.type].v, payload: d.payload });
  };
  PROJECTS.forEach((p, i) => put(0, { type: 'project.created', payload: { project_id: p, name: `project ${i}`, path: null, description: '', weight: 1 } }));
  const ids = specs.map((_, i) => fixedUuid(0x02, 1000 - i)); // ids not in creation order
  specs.forEach((s, i) => {
    const id = ids[i] as TaskId;
    const dep = s.dep === null || specs.length < 2 ? [] : [ids[s.dep % specs.length] as TaskId].filter((d) => d !== id);
    put(s.ms, { type: 'task.created', payload: { task_id: id, project_id: PROJECTS[s.project]!, title: `${WORDS[s.word]} ${i}`, description: '', priority: s.priority, depends_on: dep } });
  });
  specs.forEach((s, i) => {
    const id = ids[i] as TaskId;
    if (s.status !== 'open') put(s.statusMs, { type: 'task.status_changed', payload: { task_id: id, base: null, status: s.status } });
    if (s.archived) put(9, { type: 'task.archived', payload: { task_id: id } });
    if (s.assigned) put(9, { type: 'assignment.created', payload: { assignment_id: fixedUuid(0x03, i) as never, task_id: id, host: 'desk', session: `s${i % 3}` } });
  });
  ingest(db, clock, events);
  return { db, ids };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const ms = (iso: string): number => Date.parse(iso);
/** The orders as documented; `created` needs each task's creating HLC (not in the read-model). */
const orderOf = (db: Db, order: TaskOrder): ((a: Task, b: Task) => number) => {
  if (order === 'urgency') return (a, b) => a.priority - b.priority || ms(a.created_at) - ms(b.created_at) || cmp(a.id, b.id);
  if (order === 'recent') return (a, b) => ms(b.status_at) - ms(a.status_at) || cmp(b.id, a.id);
  const hlc = new Map((db.prepare('SELECT id, created_hlc FROM tasks').all() as { id: string; created_hlc: string }[]).map((r) => [r.id, r.created_hlc]));
  return (a, b) => cmp(hlc.get(a.id)!, hlc.get(b.id)!);
};
const fold = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

function expected(db: Db, all: readonly Task[], f: TaskFilter, order: TaskOrder): string[] {
  return all
    .filter((t) => (f.includeArchived === true || !t.archived) && (f.projectId === undefined || t.project_id === f.projectId)
      && (f.status === undefined || t.status === f.status) && (f.ready === undefined || t.ready === f.ready)
      && (f.q === undefined || fold(t.title).includes(fold(f.q))))
    .sort(orderOf(db, order)).map((t) => t.id);
}

/** Follows next_cursor from the first page; returns every id seen, in order. */
function walk<T>(page: (p: PageRequest) => Page<T>, id: (t: T) => string, p: Omit<PageRequest, 'cursor'>): string[] {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 10_000; n++) {
    const pg = page({ ...p, cursor });
    expect(pg.items.length).toBeLessThanOrEqual(p.limit);
    seen.push(...pg.items.map(id));
    if (pg.next_cursor === null) return seen;
    cursor = pg.next_cursor;
  }
  throw new Error('paging did not end');
}

const filterArb: fc.Arbitrary<TaskFilter> = fc.record({
  projectId: fc.option(fc.constantFrom(...PROJECTS), { nil: undefined }),
  status: fc.option(fc.constantFrom<TaskSpec['status'][]>('open', 'in_progress', 'blocked', 'done'), { nil: undefined }),
  ready: fc.option(fc.boolean(), { nil: undefined }),
  includeArchived: fc.boolean(),
  q: fc.option(fc.constantFrom('fix', 'DOCS', '_1', '100%', 'zzz'), { nil: undefined }),
}, { requiredKeys: [] });

describe('keyset paging of tasks', () => {
  it('visits every task of any filter once, in order, with any page size', () => {
    fc.assert(fc.property(fc.array(taskSpec, { minLength: 0, maxLength: 40 }), filterArb, fc.constantFrom(...TASK_ORDERS), fc.integer({ min: 1, max: 7 }), (specs, f, order, limit) => {
      const { db, ids } = storeOf(specs);
      const all = [...tasksByIds(db, ids).values()];
      expect(walk((p) => pageTasks(db, f, order, p), (t) => t.id, { limit })).toEqual(expected(db, all, f, order));
    }), { numRuns: RUNS * 4 });
  });

  it('cuts pages at the byte budget and still visits every task once', () => {
    fc.assert(fc.property(fc.array(taskSpec, { minLength: 1, maxLength: 25 }), fc.constantFrom(...TASK_ORDERS), fc.integer({ min: 1, max: 3000 }), (specs, order, maxBytes) => {
      const { db, ids } = storeOf(specs);
      const all = [...tasksByIds(db, ids).values()];
      const f: TaskFilter = { includeArchived: true };
      expect(walk((p) => pageTasks(db, f, order, p), (t) => t.id, { limit: 10, maxBytes })).toEqual(expected(db, all, f, order));
    }), { numRuns: RUNS });
  });

  it('a page that may be empty says where to start', () => {
    const { db, ids } = storeOf([0, 1, 2, 3].map((i) => ({ ms: 1, priority: 2, status: 'open', statusMs: 5, archived: false, project: 0, word: i, assigned: false, dep: null })));
    const all = expected(db, [...tasksByIds(db, ids).values()], {}, 'urgency');
    const empty = pageTasks(db, {}, 'urgency', { limit: 10, maxBytes: 10, allowEmpty: true });
    expect(empty.items).toEqual([]);
    expect(pageTasks(db, {}, 'urgency', { limit: 10, cursor: empty.next_cursor! }).items.map((t) => t.id)).toEqual(all);
  });

  it('refuses a cursor of another list, order or filter, and one it did not make', () => {
    const { db } = storeOf([0, 1, 2].map((i) => ({ ms: i, priority: 1, status: 'open', statusMs: 5, archived: false, project: 0, word: i, assigned: false, dep: null })));
    const c = pageTasks(db, { status: 'open' }, 'urgency', { limit: 1 }).next_cursor!;
    const refused = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ClareError);
        expect((e as ClareError).code).toBe('CLARE_VALIDATION');
        return (e as ClareError).message;
      }
      throw new Error('accepted');
    };
    expect(refused(() => pageTasks(db, { status: 'done' }, 'urgency', { limit: 1, cursor: c }))).toContain('another list, order or filter');
    expect(refused(() => pageTasks(db, { status: 'open' }, 'created', { limit: 1, cursor: c }))).toContain('another list');
    expect(refused(() => pageProjects(db, {}, { limit: 1, cursor: c }))).toContain('another list');
    for (const bad of ['%%%', 'x'.repeat(2000), Buffer.from('["a",1]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url'), Buffer.from('not json').toString('base64url')]) {
      expect(refused(() => pageTasks(db, { status: 'open' }, 'urgency', { limit: 1, cursor: bad }))).toContain('cursor');
    }
  });
});

describe('keyset paging of the other lists', () => {
  it('visits every project, session, assignment, update, conflict and group once, in order', () => {
    const db = openDb(':memory:');
    dbs.push(db);
    const clock = new HybridClock({ machine: fixedUuid(0xcc, 0) as MachineId });
    const events: unknown[] = [];
    let n = 0;
    const put = (ms: number, d: EventDraft, origin = PEER): void => {
      events.push({ id: randomUUID(), hlc: formatHlc({ ms: T0 + ms, counter: n++, machine: origin }), origin, type: d.type, v: EVENT_CATALOG[d.type].v, payload: d.payload });
    };
    const other = fixedUuid(0xa0, 10) as MachineId;
    for (let i = 0; i < 7; i++) {
      const p = fixedUuid(0x01, 50 + i) as ProjectId;
      put(1, { type: 'project.created', payload: { project_id: p, name: i % 2 === 0 ? 'same' : `p${i}`, path: null, description: '', weight: 1 } });
      const t = fixedUuid(0x02, 50 + i) as TaskId;
      put(1, { type: 'task.created', payload: { task_id: t, project_id: p, title: `t${i}`, description: '', priority: 1, depends_on: [] } });
      put(2, { type: 'session.seen', payload: { host: `h${i % 3}`, session: `s${i}`, cwd: '/tmp', state: 'idle', last_activity: new Date(T0).toISOString() } });
      put(3, { type: 'assignment.created', payload: { assignment_id: fixedUuid(0x03, 50 + i) as never, task_id: t, host: `h${i % 3}`, session: `s${i}` } });
      put(3, { type: 'update.posted', payload: { update_id: fixedUuid(0x04, 50 + i) as never, text: `note ${i}`, task_id: null, host: null, session: null } });
      put(4, { type: 'group.created', payload: { group: `g${6 - i}` } });
      // Two concurrent title edits from two machines: a conflict each.
      put(5, { type: 'task.updated', payload: { task_id: t, base: null, fields: { title: `a${i}` } } });
      put(5, { type: 'task.updated', payload: { task_id: t, base: null, fields: { title: `b${i}` } } }, other);
    }
    ingest(db, clock, events);
    const sql = (q: string): string[] => db.prepare(q).pluck().all() as string[];
    for (const limit of [1, 2, 3, 100]) {
      expect(walk((p) => pageProjects(db, {}, p), (x) => x.id, { limit })).toEqual(sql('SELECT id FROM projects ORDER BY name, id'));
      expect(walk((p) => pageSessions(db, {}, p), (x) => x.key, { limit })).toEqual(sql("SELECT host || ':' || session FROM sessions ORDER BY host, session"));
      expect(walk((p) => pageAssignments(db, {}, p), (x) => x.id, { limit })).toEqual(sql('SELECT id FROM assignments ORDER BY created_hlc DESC, id DESC'));
      expect(walk((p) => pageUpdates(db, {}, p), (x) => x.id, { limit })).toEqual(sql('SELECT id FROM updates ORDER BY hlc DESC'));
      expect(walk((p) => pageGroups(db, {}, p), (x) => x.name, { limit })).toEqual(sql('SELECT name FROM groups ORDER BY name'));
      const conflicts = walk((p) => pageConflicts(db, p), (x) => `${x.loser.event}/${x.winner.event}`, { limit });
      expect(conflicts).toEqual(sql('SELECT loser_event || \'/\' || winner_event FROM conflicts ORDER BY loser_hlc DESC, field DESC, winner_event DESC'));
      expect(conflicts).toHaveLength(7);
    }
  });
});
