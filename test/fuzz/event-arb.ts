/**
 * Events as a hostile or broken peer sends them: envelopes that are valid, almost
 * valid, or valid around a hostile payload (deep nesting, huge strings, NUL, lone
 * surrogates, numbers at the edges, prototype keys), of unknown types and versions,
 * with HLCs at the edges, and with ids or HLCs that collide with events the store
 * already holds.
 *
 * Payloads are shaped by each event type's own schema (the catalog, as JSON
 * Schema), so a new event type is fuzzed without editing this file.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { EVENT_CATALOG, isEventType } from '../../src/core/events/catalog.js';
import { formatHlc, MAX_COUNTER } from '../../src/core/hlc.js';
import { uuidv7 } from '../../src/core/ids.js';
import type { StoredEvent } from './fuzz-daemon.js';
import { deepArrayText, deepObjectText, hostileValueArb, obj, Raw, withOddCharArb, type Wire } from './hostile.js';
import { shapedArb, type JsonSchema, type Pools } from './schema-arb.js';

const TYPES = Object.keys(EVENT_CATALOG) as (keyof typeof EVENT_CATALOG)[];
const SCHEMAS: Readonly<Record<string, JsonSchema>> = Object.fromEntries(
  TYPES.map((t) => [t, z.toJSONSchema(EVENT_CATALOG[t].schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema]),
);

/** How an event's identity relates to what the store holds. */
export type IdMode = 'fresh' | 'bad' | 'dup-same' | 'dup-other-content' | 'hlc-of-held';
/** Where its HLC sits. */
export type HlcMode = 'next' | 'zero-ms' | 'epoch' | 'max-counter' | 'skew-edge' | 'skew-over' | 'far-future' | 'other-origin' | 'malformed' | 'below-watermark';

/** One event of a batch, before it is given concrete ids and stamps. */
export interface EventSpec {
  readonly type: string;
  readonly v: Wire;
  readonly payload: Wire;
  readonly idMode: IdMode;
  readonly hlcMode: HlcMode;
  /** A key the envelope should not have (strictObject), or none. */
  readonly extra: readonly [string, Wire] | null;
}

/** Payloads nested around the depth bound and the stack limits, inside an otherwise plain object. */
const deepPayloadArb: fc.Arbitrary<Wire> = fc.tuple(fc.constantFrom(60, 61, 62, 63, 64, 65, 200, 4107, 4108, 4109, 20_000), fc.boolean())
  .map(([n, arrays]) => obj([['x', new Raw(arrays ? deepArrayText(n) : deepObjectText(n))]]));

/** A string payload field sized around MAX_PAYLOAD_BYTES (64 KiB) after JSON escaping. */
const bigPayloadArb: fc.Arbitrary<Wire> = fc.tuple(fc.constantFrom(65_000, 65_500, 65_520, 65_536, 65_537, 1 << 20), fc.constantFrom('a', '\u0000', 'é', '"'))
  .map(([n, unit]) => obj([['text', unit.repeat(unit === 'a' ? n : Math.floor(n / 6))]]));

/** Built once per type and pools: compiling schemas (their regexes) into arbitraries is the slow part. */
const payloadArbs = new WeakMap<Pools, Map<string, fc.Arbitrary<Wire>>>();

function payloadArb(type: string, pools: Pools): fc.Arbitrary<Wire> {
  const cache = payloadArbs.get(pools) ?? new Map<string, fc.Arbitrary<Wire>>();
  payloadArbs.set(pools, cache);
  const hit = cache.get(type);
  if (hit !== undefined) return hit;
  const made = makePayloadArb(type, pools);
  cache.set(type, made);
  return made;
}

function makePayloadArb(type: string, pools: Pools): fc.Arbitrary<Wire> {
  const schema = Object.hasOwn(SCHEMAS, type) ? SCHEMAS[type] : undefined;
  const shaped = schema === undefined ? hostileValueArb : shapedArb(schema, { pools, faultWeight: 0 });
  const almost = schema === undefined ? hostileValueArb : shapedArb(schema, { pools, faultWeight: 1 });
  return fc.oneof(
    { arbitrary: shaped, weight: 6 },
    { arbitrary: almost, weight: 6 },
    { arbitrary: withOddCharArb(shaped), weight: 3 },
    { arbitrary: deepPayloadArb, weight: 1 },
    { arbitrary: bigPayloadArb, weight: 1 },
    { arbitrary: hostileValueArb, weight: 1 },
  );
}

const typeArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...TYPES), weight: 12 },
  // Well-formed but unknown (a newer peer's): stored and relayed unapplied.
  { arbitrary: fc.constantFrom('zz.future', 'task.renamed', 'a.b.c', 'x.y'), weight: 2 },
  // Not an event type at all.
  { arbitrary: fc.constantFrom('', 'Task.Created', 'task', '__proto__', 'constructor.prototype', 'task.created ', 'task..created', '1.a', 'a.__proto__'), weight: 1 },
);

