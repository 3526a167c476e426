// The zod-free envelope check (events/envelope-fast.ts) must never accept what the
// envelope schema refuses, nor return anything but what the schema returns; and the
// events peers send must take it (or it saves nothing). Checked on arbitrary values,
// on well-formed events, and on well-formed events with one part broken.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { envelopeSchema } from '../../src/core/events/envelope.js';
import { fastEnvelope } from '../../src/core/events/envelope-fast.js';
import { formatHlc } from '../../src/core/hlc.js';
import type { MachineId } from '../../src/core/ids.js';
import { historyArb } from '../helpers/event-gen.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);

const hex = (n: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const uuidArb = fc.tuple(hex(8), hex(4), fc.constantFrom('1', '4', '7', '8', '9', '0', 'A'), hex(3), fc.constantFrom('8', 'b', 'c', 'B'), hex(3), hex(12))
  .map(([a, b, v, c, w, d, e]) => `${a}-${b}-${v}${c}-${w}${d}-${e}`);
const machineArb = fc.uuid().map((u) => u.toLowerCase());
const hlcArb = fc.tuple(fc.nat({ max: 2 ** 45 }), fc.nat({ max: 99_999 }), machineArb).map(([ms, counter, m]) => formatHlc({ ms, counter, machine: m as MachineId }));
const typeArb = fc.oneof(fc.constantFrom('task.created', 'session.changed', 'a.b', 'x1.y_2.z', 'Task.created', 'task', '.a', 'a..b', 'a.b '), fc.string({ maxLength: 12 }));
const vArb = fc.oneof(fc.integer({ min: -2, max: 1002 }), fc.constantFrom(1.5, -0, NaN, Infinity, 2 ** 53, '1'), fc.double());
const payloadArb = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
  fc.constantFrom(null, [], [1], 'x', 3, Object.create(null) as object, new Date(0), { ['__proto__']: 1 }, JSON.parse('{"__proto__": {"a": 1}}') as object),
  fc.object({ maxDepth: 1 }),
);

/** An event as a peer sends it, every part drawn near the edge of what is valid. */
const envelopeArb = fc.record({ id: fc.oneof(uuidArb, machineArb), hlc: fc.oneof(hlcArb, fc.string({ maxLength: 70 })), origin: fc.oneof(machineArb, uuidArb), type: typeArb, v: vArb, payload: payloadArb });

/** The law: a fast answer is the schema's answer. */
function agrees(x: unknown): void {
  const fast = fastEnvelope(x);
  const z = envelopeSchema.safeParse(x);
  if (fast === null) return;
  expect(z.success).toBe(true);
  expect(fast).toStrictEqual(z.data);
  expect(Object.keys(fast)).toEqual(Object.keys(z.data ?? {}));
  expect(JSON.stringify(fast)).toBe(JSON.stringify(z.data));
  if (typeof x === 'object' && x !== null) expect(fast.payload).not.toBe((x as { payload: unknown }).payload);
}

describe('fastEnvelope', () => {
  it('returns what the schema returns, or nothing, on arbitrary values', () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), agrees), { numRuns: RUNS });
  });

  it('returns what the schema returns, or nothing, on events with parts at the edge', () => {
    fc.assert(fc.property(envelopeArb, (e) => {
      agrees(e);
      // As they arrive over the wire, too: JSON round trip.
      const wire: unknown = JSON.parse(JSON.stringify(e));
      agrees(wire);
      // The fast path is taken whenever the schema accepts a wire event (but for a
      // "__proto__" payload key, which validateBatch refuses before either looks).
      const protoKey = Object.hasOwn((wire as { payload: object }).payload ?? {}, '__proto__');
      if (envelopeSchema.safeParse(wire).success && !protoKey) expect(fastEnvelope(wire)).not.toBeNull();
    }), { numRuns: RUNS * 3 });
  });

  it('refuses to decide when a key is added, missing or hidden', () => {
    fc.assert(fc.property(envelopeArb, fc.string({ maxLength: 8 }), fc.constantFrom('id', 'hlc', 'origin', 'type', 'v', 'payload'), (e, extra, drop) => {
      const added: Record<string, unknown> = { ...e, [extra]: 1 };
      agrees(added);
      const missing: Record<string, unknown> = { ...e };
      delete missing[drop];
      agrees(missing);
      expect(fastEnvelope(missing)).toBeNull();
      const hidden = { ...e };
      Object.defineProperty(hidden, 'x', { value: 1, enumerable: false });
      agrees(hidden);
      const sym = { ...e, [Symbol('s')]: 1 };
      agrees(sym);
    }), { numRuns: RUNS });
  });

  it('takes every event a simulated mesh writes', () => {
    fc.assert(fc.property(historyArb({ maxCommands: 30 }), (h) => {
      for (const e of h.events) {
        const wire: unknown = JSON.parse(JSON.stringify(e));
        expect(fastEnvelope(wire)).not.toBeNull();
        agrees(wire);
      }
    }), { numRuns: 20 });
  });
});
