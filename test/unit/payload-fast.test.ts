// The zod-free payload check (events/payload-fast.ts) must never accept a payload the
// catalog's schema refuses, nor return anything but what the schema returns (key
// order included: the stored JSON is hashed); and the payloads a fleet writes must
// take it. Checked on arbitrary values, on payloads with every part near its edge,
// and on the bench's event mix.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_CATALOG } from '../../src/core/events/catalog.js';
import { fastPayload } from '../../src/core/events/payload-fast.js';
// @ts-expect-error: a plain .mjs module of the benchmarks, without types
import { eventMix } from '../../bench/event-mix.mjs';

const RUNS = Number(process.env.FC_RUNS ?? 300);
const schema = EVENT_CATALOG['session.changed'].schema;

/** The law: a fast answer is the schema's answer. */
function agrees(payload: unknown): void {
  const fast = fastPayload('session.changed', payload);
  if (fast === null) return;
  const z = schema.safeParse(payload);
  expect(z.success).toBe(true);
  expect(fast.payload).toStrictEqual(z.data);
  expect(JSON.stringify(fast.payload)).toBe(JSON.stringify(z.data));
}

const validName = fc.constantFrom('desk', 'build-2', 'api@1+2', '_x');
const nameArb = fc.oneof({ arbitrary: validName, weight: 4 }, fc.constantFrom('desk', 'build-2', 'a', 'laptop.home', '_x', 'api@1+2', '-bad', 'has:colon', 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(129), ''), fc.string({ maxLength: 10 }));
const stateArb = fc.oneof({ arbitrary: fc.constantFrom('working', 'waiting', 'idle', 'exited'), weight: 3 }, fc.constantFrom('Working', 'gone', ''), fc.anything());
const instantArb = fc.oneof(
  fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2025-01-06T09:00:00Z', '2025-02-30T09:00:00.000Z', '2025-04-31T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '2025-01-06T10:00:00.000+01:00', '2025-02-30T00:00:00.000Z', '2025-01-06T09:00:00.0000Z', '2025-01-06 09:00:00.000Z', '2025-13-01T00:00:00.000Z', '+010000-01-01T00:00:00.000Z', '2025-01-06T24:00:00.000Z'),
  fc.string({ maxLength: 30 }),
);
const cwdArb = fc.oneof(fc.constantFrom('/srv/api', '', ' /srv/api ', '/a b', '/a\tb', '/a\nb', '/a\u0001b', '/a\u007fb', 'relative', '/'.repeat(4097)), fc.string({ maxLength: 20 }));
const fieldsArb = fc.oneof(
  fc.record({ cwd: cwdArb, state: stateArb, last_activity: instantArb }, { requiredKeys: [] }),
  fc.dictionary(fc.constantFrom('cwd', 'state', 'last_activity', 'extra'), fc.oneof(cwdArb, stateArb, instantArb)),
  fc.anything(),
);
const payloadArb = fc.oneof(
  fc.record({ host: nameArb, session: nameArb, fields: fieldsArb }),
  fc.record({ host: nameArb, session: nameArb, fields: fieldsArb, extra: fc.anything() }),
  fc.record({ session: nameArb, fields: fieldsArb, host: nameArb }, { requiredKeys: ['fields'] }),
);

describe('fastPayload', () => {
  it('returns what the schema returns, or nothing, on arbitrary values', () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true }), agrees), { numRuns: RUNS });
  });

  it('returns what the schema returns, or nothing, on session.changed payloads with parts at the edge', () => {
    fc.assert(fc.property(payloadArb, (p) => {
      agrees(p);
      agrees(JSON.parse(JSON.stringify(p)) as unknown);
    }), { numRuns: RUNS * 3 });
  });

  it('takes canonical payloads, whatever order their fields come in', () => {
    const canonical = fc.record({
      host: fc.constantFrom('desk', 'build-2'), session: fc.constantFrom('api', 'web@2'),
      fields: fc.record({ cwd: fc.constantFrom('/srv/api', ''), state: fc.constantFrom('working', 'idle'), last_activity: fc.date({ min: new Date(0), max: new Date(Date.UTC(9000, 0)), noInvalidDate: true }).map((d) => d.toISOString()) }, { requiredKeys: [] })
        .filter((f) => Object.keys(f).length > 0),
    });
    fc.assert(fc.property(canonical, fc.boolean(), (p, reverse) => {
      const fields = Object.fromEntries(reverse ? Object.entries(p.fields).reverse() : Object.entries(p.fields));
      const wire = JSON.parse(JSON.stringify({ ...p, fields })) as unknown;
      expect(fastPayload('session.changed', wire)).not.toBeNull();
      agrees(wire);
    }), { numRuns: RUNS });
  });

  it('takes every session.changed of the bench mix, and leaves every other type to the schema', () => {
    const next = eventMix({ seed: 3, origins: 2 }) as () => { type: string; payload: unknown };
    let seen = 0;
    for (let i = 0; i < 5000; i++) {
      const e = next();
      const wire = JSON.parse(JSON.stringify(e.payload)) as unknown;
      if (e.type !== 'session.changed') {
        expect(fastPayload(e.type, wire)).toBeNull();
        continue;
      }
      seen++;
      expect(fastPayload(e.type, wire)).not.toBeNull();
      agrees(wire);
    }
    expect(seen).toBeGreaterThan(500);
  });
});
