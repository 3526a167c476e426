// Concurrent edits: two machines change the same field of the same project or task
// without having seen each other's change. The LWW register keeps the newer HLC's
// value; the `conflicts` table records the pair (winner and loser values, both
// HLCs) so a person can look — the same rows whatever order the events arrive in,
// and after rebuild. An edit made after seeing the other (its `base` is the other's
// HLC) is sequential, not a conflict.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/core/db.js';
import { digest } from '../../src/core/digest.js';
import type { EventDraft } from '../../src/core/events/catalog.js';
import type { EventEnvelope } from '../../src/core/events/envelope.js';
import { HybridClock, type Hlc } from '../../src/core/hlc.js';
import type { MachineId, ProjectId, TaskId } from '../../src/core/ids.js';
import { newestClaimHlc } from '../../src/core/queries.js';
import { rebuild } from '../../src/core/rebuild.js';
import { append, eventsAfter, ingest, watermarks } from '../../src/core/store.js';
import { deliveryArb, fixedUuid, historyArb, machineIdOf } from '../helpers/event-gen.js';

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const PROJECT = fixedUuid(0x01, 0) as ProjectId;
const TASK = fixedUuid(0x02, 0) as TaskId;

interface Machine { readonly id: MachineId; readonly db: Db; readonly clock: HybridClock; readonly wall: { now: number } }
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function machine(i: number, offsetMs = 0): Machine {
  const wall = { now: T0 + offsetMs };
  const db = openDb(':memory:');
  open.push(db);
  return { id: machineIdOf(i), db, clock: new HybridClock({ machine: machineIdOf(i), now: () => wall.now }), wall };
}

function freshDb(): { db: Db; clock: HybridClock } {
  const db = openDb(':memory:');
  open.push(db);
  return { db, clock: new HybridClock({ machine: fixedUuid(0xcc, 0) as MachineId }) };
}

function write(m: Machine, draft: EventDraft): EventEnvelope {
  m.wall.now += 5;
  return append(m.db, m.clock, draft).events[0]!;
}

/** `to` takes everything `from` has that it lacks. */
function sync(from: Machine, to: Machine): void {
  ingest(to.db, to.clock, eventsAfter(from.db, watermarks(to.db), 1_000_000));
}

/** The HLC of what `m` holds for a task field: the base an edit made there carries. */
function seenTask(m: Machine, field: string): Hlc | null {
  return m.db.prepare(`SELECT ${field}_hlc FROM tasks WHERE id = ?`).pluck().get(TASK) as Hlc | null;
}

function editTitle(m: Machine, title: string): EventEnvelope {
  return write(m, { type: 'task.updated', payload: { task_id: TASK, base: seenTask(m, 'title'), fields: { title } } });
}

interface ConflictRow {
  entity: string; entity_id: string; field: string;
  winner_event: string; winner_hlc: string; winner_value: string;
  loser_event: string; loser_hlc: string; loser_value: string;
}
const conflicts = (db: Db): ConflictRow[] => db.prepare('SELECT * FROM conflicts ORDER BY entity, entity_id, field, winner_event, loser_event').all() as ConflictRow[];

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** Delivers `events` one per batch, in the given order, to a fresh store; returns its conflicts and digest. */
function deliver(events: readonly EventEnvelope[]): { rows: ConflictRow[]; digest: string } {
  const s = freshDb();
  for (const e of events) ingest(s.db, s.clock, [JSON.parse(JSON.stringify(e)) as unknown]);
  return { rows: conflicts(s.db), digest: digest(s.db) };
}

/** Machines 0 and 1, both holding project P and task T created on machine 0. */
function twoMachinesWithTask(): { a: Machine; b: Machine; setup: EventEnvelope[] } {
  const a = machine(0);
  const b = machine(1, 7);
  const setup = [
    write(a, { type: 'project.created', payload: { project_id: PROJECT, name: 'clare', path: null, description: '', weight: 1 } }),
    write(a, { type: 'task.created', payload: { task_id: TASK, project_id: PROJECT, title: 'draft', description: '', priority: 2, depends_on: [] } }),
  ];
  sync(a, b);
  return { a, b, setup };
}