/** An event spec: mostly plausible, sometimes broken in one way. */
export function eventSpecArb(pools: Pools): fc.Arbitrary<EventSpec> {
  return typeArb.chain((type) => fc.record({
    type: fc.constant(type),
    v: fc.oneof(
      { arbitrary: fc.constant<Wire>(isEventType(type) ? EVENT_CATALOG[type].v : 1), weight: 10 },
      fc.constantFrom<Wire>(1, 2, 3, 999, 1000, 1001, 0, -1, 1.5, new Raw('-0'), new Raw('1e309'), new Raw('9007199254740993'), '1', null),
    ),
    payload: payloadArb(type, pools),
    idMode: fc.oneof({ arbitrary: fc.constant<IdMode>('fresh'), weight: 12 }, fc.constantFrom<IdMode>('bad', 'dup-same', 'dup-other-content', 'hlc-of-held')),
    hlcMode: fc.oneof({ arbitrary: fc.constant<HlcMode>('next'), weight: 14 }, fc.constantFrom<HlcMode>('zero-ms', 'epoch', 'max-counter', 'skew-edge', 'skew-over', 'far-future', 'other-origin', 'malformed', 'below-watermark')),
    extra: fc.oneof({ arbitrary: fc.constant(null), weight: 12 }, fc.tuple(fc.constantFrom('__proto__', 'constructor', 'seq', 'extra'), hostileValueArb)),
  }));
}

/** What a batch is built against: who sends it, the clock it stamps with, and what the receiver holds. */
export interface BatchContext {
  readonly origin: string;
  /** Wall time the stamps start from (ms). */
  readonly startMs: number;
  /** The receiver's skew bound (ms). */
  readonly maxSkewMs: number;
  /** Events the receiver holds (for collisions). */
  readonly held: readonly StoredEvent[];
  /** The receiver's newest HLC per origin. */
  readonly watermarks: Readonly<Record<string, string>>;
}

/** An envelope to send, and what it claims to be (for the identity checks). */
export interface BuiltEvent {
  readonly wire: Wire;
  /** The envelope's id/hlc/origin/type/v when they are well-formed strings and numbers. */
  readonly id: string | null;
  readonly hlc: string | null;
  readonly origin: string | null;
  readonly spec: EventSpec;
}

/**
 * Gives specs concrete ids and stamps: HLCs strictly increasing per origin (so a
 * batch is in order unless a spec says otherwise), collisions taken from `held`.
 */
export function buildEvents(specs: readonly EventSpec[], ctx: BatchContext, pick: number): BuiltEvent[] {
  let ms = ctx.startMs;
  let counter = 0;
  const out: BuiltEvent[] = [];
  const held = ctx.held.filter((e) => e.origin !== ctx.origin);
  specs.forEach((spec, i) => {
    const next = (): string => {
      counter += 1;
      return formatHlc({ ms, counter, machine: ctx.origin as never });
    };
    let id: string = uuidv7(ms);
    let origin = ctx.origin;
    let hlc: string;
    switch (spec.hlcMode) {
      case 'next': hlc = next(); break;
      case 'zero-ms': hlc = formatHlc({ ms: 0, counter: i, machine: origin as never }); break;
      case 'epoch': hlc = formatHlc({ ms: 1, counter: 0, machine: origin as never }); break;
      case 'max-counter': ms += 1; counter = MAX_COUNTER - 1; hlc = next(); break;
      case 'skew-edge': hlc = formatHlc({ ms: Date.now() + ctx.maxSkewMs - 2000, counter: 0, machine: origin as never }); break;
      case 'skew-over': hlc = formatHlc({ ms: Date.now() + ctx.maxSkewMs + 2000, counter: 0, machine: origin as never }); break;
      case 'far-future': hlc = `999999999999999:99999:${origin}`; break;
      case 'other-origin': hlc = formatHlc({ ms, counter: counter + 1, machine: '00000000-0000-4000-8000-00000000000f' as never }); break;
      case 'malformed': hlc = [`${ms}:0:${origin}`, `${String(ms).padStart(15, '0')}:00000:${origin.toUpperCase()}`, '', 'x', `${String(ms).padStart(15, '0')}:00000:${origin} `][pick % 5]!; break;
      case 'below-watermark': {
        const wm = ctx.watermarks[origin];
        hlc = wm === undefined ? next() : formatHlc({ ms: Math.max(1, Number(wm.slice(0, 15)) - 1), counter: 0, machine: origin as never });
        break;
      }
    }
    let payload: Wire = spec.payload;
    let type = spec.type;
    let v: Wire = spec.v;
    const victim = held.length > 0 ? held[(pick + i) % held.length]! : null;
    switch (spec.idMode) {
      case 'fresh': break;
      case 'bad': id = [id.toUpperCase(), `${id}x`, '', '00000000-0000-0000-0000-000000000000', `{${id}}`][(pick + i) % 5]!; break;
      case 'dup-same':
        // A true duplicate of a held event: the same envelope again (known, not an error).
        if (victim !== null) ({ id, hlc, origin, type, v, payload } = { ...victim, payload: new Raw(victim.payload) });
        break;
      case 'dup-other-content':
        // A held id under other content: a cloned machine or a restored backup.
        if (victim !== null) id = victim.id;
        break;
      case 'hlc-of-held':
        // A held HLC (and its origin) under a fresh id.
        if (victim !== null) ({ hlc, origin } = victim);
        break;
    }
    const entries: [string, Wire][] = [['id', id], ['hlc', hlc], ['origin', origin], ['type', type], ['v', v], ['payload', payload]];
    if (spec.extra !== null) entries.push([spec.extra[0], spec.extra[1]]);
    out.push({ wire: obj(entries), id, hlc, origin, spec: { ...spec, type, v, payload } });
  });
  return out;
}
