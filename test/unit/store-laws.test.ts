// The laws of the event log (MISSION.md, "CRDT-style merge"): whatever order the
// events of a history arrive in, however often, in whatever batches, a store ends
// with the same projection rows — the rows `rebuild` derives, and the rows every
// machine of the mesh that wrote the history converged to. Histories come from a
// simulated mesh (test/helpers/event-gen.ts), so they hold concurrent edits,
// updates before creates, clock steps, unknown types and older/newer versions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/core/db.js';
import { digest } from '../../src/core/digest.js';
import { registerDigestFunctions } from '../../src/core/event-digest.js';
import { HybridClock, type Hlc } from '../../src/core/hlc.js';
import { newMachineId } from '../../src/core/ids.js';
import { rebuild } from '../../src/core/rebuild.js';
import Database from 'better-sqlite3';
import { tasksByIds } from '../../src/core/queries.js';
import { MIGRATIONS } from '../../src/core/schema.js';
import { eventCount, eventsAfter, ingest, watermarks } from '../../src/core/store.js';
import { deliveryArb, historyArb, type History } from '../helpers/event-gen.js';

// Each run simulates a mesh and builds several stores: keep the file to a few seconds.
const RUNS = Number(process.env.FC_RUNS ?? 25);

interface Store { db: Db; clock: HybridClock }

function freshStore(): Store {
  return { db: openDb(':memory:'), clock: new HybridClock({ machine: newMachineId() }) };
}

function withStores<T>(n: number, f: (...stores: Store[]) => T): T {
  const stores = Array.from({ length: n }, freshStore);
  try {
    return f(...stores);
  } finally {
    for (const s of stores) s.db.close();
  }
}

/** Ingests `h`'s events in HLC order, in batches of 50: the reference delivery. */
function ingestInOrder(s: Store, h: History): void {
  for (let i = 0; i < h.events.length; i += 50) ingest(s.db, s.clock, h.events.slice(i, i + 50));
}

const count = (db: Db, table: string): number => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

/** The derived task state and counters as stored (zero counters dropped: absent means 0). */
function derived(db: Db): { state: unknown[]; counters: Record<string, number> } {
  const counters: Record<string, number> = {};
  for (const r of db.prepare('SELECT name, n FROM counters WHERE n <> 0 ORDER BY name').all() as { name: string; n: number }[]) counters[r.name] = r.n;
  return { state: db.prepare('SELECT task_id, bucket, ready, project_id, created_ms, rank_base FROM task_state ORDER BY task_id').raw().all(), counters };
}

/** The same, recomputed from the read-models: what task_state and counters must equal. */
function recomputed(db: Db): { state: unknown[]; counters: Record<string, number> } {
  const ids = (db.prepare('SELECT id FROM tasks WHERE created = 1 ORDER BY id').pluck().all() as string[]);
  const tasks = tasksByIds(db, ids);
  const counters: Record<string, number> = {};
  // The rank inputs (migration 6): a live project's weight; log2 in SQL, as the store computes it.
  const live = new Map((db.prepare('SELECT id, weight FROM projects WHERE created = 1 AND archived = 0').all() as { id: string; weight: number | null }[]).map((p) => [p.id, p.weight ?? 1]));
  const log2 = db.prepare('SELECT log2(?)').pluck();
  const state = ids.map((id) => {
    const t = tasks.get(id)!;
    const bucket = t.archived ? 'archived' : t.status;
    counters[`tasks.${bucket}`] = (counters[`tasks.${bucket}`] ?? 0) + 1;
    if (t.ready) counters['tasks.ready'] = (counters['tasks.ready'] ?? 0) + 1;
    const weight = live.get(t.project_id);
    const createdMs = (db.prepare('SELECT created_hlc FROM tasks WHERE id = ?').pluck().get(id) as string).slice(0, 15);
    return [id, bucket, t.ready ? 1 : 0, t.project_id, createdMs, weight === undefined ? null : t.priority - (log2.get(weight) as number)];
  });
  return { state, counters: Object.fromEntries(Object.entries(counters).sort(([a], [b]) => a.localeCompare(b))) };
}