/** Every arrival order of `edits`, with the setup events before, after or between them. */
function everyOrder(setup: readonly EventEnvelope[], edits: readonly EventEnvelope[]): EventEnvelope[][] {
  return permutations(edits).flatMap((p) => [[...setup, ...p], [...p, ...setup], [p[0]!, ...setup, ...p.slice(1)]]);
}

describe('concurrent edits', () => {
  it('records one conflict for the same field edited on two machines that had not seen each other, in any arrival order', () => {
    const { a, b, setup } = twoMachinesWithTask();
    const ea = editTitle(a, 'title from A');
    const eb = editTitle(b, 'title from B');
    // Neither saw the other: both based on the create.
    expect(ea.payload.base).toBe(setup[1]!.hlc);
    expect(eb.payload.base).toBe(setup[1]!.hlc);

    const [win, lose] = eb.hlc > ea.hlc ? [eb, ea] : [ea, eb];
    const value = (e: EventEnvelope) => JSON.stringify((e.payload.fields as { title: string }).title);
    const expected: ConflictRow[] = [{
      entity: 'task', entity_id: TASK, field: 'title',
      winner_event: win.id, winner_hlc: win.hlc, winner_value: value(win),
      loser_event: lose.id, loser_hlc: lose.hlc, loser_value: value(lose),
    }];
    const results = everyOrder(setup, [ea, eb]).map(deliver);
    for (const r of results) {
      expect(r.rows).toEqual(expected);
      expect(r.digest).toBe(results[0]!.digest);
    }
    // The machines themselves find it once they sync, and the newer value stands.
    sync(a, b);
    sync(b, a);
    expect(conflicts(a.db)).toEqual(expected);
    expect(conflicts(b.db)).toEqual(expected);
    expect(a.db.prepare('SELECT title FROM tasks WHERE id = ?').pluck().get(TASK)).toBe(JSON.parse(win === ea ? value(ea) : value(eb)));
    rebuild(a.db);
    expect(conflicts(a.db)).toEqual(expected);
    expect(digest(a.db)).toBe(digest(b.db));
  });

  it('records every pair when three machines edit the same field concurrently, the same in all 6 orders', () => {
    const { a, b, setup } = twoMachinesWithTask();
    const c = machine(2, -4);
    sync(a, c);
    const edits = [editTitle(a, 'A'), editTitle(b, 'B'), editTitle(c, 'C')];
    const results = permutations(edits).map((p) => deliver([...setup, ...p]));
    expect(results[0]!.rows).toHaveLength(3);
    for (const r of results) expect(r.rows).toEqual(results[0]!.rows);
    for (const row of results[0]!.rows) expect(row.winner_hlc > row.loser_hlc).toBe(true);
  });

  it('detects concurrent status changes and project edits too', () => {
    const { a, b, setup } = twoMachinesWithTask();
    const sa = write(a, { type: 'task.status_changed', payload: { task_id: TASK, base: seenTask(a, 'status'), status: 'in_progress' } });
    const sb = write(b, { type: 'task.status_changed', payload: { task_id: TASK, base: seenTask(b, 'status'), status: 'done' } });
    const base = (m: Machine) => m.db.prepare('SELECT weight_hlc FROM projects WHERE id = ?').pluck().get(PROJECT) as Hlc;
    const pa = write(a, { type: 'project.updated', payload: { project_id: PROJECT, base: base(a), fields: { weight: 2 } } });
    const pb = write(b, { type: 'project.updated', payload: { project_id: PROJECT, base: base(b), fields: { weight: 0.5 } } });
    for (const order of everyOrder(setup, [sa, sb, pa, pb]).slice(0, 24)) {
      const rows = deliver(order).rows;
      expect(rows.map((r) => [r.entity, r.field])).toEqual([['project', 'weight'], ['task', 'status']]);
      expect(rows.find((r) => r.field === 'status')).toMatchObject({ winner_hlc: sb.hlc > sa.hlc ? sb.hlc : sa.hlc, loser_hlc: sb.hlc > sa.hlc ? sa.hlc : sb.hlc });
      expect(rows.find((r) => r.field === 'weight')).toMatchObject({ winner_value: pb.hlc > pa.hlc ? '0.5' : '2', loser_value: pb.hlc > pa.hlc ? '2' : '0.5' });
    }
  });
});

