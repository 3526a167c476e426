// Bad input at the store's boundaries (STYLE.md rule 4: parse, and on failure
// answer a coded error and write nothing). A remote batch with one bad event —
// malformed envelope, wrong payload, a clock too far ahead — is refused whole with
// a ClareError naming the event's index and id, and the store is exactly as before:
// events, watermarks, projections, the clock. Also: versions (unknown types and
// newer `v` are kept, not applied; older `v` is upcast), local drafts, migrations.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openDb, schemaVersion, type Db } from '../../src/core/db.js';
import { digest } from '../../src/core/digest.js';
import { ClareError } from '../../src/core/errors.js';
import type { EventDraft } from '../../src/core/events/catalog.js';
import { MAX_PAYLOAD_BYTES } from '../../src/core/events/envelope.js';
import { formatHlc, HybridClock } from '../../src/core/hlc.js';
import type { MachineId, ProjectId, TaskId } from '../../src/core/ids.js';
import { applicableSkipped, rebuild } from '../../src/core/rebuild.js';
import { MIGRATIONS } from '../../src/core/schema.js';
import { append, appendMany, eventsAfter, ingest, watermarks } from '../../src/core/store.js';
import { fixedUuid } from '../helpers/event-gen.js';

const NOW = Date.UTC(2025, 0, 6, 9, 0, 0);
const REMOTE = fixedUuid(0xa0, 7) as MachineId;
const PROJECT = fixedUuid(0x01, 1) as ProjectId;
const TASK = fixedUuid(0x02, 1) as TaskId;

type Raw = Record<string, unknown>;

let db: Db;
let clock: HybridClock;
let seq = 0;

/** A valid remote event, one ms after the previous one. */
function remote(type: string, payload: Raw, v = 1): Raw {
  seq++;
  return { id: fixedUuid(0xe0, seq), hlc: formatHlc({ ms: NOW - 60_000 + seq, counter: 0, machine: REMOTE }), origin: REMOTE, type, v, payload };
}
const taskCreated = (n: number): Raw => remote('task.created', { task_id: fixedUuid(0x02, 100 + n), project_id: PROJECT, title: `task ${n}`, description: '', priority: 2, depends_on: [] }, 2);
const validBatch = (n: number): Raw[] => Array.from({ length: n }, (_, i) => taskCreated(seq + i));

interface Snapshot { events: number; digest: string; watermarks: Record<string, string>; skipped: number; clock: string }
function snapshot(): Snapshot {
  return {
    events: db.prepare('SELECT count(*) FROM events').pluck().get() as number,
    digest: digest(db),
    watermarks: watermarks(db),
    skipped: db.prepare('SELECT count(*) FROM skipped_events').pluck().get() as number,
    clock: clock.peek(),
  };
}

function refused(batch: readonly unknown[]): ClareError {
  try {
    ingest(db, clock, batch);
  } catch (e) {
    if (e instanceof ClareError) return e;
    throw e;
  }
  throw new Error('expected the batch to be refused');
}

beforeEach(() => {
  db?.close();
  db = openDb(':memory:');
  clock = new HybridClock({ machine: fixedUuid(0xa0, 1) as MachineId, now: () => NOW });
  // Something held already, so "unchanged" means more than "empty".
  ingest(db, clock, [remote('project.created', { project_id: PROJECT, name: 'clare', path: null, description: '', weight: 1 }),
    remote('task.created', { task_id: TASK, project_id: PROJECT, title: 'first', description: '', priority: 1, depends_on: [] }, 2)]);
});