describe('store laws', () => {
  it('any permutation, duplication and batching of a history gives the HLC-order digest, which equals rebuild and the mesh', () => {
    const arb = historyArb().chain((h) => deliveryArb(h.events).map((d) => ({ h, d })));
    fc.assert(fc.property(arb, ({ h, d }) => withStores(2, (ref, s) => {
      ingestInOrder(ref, h);
      const expected = digest(ref.db);

      let fresh = 0;
      for (const batch of d.batches) fresh += ingest(s.db, s.clock, batch).events.length;
      expect(fresh).toBe(h.events.length);
      expect(digest(s.db)).toBe(expected);

      // Every event held once; the unknown/newer ones held but not applied.
      expect(count(s.db, 'events')).toBe(h.events.length);
      expect(eventCount(s.db)).toBe(h.events.length);
      expect(count(s.db, 'skipped_events')).toBe(h.skipped.size);

      // Watermarks: per origin, the newest HLC of the history.
      const top: Record<string, Hlc> = {};
      for (const e of h.events) if (top[e.origin] === undefined || e.hlc > top[e.origin]!) top[e.origin] = e.hlc;
      expect(watermarks(s.db)).toEqual(top);

      // The derived task state and counters: equal in any delivery order, to what the
      // read-models say, and to what rebuild derives.
      const state = derived(ref.db);
      expect(state).toEqual(recomputed(ref.db));
      expect(derived(s.db)).toEqual(state);

      rebuild(s.db);
      expect(digest(s.db)).toBe(expected);
      expect(derived(s.db)).toEqual(state);
      rebuild(ref.db);
      expect(digest(ref.db)).toBe(expected);
      // The machines that wrote the history, after syncing, agree too.
      for (const m of h.machineDigests) expect(m).toBe(expected);
    })), { numRuns: RUNS });
  });

  it('ingest is idempotent: a second delivery of anything already held is all duplicates and changes nothing', () => {
    const arb = historyArb({ maxCommands: 50 }).chain((h) => fc.tuple(fc.constant(h), deliveryArb(h.events), fc.nat()));
    fc.assert(fc.property(arb, ([h, d, cut]) => withStores(1, (s) => {
      // Hold a prefix of a random delivery, then redeliver all of it, then everything.
      const k = d.batches.length === 0 ? 0 : cut % d.batches.length;
      for (const b of d.batches.slice(0, k)) ingest(s.db, s.clock, b);
      const before = { digest: digest(s.db), events: count(s.db, 'events'), wm: watermarks(s.db) };
      for (const b of d.batches.slice(0, k)) {
        const r = ingest(s.db, s.clock, b);
        expect(r.events).toEqual([]);
        expect(r.changes).toEqual([]);
        expect(r.duplicates).toBe(b.length);
      }
      expect(digest(s.db)).toBe(before.digest);
      expect(count(s.db, 'events')).toBe(before.events);
      expect(watermarks(s.db)).toEqual(before.wm);

      ingestInOrder(s, h);
      const full = digest(s.db);
      const r = ingest(s.db, s.clock, h.events);
      expect(r.duplicates).toBe(h.events.length);
      expect(r.skipped).toBe(0);
      expect(digest(s.db)).toBe(full);
      expect(eventCount(s.db)).toBe(h.events.length);
    })), { numRuns: RUNS });
  });

  it('eventsAfter pages a store out completely, each event once, per-origin prefixes in HLC order', () => {
    const arb = historyArb({ maxCommands: 50 }).chain((h) => fc.tuple(fc.constant(h), fc.integer({ min: 1, max: 17 })));
    fc.assert(fc.property(arb, ([h, limit]) => withStores(2, (src, dst) => {
      ingestInOrder(src, h);
      // A receiver that ingests page after page, asking with its own watermarks.
      for (let pages = 0; ; pages++) {
        expect(pages).toBeLessThanOrEqual(h.events.length);
        const page = eventsAfter(src.db, watermarks(dst.db), limit);
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(limit);
        for (let i = 1; i < page.length; i++) expect(page[i - 1]!.hlc < page[i]!.hlc).toBe(true);
        const r = ingest(dst.db, dst.clock, page);
        expect(r.duplicates).toBe(0);
      }
      expect(count(dst.db, 'events')).toBe(h.events.length);
      expect(digest(dst.db)).toBe(digest(src.db));
    })), { numRuns: RUNS });
  });

  // Migration 4 made task_state from the projections as they stood, migration 6 added
  // the rank columns to it: from a store at the schema before either, with the same
  // projection rows, the rest of the migrations give the rows applying the events keeps.
  it.each([
    ['4, the derived task state', 'CREATE TABLE task_state'],
    ['6, the rank of ready tasks', 'ADD COLUMN rank_base'],
  ])('migration %s, backfills exactly what applying the events maintains', (_name, marker) => {
    const mine = MIGRATIONS.findIndex((m) => m.includes(marker));
    expect(mine).toBeGreaterThan(0);
    fc.assert(fc.property(historyArb({ maxCommands: 60 }), (h) => withStores(1, (s) => {
      ingestInOrder(s, h);
      // The same rows in a store at the schema before the migration, then migrated.
      const old = new Database(':memory:');
      try {
        // Migration 3 hashes stored events with a function openDb registers.
        registerDigestFunctions(old);
        for (const m of MIGRATIONS.slice(0, mine)) old.exec(m);
        const tables = old.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
        for (const t of tables) {
          // The columns the old schema has (later migrations add some).
          const cols = (old.prepare(`SELECT name FROM pragma_table_info('${t}')`).pluck().all() as string[]).join(', ');
          const rows = s.db.prepare(`SELECT ${cols} FROM ${t}`).raw().all() as unknown[][];
          // What the earlier migrations wrote into the empty store (counters at 0) gives way to the copy.
          old.exec(`DELETE FROM ${t}`);
          if (rows.length === 0) continue;
          const ins = old.prepare(`INSERT INTO ${t} (${cols}) VALUES (${rows[0]!.map(() => '?').join(', ')})`);
          for (const r of rows) ins.run(...r);
        }
        for (const m of MIGRATIONS.slice(mine)) old.exec(m);
        expect(derived(old)).toEqual(derived(s.db));
      } finally {
        old.close();
      }
    })), { numRuns: RUNS });
  });

  it('rebuild is idempotent and keeps the events', () => {
    fc.assert(fc.property(historyArb({ maxCommands: 40 }), (h) => withStores(1, (s) => {
      ingestInOrder(s, h);
      const d0 = digest(s.db);
      const indexes = (): unknown[] => s.db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").raw().all();
      const before = indexes();
      const stats = rebuild(s.db);
      // The indexes rebuild drops for the replay (READ_INDEXES) are all back, as they were.
      expect(indexes()).toEqual(before);
      expect(stats.events).toBe(h.events.length);
      expect(stats.skipped).toBe(h.skipped.size);
      expect(stats.applied).toBe(h.events.length - h.skipped.size);
      rebuild(s.db);
      expect(digest(s.db)).toBe(d0);
      expect(count(s.db, 'events')).toBe(h.events.length);
    })), { numRuns: 10 });
  });
});