describe('not conflicts', () => {
  it('a sequential edit (the second saw the first: base = its HLC) is not a conflict, in any arrival order', () => {
    const { a, b, setup } = twoMachinesWithTask();
    const ea = editTitle(a, 'first');
    sync(a, b);
    const eb = editTitle(b, 'second');
    expect(eb.payload.base).toBe(ea.hlc);
    for (const order of everyOrder(setup, [ea, eb])) expect(deliver(order).rows).toEqual([]);
  });

  it('concurrent edits of different fields are not a conflict', () => {
    const { a, b, setup } = twoMachinesWithTask();
    const ea = editTitle(a, 'new title');
    const eb = write(b, { type: 'task.updated', payload: { task_id: TASK, base: seenTask(b, 'priority'), fields: { priority: 0 } } });
    for (const order of everyOrder(setup, [ea, eb])) expect(deliver(order).rows).toEqual([]);
  });

  it('two edits from one machine are never a conflict, even with a stale base', () => {
    const { a, setup } = twoMachinesWithTask();
    const base = seenTask(a, 'title');
    const e1 = write(a, { type: 'task.updated', payload: { task_id: TASK, base, fields: { title: 'one' } } });
    const e2 = write(a, { type: 'task.updated', payload: { task_id: TASK, base, fields: { title: 'two' } } });
    for (const order of everyOrder(setup, [e1, e2])) expect(deliver(order).rows).toEqual([]);
  });
});

describe('conflicts in generated histories', () => {
  it('are sound (different origins, neither had stored the other when writing, different values, winner by the field\'s rule) and the same in any delivery order', () => {
    // Machines only: "had seen" is read from each writer's own log, and the raw peers keep none.
    const arb = historyArb({ raw: false }).chain((h) => deliveryArb(h.events).map((d) => ({ h, d })));
    fc.assert(fc.property(arb, ({ h, d }) => {
      const ordered = freshDb();
      ingest(ordered.db, ordered.clock, h.events);
      const expected = conflicts(ordered.db);
      const shuffled = freshDb();
      for (const b of d.batches) ingest(shuffled.db, shuffled.clock, b);
      expect(conflicts(shuffled.db)).toEqual(expected);

      const byId = new Map(h.events.map((e) => [e.id as string, e]));
      // Position of each event in its holder's log: "origin had stored x before writing y".
      const position = new Map<string, Map<string, number>>();
      for (const [m, ids] of h.storedOrder) position.set(m, new Map(ids.map((id, i) => [id as string, i])));
      const sawBefore = (x: EventEnvelope, y: EventEnvelope): boolean => {
        const p = position.get(y.origin)!;
        return (p.get(x.id) ?? Infinity) < p.get(y.id)!;
      };
      for (const row of expected) {
        const w = byId.get(row.winner_event)!;
        const l = byId.get(row.loser_event)!;
        expect(w.origin).not.toBe(l.origin);
        expect(row.winner_hlc).toBe(w.hlc);
        expect(row.loser_hlc).toBe(l.hlc);
        if (row.field === 'holder') {
          // Claims: the newer base wins, then the older HLC (docs/protocol.md, "Claims").
          const [wb, lb] = [(w.payload.base ?? '') as string, (l.payload.base ?? '') as string];
          expect(wb > lb || (wb === lb && w.hlc < l.hlc)).toBe(true);
        } else {
          expect(w.hlc > l.hlc).toBe(true);
        }
        expect(row.winner_value).not.toBe(row.loser_value);
        expect(sawBefore(w, l)).toBe(false);
        expect(sawBefore(l, w)).toBe(false);
      }
    }), { numRuns: Number(process.env.FC_RUNS ?? 25) });
  });
});

