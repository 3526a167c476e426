// The hybrid logical clock: the wire format's byte order is the HLC order (a total
// order), local stamps only go up whatever the wall clock does, a remote stamp
// pushes later local stamps past it, and a stamp too far ahead is refused without
// moving the clock. Wall clocks are injected (`now`), so steps are exact.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClareError } from '../../src/core/errors.js';
import {
  compareHlc, DEFAULT_MAX_SKEW_MS, formatHlc, HLC_ZERO, HybridClock, isHlc, MAX_COUNTER, parseHlc, type Hlc, type HlcParts,
} from '../../src/core/hlc.js';
import type { MachineId } from '../../src/core/ids.js';

const RUNS = Number(process.env.FC_RUNS ?? 200);
const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

const machineArb = fc.uuid({ version: 4 }).map((s) => s as MachineId);
const partsArb: fc.Arbitrary<HlcParts> = fc.record({
  ms: fc.oneof(fc.integer({ min: 0, max: 999_999_999_999_999 }), fc.integer({ min: T0 - 1000, max: T0 + 1000 })),
  counter: fc.oneof(fc.integer({ min: 0, max: MAX_COUNTER }), fc.constantFrom(0, 1, MAX_COUNTER)),
  machine: fc.oneof(machineArb, fc.constantFrom('00000000-0000-4000-8000-000000000000', 'ffffffff-ffff-4fff-bfff-ffffffffffff') as fc.Arbitrary<MachineId>),
});

const tuple = (p: HlcParts): [number, number, string] => [p.ms, p.counter, p.machine];
function compareParts(a: HlcParts, b: HlcParts): number {
  const [x, y] = [tuple(a), tuple(b)];
  for (let i = 0; i < 3; i++) if (x[i]! !== y[i]!) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

/** A clock on a wall clock the test moves by hand. */
function manualClock(opts: { start?: number; maxSkewMs?: number; machine?: MachineId } = {}) {
  const wall = { now: opts.start ?? T0 };
  const machine = opts.machine ?? ('0000000a-0000-4000-8000-000000000001' as MachineId);
  const clock = new HybridClock({ machine, now: () => wall.now, ...(opts.maxSkewMs === undefined ? {} : { maxSkewMs: opts.maxSkewMs }) });
  return { wall, clock };
}

function catchClare(f: () => unknown): ClareError {
  try {
    f();
  } catch (e) {
    if (e instanceof ClareError) return e;
    throw e;
  }
  throw new Error('expected a ClareError');
}

describe('HLC wire format', () => {
  it('round-trips through format and parse', () => {
    fc.assert(fc.property(partsArb, (p) => {
      const s = formatHlc(p);
      expect(isHlc(s)).toBe(true);
      expect(parseHlc(s)).toEqual(p);
    }), { numRuns: RUNS });
  });

  it('orders stamps as (ms, counter, machine) by plain string comparison: a total order', () => {
    fc.assert(fc.property(partsArb, partsArb, partsArb, (a, b, c) => {
      const [sa, sb, sc] = [formatHlc(a), formatHlc(b), formatHlc(c)];
      expect(Math.sign(compareHlc(sa, sb))).toBe(compareParts(a, b));
      expect(compareHlc(sa, sb)).toBe(-compareHlc(sb, sa));
      expect(compareHlc(sa, sb) === 0).toBe(sa === sb);
      if (compareHlc(sa, sb) <= 0 && compareHlc(sb, sc) <= 0) expect(compareHlc(sa, sc)).toBeLessThanOrEqual(0);
      // SQLite's BINARY collation is byte order: the same as JS order for these ASCII strings.
      expect(Math.sign(Buffer.compare(Buffer.from(sa), Buffer.from(sb)))).toBe(compareParts(a, b));
    }), { numRuns: RUNS });
  });

  it('HLC_ZERO sorts before every real stamp and is what a fresh clock shows', () => {
    fc.assert(fc.property(partsArb, (p) => {
      expect(compareHlc(HLC_ZERO, formatHlc(p))).toBe(-1);
    }), { numRuns: RUNS });
    expect(manualClock().clock.peek()).toBe(HLC_ZERO);
  });

  it.each([
    ['', 'empty'],
    ['001736154000000:00000', 'no machine'],
    ['1736154000000:00000:0000000a-0000-4000-8000-000000000001', 'ms not 15 digits'],
    ['001736154000000:0:0000000a-0000-4000-8000-000000000001', 'counter not 5 digits'],
    ['001736154000000:00000:0000000A-0000-4000-8000-000000000001', 'upper-case machine'],
    ['001736154000000:00000:not-a-uuid-at-all-but-36-chars-long', 'machine not a uuid'],
    ['001736154000000:00000:0000000a-0000-4000-8000-000000000001 ', 'trailing space'],
    ['-01736154000000:00000:0000000a-0000-4000-8000-000000000001', 'negative ms'],
  ])('refuses %j (%s) with CLARE_HLC_FORMAT naming the value', (s) => {
    expect(isHlc(s)).toBe(false);
    const e = catchClare(() => parseHlc(s));
    expect(e.code).toBe('CLARE_HLC_FORMAT');
    expect(e.message).toContain(JSON.stringify(s.slice(0, 80)));
  });
});

type Op =
  | { kind: 'tick' }
  | { kind: 'step'; ms: number }
  | { kind: 'receive'; ahead: number; counter: number; machine: MachineId };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'tick' as const }), weight: 6 },
  // Wall-clock steps both ways, from sub-ms jitter to an hour (NTP fixing a bad clock).
  { arbitrary: fc.record({ kind: fc.constant('step' as const), ms: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -3_600_000, max: 3_600_000 })) }), weight: 3 },
  // Remote stamps from behind us up to the skew limit.
  { arbitrary: fc.record({ kind: fc.constant('receive' as const), ahead: fc.integer({ min: -120_000, max: DEFAULT_MAX_SKEW_MS }), counter: fc.integer({ min: 0, max: MAX_COUNTER }), machine: machineArb }), weight: 2 },
);

