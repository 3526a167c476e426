// Event-set digests (src/core/event-digest.ts): the per-origin digest kept in the
// write transaction equals the digest computed from the events, whatever order
// they arrived in; range summaries add up; migration 3 hashes an existing
// database's events; GET /sync/state answers from the maintained figures and
// only hashes the projections when asked.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/core/db.js';
import { digest } from '../../src/core/digest.js';
import { addDigest, digestHex, eventHash, eventSetDigest, originSummaries, parseDigestHex, rangeSummary } from '../../src/core/event-digest.js';
import { HybridClock } from '../../src/core/hlc.js';
import { newMachineId } from '../../src/core/ids.js';
import { MIGRATIONS } from '../../src/core/schema.js';
import { eventsAfter, ingest } from '../../src/core/store.js';
import { getSyncState } from '../../src/replication/http-sync-server.js';
import { deliveryArb, historyArb } from '../helpers/event-gen.js';
import { writeProjects } from '../helpers/replication-harness.js';
import { memoryContext } from '../helpers/memory-context.js';

const RUNS = Number(process.env.FC_RUNS ?? 20);

/** Per origin, the digest recomputed from scratch from the stored rows. */
function recomputed(db: Database.Database): Map<string, { count: number; digest: string }> {
  const out = new Map<string, { count: number; digest: string }>();
  const rows = db.prepare('SELECT id, hlc, origin, type, v, payload, h FROM events').safeIntegers(true).all() as { id: string; hlc: string; origin: string; type: string; v: bigint; payload: string; h: bigint }[];
  const sums = new Map<string, { n: number; d: bigint }>();
  for (const r of rows) {
    const h = eventHash(r.id, r.hlc, r.origin, r.type, Number(r.v), r.payload);
    expect(r.h).toBe(h);
    const s = sums.get(r.origin) ?? { n: 0, d: 0n };
    sums.set(r.origin, { n: s.n + 1, d: addDigest(s.d, h) });
  }
  for (const [o, s] of sums) out.set(o, { count: s.n, digest: digestHex(s.d) });
  return out;
}

function maintained(db: Database.Database): Map<string, { count: number; digest: string }> {
  return new Map([...originSummaries(db)].map(([o, s]) => [o, { count: s.count, digest: digestHex(s.digest) }]));
}

describe('per-origin digests', () => {
  it('are kept in the write transaction equal to the digest of the events held, in any delivery order', () => {
    const arb = historyArb().chain((h) => deliveryArb(h.events).map((d) => ({ h, d })));
    fc.assert(fc.property(arb, ({ h, d }) => {
      const a = openDb(':memory:');
      const b = openDb(':memory:');
      try {
        const ca = new HybridClock({ machine: newMachineId() });
        const cb = new HybridClock({ machine: newMachineId() });
        for (let i = 0; i < h.events.length; i += 50) ingest(a, ca, h.events.slice(i, i + 50));
        for (const batch of d.batches) ingest(b, cb, batch);
        expect(maintained(a)).toEqual(recomputed(a));
        expect(maintained(b)).toEqual(maintained(a));
        expect(eventSetDigest(b)).toBe(eventSetDigest(a));
      } finally {
        a.close();
        b.close();
      }
    }), { numRuns: RUNS });
  });

  it('range summaries split an origin exactly, and the whole range is the maintained figure', () => {
    const ctx = memoryContext();
    writeProjects(ctx, 40);
    const o = ctx.clock.machine;
    const events = eventsAfter(ctx.db, {}, 100);
    const whole = originSummaries(ctx.db).get(o)!;
    expect(rangeSummary(ctx.db, o, '', whole.hlc)).toEqual({ count: 40, digest: whole.digest });
    const cut = events[16]!.hlc;
    const left = rangeSummary(ctx.db, o, '', cut);
    const right = rangeSummary(ctx.db, o, cut, whole.hlc);
    expect(left.count + right.count).toBe(40);
    expect(addDigest(left.digest, right.digest)).toBe(whole.digest);
    expect(parseDigestHex(digestHex(whole.digest))).toBe(whole.digest);
  });

  it('differ when one event differs in content, and the event-set digest with them', () => {
    const a = memoryContext();
    writeProjects(a, 3);
    const events = eventsAfter(a.db, {}, 10);
    const b = memoryContext();
    const c = memoryContext();
    ingest(b.db, b.clock, events);
    ingest(c.db, c.clock, [events[0]!, events[1]!, { ...events[2]!, payload: { ...events[2]!.payload, name: 'other' } }]);
    expect(eventSetDigest(b.db)).toBe(eventSetDigest(a.db));
    expect(eventSetDigest(c.db)).not.toBe(eventSetDigest(a.db));
    const o = a.clock.machine;
    expect(originSummaries(c.db).get(o)!.count).toBe(3);
    expect(originSummaries(c.db).get(o)!.digest).not.toBe(originSummaries(a.db).get(o)!.digest);
  });
});

