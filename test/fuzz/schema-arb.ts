/**
 * Schema-shaped values: from a route's JSON Schema (the OpenAPI document the app
 * serves), values that are valid, or almost valid — one field just past its bound,
 * of the wrong type, hostile, missing, or one key too many. Almost-valid input
 * gets past the first checks and reaches the code behind them, where generic
 * garbage never gets.
 */
import fc from 'fast-check';
import { hostileValueArb, obj, PROTO_KEYS, Raw, wireText, type Wire } from './hostile.js';

/** The subset of JSON Schema (2020-12, as zod writes it) this generator reads. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
}

/** Values known to the store, by the name of the field that refers to them (e.g. `project` → project names and ids). */
export type Pools = Readonly<Record<string, readonly string[]>>;

export interface ShapeOptions {
  readonly pools: Pools;
  /** Relative weight of a fault at each node (0: valid values only). */
  readonly faultWeight: number;
}

const asWire = (v: unknown): Wire => v as Wire;

/** Strings past a string schema's bounds or pattern. */
function badStrings(s: JsonSchema): fc.Arbitrary<Wire> {
  const out: fc.Arbitrary<Wire>[] = [fc.constantFrom<Wire>('', ' ', 'a', '\u0000', '\ud800', ' x ', 'x\ny')];
  if (s.maxLength !== undefined) out.push(fc.constant('x'.repeat(s.maxLength + 1)), fc.constant(' '.repeat(s.maxLength + 1)));
  if (s.minLength !== undefined && s.minLength > 0) out.push(fc.constant('x'.repeat(s.minLength - 1)));
  if (s.pattern !== undefined) {
    out.push(fc.tuple(fc.stringMatching(new RegExp(s.pattern)), fc.constantFrom(' ', ':', '\u0000', '/', '\u00e9', '*', '.'), fc.boolean())
      .map(([ok, bad, front]) => (front ? `${bad}${ok}` : `${ok}${bad}`)));
  }
  if (s.enum !== undefined) out.push(fc.constantFrom(...s.enum.map((e) => String(e))).map((e) => `${e.toUpperCase()} `));
  return fc.oneof(...out);
}

/** Numbers just past a numeric schema's bounds, non-integers for integers, and literals JavaScript would change. */
function badNumbers(s: JsonSchema, integer: boolean): fc.Arbitrary<Wire> {
  const out: Wire[] = [new Raw('-0'), new Raw('1e309'), new Raw('9007199254740993'), 1e308, -1e308, 5e-324];
  if (s.minimum !== undefined) out.push(s.minimum - 1, s.minimum - 1e-9, s.minimum - Number.EPSILON * Math.max(1, Math.abs(s.minimum)));
  if (s.maximum !== undefined) out.push(s.maximum + 1, s.maximum + 1e-9, s.maximum + 0.5);
  if (integer) out.push(0.5, 1.0000000000000002, (s.minimum ?? 0) + 0.5);
  out.push('1', 'NaN', true, null);
  return fc.constantFrom(...out);
}

/** A wrong value for `s`: of another type, past a bound, or hostile. */
export function faultArb(s: JsonSchema): fc.Arbitrary<Wire> {
  const types = typeof s.type === 'string' ? [s.type] : (s.type ?? []);
  const specific: fc.Arbitrary<Wire>[] = [];
  if (types.includes('string')) specific.push(badStrings(s));
  if (types.includes('integer')) specific.push(badNumbers(s, true));
  else if (types.includes('number')) specific.push(badNumbers(s, false));
  if (types.includes('boolean')) specific.push(fc.constantFrom<Wire>('true', 1, 0, null, new Raw('-0')));
  if (types.includes('array')) specific.push(fc.constantFrom<Wire>({}, 'x', null), fc.constant(asWire(Array.from({ length: (s.maxItems ?? 100) + 1 }, () => 'x'))));
  if (types.includes('object')) specific.push(fc.constantFrom<Wire>([], 'x', null));
  return fc.oneof({ arbitrary: hostileValueArb, weight: 2 }, ...specific.map((a) => ({ arbitrary: a, weight: 3 })));
}

function withFault(valid: fc.Arbitrary<Wire>, s: JsonSchema, o: ShapeOptions): fc.Arbitrary<Wire> {
  if (o.faultWeight <= 0) return valid;
  return fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: faultArb(s), weight: o.faultWeight });
}