describe('concurrent claims', () => {
  const holderOf = (db: Db): unknown => db.prepare('SELECT holder_host, holder_session FROM tasks WHERE id = ?').get(TASK);
  const lost = (db: Db): unknown[] => db.prepare('SELECT claim_event, lost, task_id, host, session, status FROM lost_claims ORDER BY claim_event').all();
  function claim(m: Machine, session: string, host = 'desk'): EventEnvelope {
    const base = newestClaimHlc(m.db, TASK);
    return write(m, { type: 'task.claimed', payload: { task_id: TASK, host, session, base, previous: null } });
  }

  it('the earliest of two claims made apart holds the task, the other is a conflict and a lost claim, in any arrival order and after rebuild', () => {
    const { a, b, setup } = twoMachinesWithTask();
    const early = claim(a, 'api-1');
    b.wall.now = a.wall.now + 50;
    const late = claim(b, 'api-2', 'build');
    expect(early.hlc < late.hlc).toBe(true);
    const expected = {
      holder: { holder_host: 'desk', holder_session: 'api-1' },
      conflict: { field: 'holder', winner_event: early.id, loser_event: late.id, winner_value: '"desk:api-1"', loser_value: '"build:api-2"' },
      lost: [{ claim_event: late.id, lost: 1, task_id: TASK, host: 'build', session: 'api-2', status: null }],
    };
    const results = everyOrder(setup, [early, late]).map((events) => {
      const s = freshDb();
      for (const e of events) ingest(s.db, s.clock, [JSON.parse(JSON.stringify(e)) as unknown]);
      const d = digest(s.db);
      rebuild(s.db);
      expect(digest(s.db)).toBe(d);
      return { d, holder: holderOf(s.db), conflicts: conflicts(s.db), lost: lost(s.db) };
    });
    for (const r of results) {
      expect(r.holder).toEqual(expected.holder);
      expect(r.conflicts).toHaveLength(1);
      expect(r.conflicts[0]).toMatchObject(expected.conflict);
      expect(r.lost).toEqual(expected.lost);
      expect(r.d).toBe(results[0]!.d);
    }
  });

  it('a claim made after seeing the holder (a take-over) replaces it and is no conflict, though its HLC is newer', () => {
    const { a, b } = twoMachinesWithTask();
    claim(a, 'api-1');
    sync(a, b);
    const takeover = claim(b, 'api-2', 'build');
    expect(takeover.payload.base).not.toBeNull();
    sync(b, a);
    for (const m of [a, b]) {
      expect(holderOf(m.db)).toEqual({ holder_host: 'build', holder_session: 'api-2' });
      expect(conflicts(m.db)).toEqual([]);
      expect(lost(m.db)).toEqual([]);
    }
  });

  it('a notice that arrives before the conflict is found keeps its status once the loss is recorded', () => {
    const { a, b, setup } = twoMachinesWithTask();
    const early = claim(a, 'api-1');
    b.wall.now = a.wall.now + 50;
    const late = claim(b, 'api-2', 'build');
    sync(a, b);
    const notice = write(b, { type: 'task.claim_notice', payload: { claim_event: late.id, task_id: TASK, host: 'build', session: 'api-2', status: 'delivered', detail: null } });
    for (const order of [[...setup, notice, late, early], [...setup, early, late, notice]]) {
      const s = freshDb();
      for (const e of order) ingest(s.db, s.clock, [JSON.parse(JSON.stringify(e)) as unknown]);
      expect(lost(s.db)).toEqual([{ claim_event: late.id, lost: 1, task_id: TASK, host: 'build', session: 'api-2', status: 'delivered' }]);
    }
  });
});