/** Mutations of a valid task.created event; each must be refused with CLARE_BAD_EVENT. */
const BAD: readonly [string, (e: Raw) => unknown][] = [
  ['missing id', ({ id: _, ...e }) => e],
  ['missing hlc', ({ hlc: _, ...e }) => e],
  ['missing origin', ({ origin: _, ...e }) => e],
  ['missing type', ({ type: _, ...e }) => e],
  ['missing v', ({ v: _, ...e }) => e],
  ['missing payload', ({ payload: _, ...e }) => e],
  ['an extra envelope field', (e) => ({ ...e, seq: 1 })],
  ['a bad uuid', (e) => ({ ...e, id: 'not-a-uuid' })],
  ['an upper-case uuid', (e) => ({ ...e, id: String(e.id).toUpperCase() })],
  ['a numeric id', (e) => ({ ...e, id: 42 })],
  ['a bad hlc', (e) => ({ ...e, hlc: '2025-01-06T09:00:00Z' })],
  ['an hlc without counter padding', (e) => ({ ...e, hlc: String(e.hlc).replace(':00000:', ':0:') })],
  ['hlc machine ≠ origin', (e) => ({ ...e, origin: fixedUuid(0xa0, 8) })],
  ['a malformed type', (e) => ({ ...e, type: 'Task.Created' })],
  ['v 0', (e) => ({ ...e, v: 0 })],
  ['v 1.5', (e) => ({ ...e, v: 1.5 })],
  ['v as a string', (e) => ({ ...e, v: '2' })],
  ['payload a string', (e) => ({ ...e, payload: 'task' })],
  ['payload an array', (e) => ({ ...e, payload: [1, 2] })],
  ['payload null', (e) => ({ ...e, payload: null })],
  ['an oversize payload', (e) => ({ ...e, payload: { ...(e.payload as Raw), description: 'x'.repeat(MAX_PAYLOAD_BYTES) } })],
  ['an oversize payload of an unknown type', (e) => ({ ...e, type: 'task.labelled', payload: { blob: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) } })],
  ['task.created without title', (e) => ({ ...e, payload: { ...(e.payload as Raw), title: undefined } })],
  ['task.created with priority 7', (e) => ({ ...e, payload: { ...(e.payload as Raw), priority: 7 } })],
  ['task.created with a two-line title', (e) => ({ ...e, payload: { ...(e.payload as Raw), title: 'one\ntwo' } })],
  ['task.created with an unknown key', (e) => ({ ...e, payload: { ...(e.payload as Raw), colour: 'red' } })],
  ['task.created with a bad dependency id', (e) => ({ ...e, payload: { ...(e.payload as Raw), depends_on: ['nope'] } })],
  ['task.created v1 without title (upcast path)', (e) => ({ ...e, v: 1, payload: { task_id: TASK, project_id: PROJECT, priority: 1 } })],
  ['task.updated changing nothing', (e) => ({ ...e, type: 'task.updated', v: 1, payload: { task_id: TASK, base: null, fields: {} } })],
  ['task.updated with a bad base', (e) => ({ ...e, type: 'task.updated', v: 1, payload: { task_id: TASK, base: 'yesterday', fields: { priority: 1 } } })],
  ['task.status_changed to a bad status', (e) => ({ ...e, type: 'task.status_changed', v: 1, payload: { task_id: TASK, base: null, status: 'finished' } })],
  ['session.seen with a bad instant', (e) => ({ ...e, type: 'session.seen', v: 1, payload: { host: 'desk', session: 'api', cwd: '/', state: 'idle', last_activity: 'yesterday' } })],
  ['group.member_added with a bad pattern', (e) => ({ ...e, type: 'group.member_added', v: 1, payload: { group: 'all', pattern: 'no colon' } })],
  ['broadcast.sent with ttl 0', (e) => ({ ...e, type: 'broadcast.sent', v: 1, payload: { update_id: fixedUuid(0x04, 1), group: 'all', text: 'hi', ttl_s: 0 } })],
];

describe('remote batches with a bad event', () => {
  it.each(BAD)('refuses %s with CLARE_BAD_EVENT naming index and id, writing nothing (bad event last)', (_name, mutate) => {
    const before = snapshot();
    const batch = [...validBatch(5), mutate(taskCreated(99))];
    const e = refused(batch);
    expect(e.code).toBe('CLARE_BAD_EVENT');
    const item = batch[5] as Raw;
    const id = 'id' in item ? String(item.id).slice(0, 40) : '?';
    expect(e.message).toContain(`event #5 (id ${id})`);
    expect(e.details).toMatchObject({ index: 5, id });
    expect(snapshot()).toEqual(before);
  });

  it.each([['first', 0], ['in the middle', 3]])('refuses the batch when the bad event is %s', (_name, at) => {
    const before = snapshot();
    const batch: unknown[] = validBatch(6);
    batch[at] = { ...(batch[at] as Raw), hlc: 'bad' };
    const e = refused(batch);
    expect(e.message).toContain(`event #${at} (id ${String((batch[at] as Raw).id)})`);
    expect(snapshot()).toEqual(before);
  });

  it.each([['null', null], ['a number', 42], ['a string', 'task.created'], ['an array', [1]]])('refuses an event that is %s', (_name, item) => {
    const before = snapshot();
    const e = refused([...validBatch(2), item]);
    expect(e.code).toBe('CLARE_BAD_EVENT');
    expect(e.message).toContain('event #2 (id ?)');
    expect(snapshot()).toEqual(before);
  });

  it('refuses a batch with an event from too far in the future with CLARE_HLC_SKEW naming origin, offset, index and id', () => {
    const before = snapshot();
    const future: Raw = { ...taskCreated(50), hlc: formatHlc({ ms: NOW + clock.maxSkewMs + 1234, counter: 0, machine: REMOTE }) };
    const e = refused([...validBatch(4), future]);
    expect(e.code).toBe('CLARE_HLC_SKEW');
    expect(e.message).toContain(`event #4 (id ${String(future.id)})`);
    expect(e.message).toContain(REMOTE);
    expect(e.message).toContain(`${clock.maxSkewMs + 1234} ms`);
    expect(e.details).toMatchObject({ origin: REMOTE, offset_ms: clock.maxSkewMs + 1234, index: 4, id: future.id });
    // Nothing written, and our clock did not jump towards the bad stamp.
    expect(snapshot()).toEqual(before);
    // One ms inside the bound is fine.
    const edge = { ...taskCreated(51), hlc: formatHlc({ ms: NOW + clock.maxSkewMs, counter: 0, machine: REMOTE }) };
    expect(ingest(db, clock, [edge]).events).toHaveLength(1);
  });

  it('still takes good batches after refusing bad ones, and a duplicate in a refused batch is not held twice', () => {
    const good = validBatch(3);
    refused([...good, { ...taskCreated(60), payload: 7 }]);
    const r = ingest(db, clock, [...good, good[0]]);
    expect(r.events).toHaveLength(3);
    expect(r.duplicates).toBe(1);
  });
});

