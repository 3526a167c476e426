// Anti-entropy: peers compare per-origin counts and digests, not only watermarks.
// Two stores that hold different events below equal watermarks — which, by
// watermark, lag 0 both ways — find the difference by halving HLC ranges and
// fetch what each lacks; an event that differs in content is flagged as an
// identity conflict. A version-1 peer cannot reconcile: the divergence is shown.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreContext } from '../../src/core/context.js';
import { digest } from '../../src/core/digest.js';
import { ClareError } from '../../src/core/errors.js';
import { eventSetDigest, rangeSummary } from '../../src/core/event-digest.js';
import { formatHlc, type Hlc } from '../../src/core/hlc.js';
import type { MachineId } from '../../src/core/ids.js';
import { eventCount, eventsAfter, ingest, rangeEventsRaw, watermarks } from '../../src/core/store.js';
import { checkRangePage, reconcileOrigin, splitRange, type ReconcileIo } from '../../src/replication/anti-entropy.js';
import { encodeEvents } from '../../src/replication/batch-codec.js';
import { connectRawPeer, makeEvent, MemoryNetwork, writeProjects, type TestNode } from '../helpers/replication-harness.js';
import { memoryContext } from '../helpers/memory-context.js';
import { waitFor } from '../helpers/wait-for.js';

const RUNS = Number(process.env.FC_RUNS ?? 40);

/** `us` reconciles `origin` from `them`, store to store (what a session does over frames). */
function directIo(us: StoreContext, them: StoreContext, pageSize: number): ReconcileIo & { asked: number } {
  const io = {
    asked: 0,
    theirSums: (origin: MachineId, ranges: readonly (readonly [Hlc | '', Hlc])[]) => {
      io.asked++;
      return Promise.resolve(ranges.map(([a, u]) => rangeSummary(them.db, origin, a, u)));
    },
    theirEvents: (origin: MachineId, range: readonly [Hlc | '', Hlc]) => {
      io.asked++;
      const rows = rangeEventsRaw(them.db, origin, range[0], range[1], pageSize + 1);
      const enc = encodeEvents({}, rows.slice(0, pageSize), 1 << 20);
      const page = checkRangePage(origin, range, { type: 'range', id: 1, more: rows.length > enc.count, events: JSON.parse(enc.events) as unknown[] });
      if (page instanceof ClareError) throw page;
      return Promise.resolve(page);
    },
    ourSum: (origin: MachineId, range: readonly [Hlc | '', Hlc]) => rangeSummary(us.db, origin, range[0], range[1]),
    ingest: (events: readonly unknown[]) => {
      const r = ingest(us.db, us.clock, events);
      return { accepted: r.events.length, known: r.duplicates };
    },
  };
  return io;
}