describe('HybridClock', () => {
  it('issues strictly increasing stamps, never behind the wall clock, whatever the wall clock and remote stamps do', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 200 }), (ops) => {
      const { wall, clock } = manualClock();
      let last: Hlc = HLC_ZERO;
      for (const op of ops) {
        if (op.kind === 'step') {
          wall.now = Math.max(0, wall.now + op.ms);
        } else if (op.kind === 'receive') {
          const remote = formatHlc({ ms: Math.max(0, wall.now + op.ahead), counter: op.counter, machine: op.machine });
          clock.receive(remote);
          // Everything local from now on sorts after what we received.
          if (remote > last) last = remote;
          const [now, seen] = [parseHlc(clock.peek()), parseHlc(last)];
          expect(now.ms > seen.ms || (now.ms === seen.ms && now.counter >= seen.counter)).toBe(true);
        } else {
          const s = clock.tick();
          expect(s > last).toBe(true);
          const p = parseHlc(s);
          expect(p.machine).toBe(clock.machine);
          expect(p.ms).toBeGreaterThanOrEqual(wall.now);
          expect(clock.peek()).toBe(s);
          last = s;
        }
      }
    }), { numRuns: RUNS });
  });

  it('a stamp issued after receive(r) is greater than r, even from a machine with a larger id at the same ms', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: MAX_COUNTER }), fc.integer({ min: -1000, max: 1000 }), (counter, ahead) => {
      const { wall, clock } = manualClock({ machine: '00000000-0000-4000-8000-000000000000' as MachineId });
      const remote = formatHlc({ ms: wall.now + ahead, counter, machine: 'ffffffff-ffff-4fff-bfff-ffffffffffff' as MachineId });
      clock.receive(remote);
      expect(clock.tick() > remote).toBe(true);
    }), { numRuns: RUNS });
  });

  it('borrows the next millisecond when the counter overflows, staying monotonic on a frozen wall clock', () => {
    const { wall, clock } = manualClock();
    let last = clock.tick();
    let outOfOrder = 0;
    for (let i = 0; i < MAX_COUNTER + 5; i++) {
      const s = clock.tick();
      if (!(s > last)) outOfOrder++;
      last = s;
    }
    expect(outOfOrder).toBe(0);
    const p = parseHlc(last);
    expect(p.ms).toBe(wall.now + 1);
    expect(p.counter).toBe(4);
    // A remote stamp at the counter's limit: the next local stamp still sorts after it.
    const remote = formatHlc({ ms: p.ms + 10, counter: MAX_COUNTER, machine: 'ffffffff-ffff-4fff-bfff-ffffffffffff' as MachineId });
    clock.receive(remote);
    expect(clock.tick() > remote).toBe(true);
  });

  it('seed moves the clock up to a stored stamp (never down), without a skew check', () => {
    const { wall, clock } = manualClock();
    const mine = (ms: number, counter: number) => formatHlc({ ms, counter, machine: clock.machine });
    clock.seed(mine(wall.now + 10 * DEFAULT_MAX_SKEW_MS, 7));
    expect(clock.peek()).toBe(mine(wall.now + 10 * DEFAULT_MAX_SKEW_MS, 7));
    clock.seed(mine(wall.now, 0));
    expect(clock.peek()).toBe(mine(wall.now + 10 * DEFAULT_MAX_SKEW_MS, 7));
    expect(clock.tick()).toBe(mine(wall.now + 10 * DEFAULT_MAX_SKEW_MS, 8));
  });
});

