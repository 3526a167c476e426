/**
 * Hostile values for every door, and the JSON text they travel as.
 *
 * Some hostile inputs cannot be said with JavaScript values and JSON.stringify:
 * `-0` (stringifies as `0`), `1e309` (a literal that parses to Infinity),
 * 9007199254740993 (rounds on the way), thousands of levels of nesting (the test's
 * own stringify would overflow), a `__proto__` key (an object literal sets the
 * prototype instead). A `Wire` value therefore mixes plain values with `Raw` text
 * spliced in verbatim, and `wireText` writes it without recursion limits of its own.
 */
import fc from 'fast-check';

/** JSON text spliced into the output as it is. */
export class Raw {
  constructor(readonly text: string) {}
}

/** A value to send: JSON-ish, with `Raw` text anywhere. Objects may have any own keys, `__proto__` included. */
export type Wire = null | boolean | number | string | Raw | readonly Wire[] | { readonly [k: string]: Wire };

/** An object with exactly these own keys, in this order (a `__proto__` key stays a key). */
export function obj(entries: readonly (readonly [string, Wire])[]): { readonly [k: string]: Wire } {
  const o: Record<string, Wire> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** The JSON text of a wire value. */
export function wireText(v: Wire): string {
  if (v instanceof Raw) return v.text;
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${(v as readonly Wire[]).map(wireText).join(',')}]`;
  const o = v as { readonly [k: string]: Wire };
  return `{${Object.keys(o).map((k) => `${JSON.stringify(k)}:${wireText(o[k]!)}`).join(',')}}`;
}

/** Arrays nested `n` deep: `[[[…]]]`. */
export function deepArrayText(n: number, inner = ''): string {
  return `${'['.repeat(n)}${inner}${']'.repeat(n)}`;
}

/** Objects nested `n` deep: `{"a":{"a":…1}}`. */
export function deepObjectText(n: number, key = 'a'): string {
  return `${`{${JSON.stringify(key)}:`.repeat(n)}1${'}'.repeat(n)}`;
}

/** Depths around every bound that matters: MAX_JSON_DEPTH (64) and the stack limits of recursive code. */
export const DEPTHS = [2, 63, 64, 65, 66, 200, 4108, 4109, 12_000] as const;

export const deepArb: fc.Arbitrary<Raw> = fc.tuple(fc.constantFrom(...DEPTHS), fc.boolean())
  .map(([n, arrays]) => new Raw(arrays ? deepArrayText(n) : deepObjectText(n)));

/** Control characters, invisible and direction-changing characters, escapes a terminal acts on. */
export const CONTROL_STRINGS = [
  '\u0000', 'a\u0000b', '\u0001', '\u0007', '\b', '\u000b', '\f', '\r', 'a\rb', '\u001b', '\u001b[31mred\u001b[0m',
  '\u001b]0;pwned\u0007', '\u001b[2J', '\u007f', '\u0085', '\u009b31m', '\u2028', '\u2029', '\u202e', '\ufeff',
] as const;

/** Strings that are not valid UTF-16 (lone surrogates) or are unusual pairs. */
export const SURROGATE_STRINGS = ['\ud800', '\udfff', 'x\ud800y', 'x\udc00', '\udbff\udfff', '\ud83d'] as const;

/** Strings that mean something to some layer: prototypes, paths, encodings, numbers, globs. */
export const MEANINGFUL_STRINGS = [
  '', ' ', '  padded  ', '\t', '\n', 'a\nb', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf',
  '../../etc/passwd', '/', '//', '/.', '%00', '%2e%2e%2f', '%', '%zz', '?', '#', '&', '=', ';', "'", '"', '\\', '`',
  'NaN', 'Infinity', '-Infinity', '-0', '0', '1e308', '1e309', '9007199254740993', '0x10', 'null', 'true', '[]', '{}',
  '*', '**', '?', '*:*', ':', 'a:', ':b', 'desk:*', '$(id)', '${x}', '<script>', 'ＡＢＣ', 'ß', 'İ', 'e\u0301', '😀',
] as const;

/** Lengths around the schemas' bounds. */
export const LENGTHS = [1, 2, 3, 63, 64, 65, 127, 128, 129, 199, 200, 201, 499, 500, 501, 2000, 2001, 4096, 4097, 20_000, 20_001, 65_536, 1 << 20] as const;

export const longStringArb: fc.Arbitrary<string> = fc.tuple(fc.constantFrom(...LENGTHS), fc.constantFrom('a', 'é', '😀', ' ', '\u0000', 'x\n'))
  .map(([n, unit]) => unit.repeat(Math.max(1, Math.ceil(n / unit.length))).slice(0, n));