describe('migration 3', () => {
  it('hashes the events of a schema-2 database and sets every origin\'s digest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clare-mig3-'));
    try {
      const file = join(dir, 'old.db');
      // A database as the previous release left it: migrations 1 and 2, events without h.
      const src = memoryContext();
      writeProjects(src, 25);
      const other = memoryContext();
      writeProjects(other, 5);
      const events = [...eventsAfter(src.db, {}, 100), ...eventsAfter(other.db, {}, 100)];
      const old = new Database(file);
      old.exec(MIGRATIONS[0]!);
      old.exec(MIGRATIONS[1]!);
      old.pragma('user_version = 2');
      const ins = old.prepare('INSERT INTO events (id, hlc, origin, type, v, payload) VALUES (?, ?, ?, ?, ?, ?)');
      const wm = old.prepare('INSERT INTO watermarks (origin, hlc, count) VALUES (?, ?, ?) ON CONFLICT (origin) DO UPDATE SET hlc = max(hlc, excluded.hlc), count = count + 1');
      for (const e of events) {
        ins.run(e.id, e.hlc, e.origin, e.type, e.v, JSON.stringify(e.payload));
        wm.run(e.origin, e.hlc, 1);
      }
      old.close();

      const db = openDb(file);
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(maintained(db)).toEqual(recomputed(db));
      // Same as a store that received them after the migration.
      const fresh = memoryContext();
      ingest(fresh.db, fresh.clock, events);
      expect(eventSetDigest(db)).toBe(eventSetDigest(fresh.db));
      expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_origin_hlc_h'").pluck().get()).toBe(1);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GET /api/v1/sync/state', () => {
  it('answers the event-set digest and per-origin figures; the projection digest only when asked', () => {
    const ctx = memoryContext();
    writeProjects(ctx, 10);
    const st = getSyncState(ctx, ctx.clock.machine, 'desk');
    expect(st).toMatchObject({ event_count: 10, digest_kind: 'events', digest: eventSetDigest(ctx.db), counts: { [ctx.clock.machine]: 10 } });
    expect(st.digests[ctx.clock.machine]).toMatch(/^[0-9a-f]{16}$/);
    expect(st.projections_digest).toBeUndefined();
    expect(getSyncState(ctx, ctx.clock.machine, 'desk', { projections: '1' }).projections_digest).toBe(digest(ctx.db));
    expect(() => getSyncState(ctx, ctx.clock.machine, 'desk', { projections: 'yes' })).toThrow(/bad query/);
  });

  it('does not read the projection tables (it stays cheap as they grow)', () => {
    const ctx = memoryContext();
    writeProjects(ctx, 5);
    const before = getSyncState(ctx, ctx.clock.machine, 'desk');
    // Make reading any projection fail: the cheap state must not notice.
    ctx.db.exec('ALTER TABLE projects RENAME TO projects_hidden');
    expect(getSyncState(ctx, ctx.clock.machine, 'desk')).toEqual(before);
    expect(() => getSyncState(ctx, ctx.clock.machine, 'desk', { projections: '1' })).toThrow();
  });
});