describe('skew bound', () => {
  it('refuses a remote stamp more than maxSkewMs ahead with CLARE_HLC_SKEW naming origin and offset, and leaves the clock alone', () => {
    const arb = fc.record({
      maxSkewMs: fc.oneof(fc.constant(DEFAULT_MAX_SKEW_MS), fc.integer({ min: 0, max: 3_600_000 })),
      offset: fc.oneof(fc.integer({ min: -10_000, max: 10_000 }), fc.integer({ min: 1, max: 30 * 86_400_000 })),
      nearEdge: fc.integer({ min: -2, max: 2 }),
      useEdge: fc.boolean(),
      counter: fc.integer({ min: 0, max: MAX_COUNTER }),
      origin: machineArb,
      warmup: fc.integer({ min: 0, max: 5 }),
    });
    fc.assert(fc.property(arb, (a) => {
      const { wall, clock } = manualClock({ maxSkewMs: a.maxSkewMs });
      const twin = manualClock({ maxSkewMs: a.maxSkewMs }).clock;
      for (let i = 0; i < a.warmup; i++) {
        clock.tick();
        twin.tick();
      }
      const offset = a.useEdge ? a.maxSkewMs + a.nearEdge : a.offset;
      const remote = formatHlc({ ms: wall.now + offset, counter: a.counter, machine: a.origin });
      const before = clock.peek();
      if (offset > a.maxSkewMs) {
        const e = catchClare(() => clock.receive(remote));
        expect(e.code).toBe('CLARE_HLC_SKEW');
        expect(e.message).toContain(a.origin);
        expect(e.message).toContain(`${offset} ms`);
        expect(e.details).toEqual({ origin: a.origin, offset_ms: offset, max_skew_ms: a.maxSkewMs });
        // Untouched: the same stamps as a clock that never saw it.
        expect(clock.peek()).toBe(before);
        expect(clock.tick()).toBe(twin.tick());
      } else {
        clock.receive(remote);
        expect(clock.tick() > remote).toBe(true);
      }
    }), { numRuns: RUNS });
  });

  it('refuses a malformed remote stamp with CLARE_HLC_FORMAT, clock unchanged', () => {
    const { clock } = manualClock();
    clock.tick();
    const before = clock.peek();
    expect(catchClare(() => clock.receive('999999999999999:00000:nope' as Hlc)).code).toBe('CLARE_HLC_FORMAT');
    expect(clock.peek()).toBe(before);
  });
});