describe('reconcileOrigin (property)', () => {
  it('random event sets below equal watermarks converge to their union, pulling both ways', async () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 200 }),
      inA: fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }),
      inB: fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }),
      fanout: fc.integer({ min: 2, max: 16 }),
      leaf: fc.integer({ min: 1, max: 40 }),
      page: fc.integer({ min: 1, max: 50 }),
      burst: fc.boolean(),
    });
    await fc.assert(fc.asyncProperty(arb, async ({ n, inA, inB, fanout, leaf, page, burst }) => {
      const origin = memoryContext();
      // Bursts put many events in one millisecond (counter-only positions to cut between).
      writeProjects(origin, n, 'e', burst ? n : 1);
      const all = eventsAfter(origin.db, {}, n);
      const a = memoryContext();
      const b = memoryContext();
      try {
        // Both hold the newest event (equal watermarks), each a random subset of the rest.
        ingest(a.db, a.clock, all.filter((_, i) => i === n - 1 || inA[i]!));
        ingest(b.db, b.clock, all.filter((_, i) => i === n - 1 || inB[i]!));
        const o = origin.clock.machine;
        expect(watermarks(a.db)[o]).toBe(watermarks(b.db)[o]);
        const upto = watermarks(a.db)[o]!;
        const ra = await reconcileOrigin(directIo(a, b, page), o, upto, { fanout, leaf });
        const rb = await reconcileOrigin(directIo(b, a, page), o, upto, { fanout, leaf });
        expect(ra.complete && rb.complete).toBe(true);
        const union = all.filter((_, i) => i === n - 1 || inA[i]! || inB[i]!).length;
        expect(eventCount(a.db)).toBe(union);
        expect(eventCount(b.db)).toBe(union);
        expect(eventSetDigest(a.db)).toBe(eventSetDigest(b.db));
        expect(digest(a.db)).toBe(digest(b.db));
      } finally {
        for (const c of [origin, a, b]) c.db.close();
      }
    }), { numRuns: RUNS });
  });

  it('an event that differs in content is flagged as an identity conflict, and nothing of its page is written', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 2, max: 120 }), fc.nat(), async (n, pick) => {
      const origin = memoryContext();
      writeProjects(origin, n);
      const all = eventsAfter(origin.db, {}, n);
      const k = pick % n;
      const a = memoryContext();
      const b = memoryContext();
      try {
        ingest(a.db, a.clock, all);
        ingest(b.db, b.clock, all.map((e, i) => (i === k ? { ...e, payload: { ...e.payload, name: 'forked' } } : e)));
        const o = origin.clock.machine;
        const before = eventSetDigest(a.db);
        const err = await reconcileOrigin(directIo(a, b, 1000), o, watermarks(a.db)[o]!, { leaf: 4 }).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(ClareError);
        expect((err as ClareError).code).toBe('CLARE_IDENTITY_CONFLICT');
        expect((err as ClareError).message).toContain(all[k]!.id);
        expect(eventSetDigest(a.db)).toBe(before);
      } finally {
        for (const c of [origin, a, b]) c.db.close();
      }
    }), { numRuns: 15 });
  });

  it('cuts ranges by HLC position, down to single counters, covering the range exactly', () => {
    const o = memoryContext().clock.machine;
    const h = (ms: number, c = 0): Hlc => formatHlc({ ms, counter: c, machine: o });
    const parts = splitRange(['', h(1000)], o, 4)!;
    expect(parts).toHaveLength(4);
    expect(parts[0]![0]).toBe('');
    expect(parts.at(-1)![1]).toBe(h(1000));
    for (let i = 1; i < parts.length; i++) expect(parts[i]![0]).toBe(parts[i - 1]![1]);
    expect(splitRange([h(5, 3), h(5, 5)], o, 16)).toEqual([[h(5, 3), h(5, 4)], [h(5, 4), h(5, 5)]]);
    expect(splitRange([h(5, 3), h(5, 4)], o, 16)).toBeNull();
  });

  it('a range answer with events outside the range or of another origin is refused', () => {
    const o = memoryContext().clock.machine;
    const other = memoryContext().clock.machine;
    const h = (ms: number): Hlc => formatHlc({ ms, counter: 0, machine: o });
    const range = [h(10), h(20)] as const;
    const page = (events: unknown[]) => checkRangePage(o, range, { type: 'range', id: 1, more: false, events });
    expect(page([makeEvent(o, 15)])).not.toBeInstanceOf(ClareError);
    expect(page([makeEvent(o, 25)])).toBeInstanceOf(ClareError);
    expect(page([makeEvent(o, 10)])).toBeInstanceOf(ClareError);
    expect(page([makeEvent(other, 15)])).toBeInstanceOf(ClareError);
    expect(page([makeEvent(o, 16), makeEvent(o, 15)])).toBeInstanceOf(ClareError);
  });
});

describe('anti-entropy between running peers', () => {
  let net: MemoryNetwork;
  afterEach(async () => {
    await net.stopAll();
  });

  /** a and b: x's events, b (and a, with aHoles) with holes below the shared watermark; `total`: their union. Lag by watermark is 0 both ways. */
  function holedPair(opts: { bVersions?: readonly number[]; aHoles?: boolean } = {}): { a: TestNode; b: TestNode; total: number } {
    net = new MemoryNetwork();
    const x = memoryContext();
    writeProjects(x, 60);
    const all = eventsAfter(x.db, {}, 100);
    const a = net.add({ name: 'a', peers: ['b'] });
    const b = net.add({ name: 'b', ...(opts.bVersions === undefined ? {} : { versions: opts.bVersions }) });
    const last = all.length - 1;
    const inA = (i: number): boolean => i === last || opts.aHoles !== true || i % 5 !== 1;
    const inB = (i: number): boolean => i === last || i % 7 !== 3;
    ingest(a.ctx.db, a.ctx.clock, all.filter((_, i) => inA(i)));
    ingest(b.ctx.db, b.ctx.clock, all.filter((_, i) => inB(i)));
    x.db.close();
    return { a, b, total: all.filter((_, i) => inA(i) || inB(i)).length };
  }

  it('two peers holding different events below equal watermarks find and fetch the difference', async () => {
    const { a, b, total } = holedPair({ aHoles: true });
    expect(eventCount(a.ctx.db)).toBeLessThan(total);
    expect(eventCount(b.ctx.db)).toBeLessThan(total);
    await net.startAll();
    await waitFor(() => `union on both (a=${eventCount(a.ctx.db)} b=${eventCount(b.ctx.db)} of ${total})`, () => eventCount(a.ctx.db) === total && eventCount(b.ctx.db) === total);
    expect(eventSetDigest(a.ctx.db)).toBe(eventSetDigest(b.ctx.db));
    expect(digest(a.ctx.db)).toBe(digest(b.ctx.db));
    await waitFor('no divergence left', () => a.service.status()[0]?.divergence === null && b.service.status()[0]?.divergence === null);
    expect(a.service.status()[0]).toMatchObject({ protocol: 3, faulty: false, last_error: null, lag: { they_lack: 0, we_lack: 0 } });
  });

  it('an event held with different content on each side (equal counts, lag 0) is found and refused as an identity conflict on the link', async () => {
    net = new MemoryNetwork();
    const x = memoryContext();
    writeProjects(x, 40);
    const all = eventsAfter(x.db, {}, 100);
    x.db.close();
    const a = net.add({ name: 'a', peers: ['b'] });
    const b = net.add({ name: 'b' });
    ingest(a.ctx.db, a.ctx.clock, all);
    ingest(b.ctx.db, b.ctx.clock, all.map((e, i) => (i === 17 ? { ...e, payload: { ...e.payload, name: 'forked' } } : e)));
    await net.startAll();
    await waitFor('identity conflict on a link', () => [a, b].some((n) => n.service.status()[0]?.last_error?.code === 'CLARE_IDENTITY_CONFLICT'));
    const st = [a, b].map((n) => n.service.status()[0]!).find((p) => p.last_error?.code === 'CLARE_IDENTITY_CONFLICT')!;
    expect(st.last_error!.message).toContain(all[17]!.id);
    // Neither side took the other's version of the event.
    expect(eventCount(a.ctx.db)).toBe(40);
    expect(eventSetDigest(a.ctx.db)).not.toBe(eventSetDigest(b.ctx.db));
  });

  it('with a version-1 peer there is no anti-entropy, and status says DIVERGED instead of lag 0 alone', async () => {
    const { a, b } = holedPair({ bVersions: [1] });
    await net.startAll();
    await waitFor('divergence on a', () => a.service.status()[0]?.divergence !== null && a.service.status()[0]?.divergence !== undefined);
    const st = a.service.status()[0]!;
    expect(st.protocol).toBe(1);
    expect(st.divergence).toMatchObject({ state: 'unsupported', origins: [expect.any(String)] });
    expect(st.lag).toMatchObject({ they_lack: expect.any(Number) });
    // b (protocol 1) compares counts too: it sees the difference as well.
    await waitFor('divergence on b', () => b.service.status()[0]?.divergence?.state === 'unsupported');
  });
});