/** Any hostile string. */
export const hostileStringArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...CONTROL_STRINGS), weight: 3 },
  { arbitrary: fc.constantFrom(...SURROGATE_STRINGS), weight: 2 },
  { arbitrary: fc.constantFrom(...MEANINGFUL_STRINGS), weight: 3 },
  { arbitrary: longStringArb, weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.tuple(fc.constantFrom(...CONTROL_STRINGS, ...SURROGATE_STRINGS), fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([bad, a, b]) => `${a}${bad}${b}`), weight: 3 },
);

/** Numbers at the edges, as literal text where JavaScript would change them. */
export const NUMBER_LITERALS = [
  '-0', '0', '-1', '1', '0.5', '1.5', '4.000000000000001', '1e308', '-1e308', '1e309', '-1e309', '5e-324', '1e-400',
  '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993', '2147483648', '-2147483649',
  '1.0', '1E2', '100000000000000000000000000000', '0.1e1',
] as const;

export const hostileNumberArb: fc.Arbitrary<Wire> = fc.oneof(
  { arbitrary: fc.constantFrom(...NUMBER_LITERALS).map((t) => new Raw(t)), weight: 3 },
  { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
);

/** Keys that mean something to JavaScript objects. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', ''] as const;

/** Objects whose keys are prototype keys, with hostile values. */
export const protoObjectArb: fc.Arbitrary<Wire> = fc.array(fc.tuple(fc.constantFrom(...PROTO_KEYS), fc.oneof(fc.constant<Wire>({ polluted: true }), fc.constant<Wire>(null), fc.constant<Wire>('x'), fc.constant<Wire>(obj([['prototype', obj([['polluted', true]])]])))), { minLength: 1, maxLength: 3 })
  .map((es) => obj(es));

/** Any hostile JSON value (of bounded size; the deep ones are Raw text). */
export const hostileValueArb: fc.Arbitrary<Wire> = fc.letrec<{ v: Wire }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: hostileStringArb, weight: 5 },
    { arbitrary: hostileNumberArb, weight: 3 },
    { arbitrary: fc.constantFrom<Wire>(null, true, false, [], {}), weight: 2 },
    { arbitrary: deepArb, weight: 1 },
    { arbitrary: protoObjectArb, weight: 1 },
    { arbitrary: fc.array(tie('v'), { maxLength: 3 }), weight: 1 },
    { arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 8 })), tie('v')), { maxLength: 3 }).map((es) => obj(es)), weight: 1 },
  ),
})).v;

/** True when `s` has a character that text typed into a session or terminal must not carry (C0 but tab/newline/CR, DEL). */
export function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

/** True when `s` has a lone surrogate (not valid UTF-16, cannot be stored as UTF-8 unchanged). */
export function hasLoneSurrogate(s: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/**
 * encodeURIComponent that does not throw: a lone surrogate is written as the three
 * bytes WTF-8 would use (%ED%A0%80 for U+D800), which is itself invalid UTF-8 — a
 * hostile input of its own.
 */
export function pctEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
    if (pair) {
      out += encodeURIComponent(s.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(s[i]!);
    }
  }
  return out;
}

/** Returns `w` with one of its string leaves (the `pick`-th, cyclically) changed by `f`; `w` itself when it has none. */
export function mapOneString(w: Wire, pick: number, f: (s: string) => string): Wire {
  const leaves: number[] = [];
  let n = 0;
  const count = (v: Wire): void => {
    if (typeof v === 'string') leaves.push(n++);
    else if (Array.isArray(v)) (v as readonly Wire[]).forEach(count);
    else if (typeof v === 'object' && v !== null && !(v instanceof Raw)) for (const k of Object.keys(v)) count((v as Record<string, Wire>)[k]!);
  };
  count(w);
  if (leaves.length === 0) return w;
  const target = pick % leaves.length;
  let i = 0;
  const rebuild = (v: Wire): Wire => {
    if (typeof v === 'string') return i++ === target ? f(v) : v;
    if (Array.isArray(v)) return (v as readonly Wire[]).map(rebuild);
    if (typeof v === 'object' && v !== null && !(v instanceof Raw)) return obj(Object.keys(v).map((k) => [k, rebuild((v as Record<string, Wire>)[k]!)]));
    return v;
  };
  return rebuild(w);
}

/** A valid value with a control character, lone surrogate or invisible character put into one of its strings. */
export function withOddCharArb(valid: fc.Arbitrary<Wire>): fc.Arbitrary<Wire> {
  return fc.tuple(valid, fc.nat(), fc.constantFrom(...CONTROL_STRINGS, ...SURROGATE_STRINGS), fc.constantFrom<'start' | 'middle' | 'end'>('start', 'middle', 'end'))
    .map(([w, pick, odd, where]) => mapOneString(w, pick, (s) => {
      if (where === 'start') return `${odd}${s}`;
      if (where === 'end') return `${s}${odd}`;
      const m = Math.floor(s.length / 2);
      return `${s.slice(0, m)}${odd}${s.slice(m)}`;
    }));
}