describe('event versions', () => {
  it('keeps unknown types and newer versions, relays them untouched, counts them in skipped_events and does not apply them', () => {
    const before = digest(db);
    const unknown = remote('task.labelled', { task_id: TASK, label: 'urgent' });
    const newer = remote('task.updated', { task_id: TASK, title: 'v2 shape', because: 'reasons' }, 2);
    const r = ingest(db, clock, [unknown, newer]);
    expect(r.events).toHaveLength(2);
    expect(r.skipped).toBe(2);
    expect(r.changes).toEqual([]);
    expect(digest(db)).toBe(before);
    expect(db.prepare('SELECT event_id, type, v, reason FROM skipped_events ORDER BY event_id').all()).toEqual([
      { event_id: unknown.id, type: 'task.labelled', v: 1, reason: 'unknown-type' },
      { event_id: newer.id, type: 'task.updated', v: 2, reason: 'newer-version' },
    ]);
    const relayed = eventsAfter(db, {}, 100).filter((e) => e.id === unknown.id || e.id === newer.id);
    expect(relayed).toEqual([unknown, newer]);
    rebuild(db);
    expect(digest(db)).toBe(before);
    expect(db.prepare('SELECT count(*) FROM skipped_events').pluck().get()).toBe(2);
  });

  it('checks an event stored opaque when an upgrade makes its version current: a bad payload is skipped by rebuild, not applied', () => {
    const before = digest(db);
    // A newer peer's group.created v2 is stored unchecked; this one's payload is junk for any version.
    const opaque = remote('group.created', { group: 'x\u001b]0;pwned\u0007', members: '*:*' }, 2);
    expect(ingest(db, clock, [opaque]).skipped).toBe(1);
    // After an upgrade whose catalog has group.created v2, the stored row's version is the current one.
    // (This build's current is 1: the row is set to it, which is what the upgraded store holds.)
    db.prepare('UPDATE events SET v = 1 WHERE id = ?').run(opaque.id);
    rebuild(db);
    expect(digest(db)).toBe(before);
    expect(db.prepare('SELECT count(*) FROM groups').pluck().get()).toBe(0);
    const why = db.prepare('SELECT reason FROM skipped_events WHERE event_id = ?').pluck().get(opaque.id);
    expect(why).toMatch(/^group\.created v1: /);
  });

  it('counts events an upgrade taught this build (what the daemon rebuilds for at start), not ones skipped as invalid', () => {
    const good = remote('group.created', { group: 'later' }, 2);
    const bad = remote('group.created', { group: 'x\u0007', members: '*:*' }, 2);
    ingest(db, clock, [good, bad]);
    expect(applicableSkipped(db)).toBe(0); // v2 is newer than this build's v1
    db.prepare('UPDATE events SET v = 1 WHERE id IN (?, ?)').run(good.id, bad.id);
    db.prepare('UPDATE skipped_events SET v = 1').run(); // as an upgraded build whose current is v2 sees them
    expect(applicableSkipped(db)).toBe(2);
    rebuild(db);
    expect(db.prepare('SELECT name FROM groups').pluck().all()).toEqual(['later']);
    expect(applicableSkipped(db)).toBe(0);
  });

  it('upcasts task.created v1 to v2 (no description, no dependencies), stores it as received, and rebuild agrees', () => {
    const old = remote('task.created', { task_id: fixedUuid(0x02, 9), project_id: PROJECT, title: 'from an old peer', priority: 3 }, 1);
    const r = ingest(db, clock, [old]);
    expect(r.events).toHaveLength(1);
    expect(r.skipped).toBe(0);
    const row = db.prepare('SELECT created, title, description, priority, status FROM tasks WHERE id = ?').get(fixedUuid(0x02, 9));
    expect(row).toEqual({ created: 1, title: 'from an old peer', description: '', priority: 3, status: 'open' });
    expect(db.prepare('SELECT count(*) FROM task_dependencies WHERE task_id = ?').pluck().get(fixedUuid(0x02, 9))).toBe(0);
    expect(db.prepare('SELECT v, payload FROM events WHERE id = ?').get(old.id)).toEqual({ v: 1, payload: JSON.stringify(old.payload) });
    const d = digest(db);
    rebuild(db);
    expect(digest(db)).toBe(d);
  });

  it('stores the normalised form of a current payload, so rebuild equals ingest (untrimmed names, non-UTC instants)', () => {
    const sloppy = [
      remote('project.updated', { project_id: PROJECT, base: null, fields: { name: '  padded  ' } }),
      remote('session.seen', { host: 'desk', session: 'api', cwd: '/srv', state: 'idle', last_activity: '2025-01-06T11:00:00+02:00' }),
    ];
    ingest(db, clock, sloppy);
    expect(db.prepare('SELECT name FROM projects WHERE id = ?').pluck().get(PROJECT)).toBe('padded');
    expect(db.prepare('SELECT last_activity FROM sessions').pluck().get()).toBe('2025-01-06T09:00:00.000Z');
    const d = digest(db);
    rebuild(db);
    expect(digest(db)).toBe(d);
  });
});