function validString(s: JsonSchema, pool: readonly string[] | undefined): fc.Arbitrary<Wire> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 200;
  if (s.enum !== undefined) return fc.constantFrom(...s.enum.map(asWire));
  if (s.const !== undefined) return fc.constant(asWire(s.const));
  const ok = (x: string): boolean => x.length >= min && x.length <= max;
  const choices: fc.Arbitrary<string>[] = [];
  if (s.pattern !== undefined) choices.push(fc.stringMatching(new RegExp(s.pattern)).filter(ok));
  else {
    const head = s.format === 'starts_with' ? '/' : '';
    choices.push(fc.string({ minLength: Math.max(0, min - head.length), maxLength: Math.max(0, Math.min(max, 24) - head.length) }).map((x) => `${head}${x}`).filter(ok));
    choices.push(fc.constantFrom('x', 'a b', 'Ünïcödé', '  trimmed  ', '😀 emoji', 'tab\there').map((x) => `${head}${x}`).filter(ok));
    if (max > 0) choices.push(fc.constant(`${head}${'y'.repeat(Math.max(0, max - head.length))}`));
  }
  const usable = (pool ?? []).filter(ok);
  if (usable.length > 0) return fc.oneof({ arbitrary: fc.constantFrom(...usable), weight: 3 }, ...choices.map((c) => ({ arbitrary: c, weight: 1 })));
  return fc.oneof(...choices);
}

/**
 * Values shaped by `s`. With `faultWeight` 0 they are valid; otherwise each node
 * is, now and then, replaced by a fault, an object may lose a required key or get
 * an unknown one — so most values are almost valid.
 */
export function shapedArb(s: JsonSchema, o: ShapeOptions, field = ''): fc.Arbitrary<Wire> {
  const alts = s.anyOf ?? s.oneOf;
  if (alts !== undefined) return fc.oneof(...alts.map((a) => shapedArb(a, o, field)));
  if (s.const !== undefined) return withFault(fc.constant(asWire(s.const)), s, o);
  if (s.enum !== undefined) return withFault(fc.constantFrom(...s.enum.map(asWire)), s, o);
  const types = typeof s.type === 'string' ? [s.type] : (s.type ?? []);
  // Several types (`["string","null"]`): any of them.
  if (types.length > 1) return fc.oneof(...types.map((t) => shapedArb({ ...s, type: t }, o, field)));
  const type = types[0];
  switch (type) {
    case 'string':
      return withFault(validString(s, o.pools[field]), s, o);
    case 'integer': {
      const min = s.minimum ?? (s.exclusiveMinimum === undefined ? -1000 : s.exclusiveMinimum + 1);
      const max = s.maximum ?? (s.exclusiveMaximum === undefined ? 1000 : s.exclusiveMaximum - 1);
      return withFault(fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max)), s, o);
    }
    case 'number': {
      const min = s.minimum ?? -1000;
      const max = s.maximum ?? 1000;
      return withFault(fc.oneof(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), fc.constantFrom(min, max)), s, o);
    }
    case 'boolean':
      return withFault(fc.boolean(), s, o);
    case 'null':
      return withFault(fc.constant(null), s, o);
    case 'array': {
      const items = s.items ?? {};
      const arr = fc.array(shapedArb(items, o, field), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 5, 5) });
      return withFault(arr.map((a) => a as Wire), s, o);
    }
    case 'object':
      return withFault(objectArb(s, o), s, o);
    default:
      // No type stated (`unknown`): anything goes.
      return o.faultWeight > 0 ? hostileValueArb : fc.constantFrom<Wire>(null, 'x', 1, {});
  }
}

function objectArb(s: JsonSchema, o: ShapeOptions): fc.Arbitrary<Wire> {
  const props = Object.entries(s.properties ?? {});
  const required = new Set(s.required ?? []);
  const fields = props.map(([k, ps]) => fc.tuple(
    fc.constant(k),
    shapedArb(ps, o, k),
    // Required keys are always there (unless a fault drops one below); optional ones half the time.
    required.has(k) ? fc.constant(true) : fc.boolean(),
  ));
  const base = fc.tuple(...fields).map((es) => es.filter(([, , keep]) => keep).map(([k, v]) => [k, v] as const));
  if (o.faultWeight <= 0) return base.map((es) => obj(es));
  const extraKey = fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.constantFrom('unknown', 'id', 'origin', 'hlc'), fc.string({ maxLength: 6 }));
  return fc.tuple(
    base,
    fc.oneof({ arbitrary: fc.constant<'none' | 'drop' | 'extra' | 'dup'>('none'), weight: 10 }, fc.constantFrom<'none' | 'drop' | 'extra' | 'dup'>('drop', 'extra', 'dup')),
    fc.nat(),
    extraKey,
    hostileValueArb,
  ).map(([es, fault, pick, key, value]) => {
    if (fault === 'drop' && es.length > 0) return obj(es.filter((_, i) => i !== pick % es.length));
    if (fault === 'extra') return obj([...es, [key, value]]);
    if (fault === 'dup' && es.length > 0) {
      // A key twice in the text: JSON.parse keeps the last one; the text says both.
      const [k] = es[pick % es.length]!;
      return new Raw(`{${[...es, [k, value] as const].map(([kk, vv]) => `${JSON.stringify(kk)}:${wireText(vv)}`).join(',')}}`);
    }
    return obj(es);
  });
}