describe('lag in status', () => {
  it('an origin the peer holds further counts as lacking even at equal counts (a hole below its watermark is not lag 0)', async () => {
    const net = new MemoryNetwork();
    try {
      const x = memoryContext();
      writeProjects(x, 4);
      const all = eventsAfter(x.db, {}, 10);
      x.db.close();
      const b = net.add({ name: 'b' });
      ingest(b.ctx.db, b.ctx.clock, all.slice(0, 3));
      await b.service.run();
      // The peer holds events 1, 2 and 4 of x: as many as b, one further, and it never sends.
      const raw = connectRawPeer(b.service);
      const origin = all[0]!.origin;
      raw.send(raw.hello({ watermarks: { [origin]: all[3]!.hlc }, counts: { [origin]: 3 } }));
      await raw.next('hello');
      await waitFor('raw peer connected', () => b.service.status()[0]?.connected === true);
      const st = b.service.status()[0]!;
      expect(st.lag).toEqual({ they_lack: 1, we_lack: 1 });
      expect(st.divergence).toBeNull();
    } finally {
      await net.stopAll();
    }
  });
});

describe('rolling upgrade: a version-2 peer and a version-1 peer', () => {
  let net: MemoryNetwork;
  afterEach(async () => {
    await net.stopAll();
  });

  for (const dialer of ['new', 'old'] as const) {
    it(`replicate both ways when the ${dialer} one dials, speaking version 1 with no version-2 frame or key on the wire`, async () => {
      net = new MemoryNetwork();
      const seen: string[] = [];
      const wrap = net.connector.bind(net);
      net.connector = (from) => {
        const c = wrap(from);
        return (url, token) => {
          const t = c(url, token);
          const send = t.send.bind(t);
          t.send = (f: string) => {
            seen.push(f);
            send(f);
          };
          return t;
        };
      };
      const nu = net.add({ name: 'new', peers: dialer === 'new' ? ['old'] : [] });
      const old = net.add({ name: 'old', versions: [1], peers: dialer === 'old' ? ['new'] : [] });
      writeProjects(nu.ctx, 30, 'n');
      writeProjects(old.ctx, 20, 'o');
      await net.startAll();
      await waitFor('both hold all 50', () => eventCount(nu.ctx.db) === 50 && eventCount(old.ctx.db) === 50);
      writeProjects(old.ctx, 1, 'live-o');
      writeProjects(nu.ctx, 1, 'live-n');
      await waitFor('live writes both ways', () => eventCount(nu.ctx.db) === 52 && eventCount(old.ctx.db) === 52);
      expect(digest(nu.ctx.db)).toBe(digest(old.ctx.db));
      expect(nu.service.status()[0]).toMatchObject({ protocol: 1, faulty: false, divergence: null });
      expect(old.service.status()[0]).toMatchObject({ protocol: 1, faulty: false, divergence: null });
      // What the dialer sent after its hello: no digests and no anti-entropy frames.
      const after = seen.slice(1).map((f) => JSON.parse(f) as Record<string, unknown>);
      expect(after.length).toBeGreaterThan(0);
      expect(after.some((f) => 'digests' in f || ['sum_req', 'sum', 'range_req', 'range'].includes(String(f.type)))).toBe(false);
    });
  }
});