describe('local drafts', () => {
  it('refuses a draft peers would refuse with CLARE_VALIDATION, writing nothing (not even the valid drafts before it)', () => {
    const before = snapshot();
    const good: EventDraft = { type: 'task.status_changed', payload: { task_id: TASK, base: null, status: 'done' } };
    const bad = { type: 'session.seen', payload: { host: 'my host', session: 'api', cwd: '/', state: 'idle', last_activity: '2025-01-06T09:00:00.000Z' } } as EventDraft;
    let err: unknown;
    try {
      appendMany(db, clock, [good, bad]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClareError);
    expect((err as ClareError).code).toBe('CLARE_VALIDATION');
    expect((err as ClareError).message).toContain('draft #1 (session.seen)');
    expect(snapshot()).toEqual(before);
  });

  it('stores a local draft normalised, as a peer would, so origin and peers agree', () => {
    const local = append(db, clock, { type: 'project.updated', payload: { project_id: PROJECT, base: null, fields: { name: ' spaced ' } } });
    expect(local.events[0]!.payload).toEqual({ project_id: PROJECT, base: null, fields: { name: 'spaced' } });
    const peer = openDb(':memory:');
    try {
      ingest(peer, new HybridClock({ machine: fixedUuid(0xa0, 2) as MachineId, now: () => NOW }), eventsAfter(db, {}, 100));
      expect(digest(peer)).toBe(digest(db));
    } finally {
      peer.close();
    }
  });
});

describe('migrations', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clare-migrations-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives a fresh database user_version = number of migrations, in WAL mode', () => {
    const file = path.join(dir, 'fresh.db');
    const d = openDb(file);
    expect(schemaVersion(d)).toBe(MIGRATIONS.length);
    expect(d.pragma('journal_mode', { simple: true })).toBe('wal');
    d.close();
  });

  it('reopening is a no-op: same version, same schema, data kept', () => {
    const file = path.join(dir, 'reopen.db');
    const d1 = openDb(file);
    const c1 = new HybridClock({ machine: fixedUuid(0xa0, 3) as MachineId });
    append(d1, c1, { type: 'group.created', payload: { group: 'all' } });
    const schema = d1.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all();
    const dg = digest(d1);
    d1.close();
    const d2 = openDb(file);
    expect(schemaVersion(d2)).toBe(MIGRATIONS.length);
    expect(d2.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all()).toEqual(schema);
    expect(digest(d2)).toBe(dg);
    d2.close();
  });

  it('refuses a database with a newer user_version with CLARE_DB, leaving it untouched', () => {
    const file = path.join(dir, 'newer.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    let err: unknown;
    try {
      openDb(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClareError);
    expect((err as ClareError).code).toBe('CLARE_DB');
    expect((err as ClareError).message).toContain(`schema version ${MIGRATIONS.length + 1}`);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    expect(check.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'events'").pluck().get()).toBe(0);
    check.close();
  });

  it('refuses a file that is not a database with CLARE_DB naming the path', () => {
    const file = path.join(dir, 'junk.db');
    writeFileSync(file, 'this is not a database\n'.repeat(200));
    let err: unknown;
    try {
      openDb(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClareError);
    expect((err as ClareError).code).toBe('CLARE_DB');
    expect((err as ClareError).message).toContain(file);
  });
});
