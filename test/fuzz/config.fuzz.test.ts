/**
 * Fuzzing clare.toml: `parseConfig` on generated TOML text — valid configs,
 * configs with one value wrong, unknown keys, prototype keys, deep nesting, odd
 * strings, and text broken at random (a character inserted, removed or replaced,
 * the text cut short).
 *
 * Invariants: it returns a frozen config or throws CLARE_CONFIG naming the file
 * (never anything else); a returned config is valid by the schema, survives being
 * written out and read again unchanged, and has a usable token; nothing leaks onto
 * Object.prototype; an unknown key is reported with its line.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configSchema, parseConfig, type ClareConfig } from '../../src/core/config.js';
import { asClareError } from '../../src/core/errors.js';
import { doorTimeout, fuzzDoor } from './budget.js';
import { CONTROL_STRINGS, hostileStringArb, SURROGATE_STRINGS } from './hostile.js';
import { brief } from './invariants.js';
import { violation } from './known-open.js';

const DOOR = 'config';
const FILE = '/home/me/.config/clare/clare.toml';

/** A TOML value: strings are written as basic strings (escaped), numbers and booleans as they are. */
type TomlValue = string | number | boolean | readonly TomlValue[] | { readonly raw: string };

function tomlString(s: string): string {
  // TOML basic strings: escape backslash, quote and control characters; \u escapes for the rest of C0 and DEL.
  return `"${[...s].map((ch) => {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') return '\\\\';
    if (ch === '"') return '\\"';
    if (ch === '\n') return '\\n';
    if (ch === '\t') return '\\t';
    if (c < 0x20 || c === 0x7f) return `\\u${c.toString(16).padStart(4, '0')}`;
    return ch;
  }).join('')}"`;
}

function tomlValue(v: TomlValue): string {
  if (typeof v === 'string') return tomlString(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${(v as readonly TomlValue[]).map(tomlValue).join(', ')}]`;
  return (v as { raw: string }).raw;
}

/** A config as sections of key/value lines, in order ('' is the top level). */
type Doc = readonly (readonly [section: string, entries: readonly (readonly [string, TomlValue])[]])[];

function docText(d: Doc): string {
  return d.map(([section, entries]) => `${section === '' ? '' : `[${section}]\n`}${entries.map(([k, v]) => `${k} = ${tomlValue(v)}`).join('\n')}\n`).join('\n');
}

const uuid4Arb = fc.uuid({ version: 4 });
const validNameArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
const peerArb = fc.constantFrom('http://198.18.0.2:8765', 'https://198.18.0.3:8765/', 'http://[::1]:8765', 'http://desk.lan:8765');
const tokenArb = fc.oneof(
  fc.stringMatching(/^[!-~]{16,64}$/),
  fc.constantFrom('0123456789abcdef', 'with spaces in the token', 'tökèn-non-latin-1-€€€€', 'tab\tseparated-token-x', `${'x'.repeat(15)}\u0000`, 'x'.repeat(512), 'x'.repeat(513), 'short'),
);

/** A valid config document (fields optional as the schema allows). */
const validDocArb: fc.Arbitrary<Doc> = fc.record({
  machine_id: uuid4Arb,
  name: fc.option(validNameArb, { nil: undefined }),
  peers: fc.option(fc.array(peerArb, { maxLength: 3 }), { nil: undefined }),
  host: fc.option(fc.constantFrom('127.0.0.1', '::1', 'localhost', '0.0.0.0', '198.18.0.1'), { nil: undefined }),
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  token: fc.option(fc.stringMatching(/^[!-~]{16,40}$/), { nil: undefined }),
  skew: fc.option(fc.integer({ min: 1000, max: 86_400_000 }), { nil: undefined }),
  timeout: fc.option(fc.integer({ min: 100, max: 600_000 }), { nil: undefined }),
  poll: fc.option(fc.double({ min: 0.2, max: 3600, noNaN: true }), { nil: undefined }),
  groups: fc.option(fc.array(fc.tuple(validNameArb, fc.array(fc.constantFrom('desk:*', 'build:api-*', '*:web'), { maxLength: 2 })), { maxLength: 2 }), { nil: undefined }),
}).map((c) => {
  const top: [string, TomlValue][] = [['machine_id', c.machine_id]];
  if (c.name !== undefined) top.push(['name', c.name]);
  if (c.peers !== undefined) top.push(['peers', c.peers]);
  const server: [string, TomlValue][] = [];
  if (c.host !== undefined) server.push(['host', c.host]);
  if (c.port !== undefined) server.push(['port', c.port]);
  const mesh: [string, TomlValue][] = [];
  if (c.token !== undefined) mesh.push(['token', c.token]);
  if (c.skew !== undefined) mesh.push(['max_clock_skew_ms', c.skew]);
  const rclaude: [string, TomlValue][] = [];
  if (c.timeout !== undefined) rclaude.push(['timeout_ms', c.timeout]);
  if (c.poll !== undefined) rclaude.push(['poll_interval_s', c.poll]);
  const doc: [string, [string, TomlValue][]][] = [['', top], ['server', server], ['mesh', mesh], ['rclaude', rclaude]];
  if (c.groups !== undefined) {
    const seen = new Set<string>();
    doc.push(['groups', c.groups.filter(([g]) => !seen.has(g) && seen.add(g) !== undefined)]);
  }
  return doc.filter(([s, es]) => s === '' || es.length > 0);
});

/** Values that break a key's rule (or a TOML rule). */
const badValueArb: fc.Arbitrary<TomlValue> = fc.oneof(
  hostileStringArb,
  fc.constantFrom<TomlValue>(0, -1, 65536, 1e308, 0.1, 99.5, true, [], [1, 'a'], { raw: 'inf' }, { raw: 'nan' }, { raw: '-0' }, { raw: '0x10' }, { raw: '1979-05-27T07:32:00Z' }, { raw: '{}' }, { raw: '{ a = 1 }' }),
  fc.constantFrom(...CONTROL_STRINGS, ...SURROGATE_STRINGS).map((s): TomlValue => `token-long-enough-${s}`),
  tokenArb,
);

const KEYS = ['machine_id', 'name', 'peers', 'host', 'port', 'token', 'max_clock_skew_ms', 'path', 'timeout_ms', 'poll_interval_s', 'unknown_key', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '"quoted key"', 'a.b.c', '__proto__.polluted', 'constructor.prototype.polluted'];
const SECTIONS = ['', 'server', 'mesh', 'rclaude', 'groups', 'unknown', '__proto__', 'constructor', 'constructor.prototype', 'server.__proto__'];

type Mutation =
  | { kind: 'set'; section: number; key: string; value: TomlValue }
  | { kind: 'drop-machine-id' }
  | { kind: 'dup-line'; pick: number }
  | { kind: 'deep'; n: number; tables: boolean }
  | { kind: 'char'; at: number; op: 'insert' | 'delete' | 'replace'; ch: string }
  | { kind: 'cut'; at: number }
  | { kind: 'raw-line'; line: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('set' as const), section: fc.nat(SECTIONS.length - 1), key: fc.constantFrom(...KEYS), value: fc.oneof(badValueArb, tokenArb) }), weight: 8 },
  { arbitrary: fc.constant<Mutation>({ kind: 'drop-machine-id' }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('dup-line' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('deep' as const), n: fc.constantFrom(10, 100, 1000, 5000, 20_000, 100_000), tables: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('char' as const), at: fc.nat(), op: fc.constantFrom<'insert' | 'delete' | 'replace'>('insert', 'delete', 'replace'), ch: fc.constantFrom('"', "'", '[', ']', '=', '\n', '\u0000', '\\', '#', '.', '{', ' ', '\ud800', '\r', '\u2028') }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('raw-line' as const), line: fc.constantFrom('[server]', '[[peers]]', 'peers = []', 'x = """', "x = '''\n", 'x = "\\uD800"', 'x = "\\U0010FFFF"', 'x = "\\U00110000"', 'name = "a"\nname = "b"', '[a]\n[a]', '= 1', 'a..b = 1', 'a = 1 2', `k = "${'v'.repeat(100_000)}"`, `${'k'.repeat(10_000)} = 1`) }), weight: 2 },
);

function applyMutation(d: Doc, text: string, m: Mutation): string {
  switch (m.kind) {
    case 'set': {
      const section = SECTIONS[m.section]!;
      const entries = d.map(([s, es]) => [s, [...es]] as [string, [string, TomlValue][]]);
      const target = entries.find(([s]) => s === section);
      if (target !== undefined) {
        const i = target[1].findIndex(([k]) => k === m.key);
        if (i >= 0) target[1][i] = [m.key, m.value];
        else target[1].push([m.key, m.value]);
      } else {
        entries.push([section, [[m.key, m.value]]]);
      }
      return docText(entries);
    }
    case 'drop-machine-id':
      return text.replace(/^machine_id = .*$/m, '');
    case 'dup-line': {
      const lines = text.split('\n');
      const i = m.pick % lines.length;
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 'deep':
      return `${text}\ndeep = ${m.tables ? `${'{ a = '.repeat(m.n)}1${' }'.repeat(m.n)}` : `${'['.repeat(m.n)}${']'.repeat(m.n)}`}\n`;
    case 'char': {
      const at = m.at % (text.length + 1);
      if (m.op === 'insert') return `${text.slice(0, at)}${m.ch}${text.slice(at)}`;
      if (m.op === 'delete') return `${text.slice(0, at)}${text.slice(at + 1)}`;
      return `${text.slice(0, at)}${m.ch}${text.slice(at + 1)}`;
    }
    case 'cut':
      return text.slice(0, m.at % (text.length + 1));
    case 'raw-line':
      return `${text}\n${m.line}\n`;
  }
}

const PROTO_BEFORE = Object.getOwnPropertyNames(Object.prototype).sort().join(',');

/** Writes a parsed config back as TOML (what `clare init` and `clare peer add` would keep). */
function configText(c: ClareConfig): string {
  const doc: [string, [string, TomlValue][]][] = [
    ['', [['machine_id', c.machine_id], ['name', c.name], ['peers', [...c.peers]]]],
    ['server', [['host', c.server.host], ['port', c.server.port]]],
    ['mesh', [...(c.mesh.token === undefined ? [] : [['token', c.mesh.token] as [string, TomlValue]]), ['max_clock_skew_ms', c.mesh.max_clock_skew_ms]]],
    ['rclaude', [...(c.rclaude.path === undefined ? [] : [['path', c.rclaude.path] as [string, TomlValue]]), ['timeout_ms', c.rclaude.timeout_ms], ['poll_interval_s', c.rclaude.poll_interval_s]]],
  ];
  if (c.groups !== undefined) doc.push(['groups', Object.entries(c.groups).map(([g, ms]) => [g, [...ms]])]);
  return docText(doc);
}

function runCase(door: string, text: string, mutated: boolean): void {
  const DOOR = door;
  const what = `clare.toml ${brief(text, 600)}`;
  let config: ClareConfig;
  try {
    config = parseConfig(text, FILE);
  } catch (e) {
    const ce = asClareError(e);
    if (ce === null) {
      violation(DOOR, 'uncoded-throw', `parseConfig threw ${(e as Error).name}: ${brief((e as Error).message, 200)}; input: ${what}`);
      return;
    }
    if (ce.code !== 'CLARE_CONFIG') violation(DOOR, 'uncoded-throw', `parseConfig threw ${ce.code}, not CLARE_CONFIG; input: ${what}`);
    if (!ce.message.includes(FILE)) violation(DOOR, 'uncoded-throw', `the error does not name the file: ${brief(ce.message)}; input: ${what}`);
    if (/Unrecognized key/i.test(ce.message) && !new RegExp(`${FILE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+`).test(ce.message)) {
      violation(DOOR, 'accepted-invalid', `an unknown key is reported without its line: ${brief(ce.message)}; input: ${what}`);
    }
    return;
  } finally {
    const now = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
    if (now !== PROTO_BEFORE || ({} as Record<string, unknown>)['polluted'] !== undefined) violation(DOOR, 'accepted-invalid', `parsing polluted Object.prototype; input: ${what}`);
  }
  if (!Object.isFrozen(config)) violation(DOOR, 'accepted-invalid', `the config is not frozen; input: ${what}`);
  const data: Record<string, unknown> = { ...config };
  delete data['file'];
  const again = configSchema.safeParse(JSON.parse(JSON.stringify(data)));
  if (!again.success) violation(DOOR, 'accepted-invalid', `the returned config fails its own schema: ${brief(again.error.message)}; input: ${what}`);
  const token = config.mesh.token;
  if (token !== undefined && !/^[!-~]+$/.test(token)) {
    violation(DOOR, 'accepted-invalid', `a token with spaces, control or non-ASCII characters was accepted (${brief(JSON.stringify(token), 80)}): it can never authenticate; input: ${what}`);
  }
  if (!mutated || again.success) {
    let back: ClareConfig | null = null;
    try {
      back = parseConfig(configText(config), FILE);
    } catch (e) {
      violation(DOOR, 'roundtrip', `the config written back does not parse: ${brief((e as Error).message)}; input: ${what}`);
    }
    if (back !== null && JSON.stringify({ ...back, file: '' }) !== JSON.stringify({ ...config, file: '' })) {
      violation(DOOR, 'roundtrip', `the config written back reads differently: ${brief(JSON.stringify(back))} vs ${brief(JSON.stringify(config))}; input: ${what}`);
    }
  }
}

describe('fuzz: clare.toml', () => {
  it('valid configs parse, survive a write-back, and are what the schema says', async () => {
    const report = await fuzzDoor(`${DOOR}-valid`, { runs: 2000, ms: 8_000 }, fc.property(validDocArb, (d) => {
      runCase(`${DOOR}-valid`, docText(d), false);
    }));
    expect(report.cases).toBeGreaterThan(0);
  }, doorTimeout(8_000));

  it('broken configs are refused with CLARE_CONFIG naming the file (and the line of an unknown key), never another throw', async () => {
    const report = await fuzzDoor(DOOR, { runs: 4000, ms: 12_000 }, fc.property(validDocArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (d, ms) => {
      let text = docText(d);
      for (const m of ms) text = applyMutation(d, text, m);
      runCase(DOOR, text, true);
    }));
    expect(report.cases).toBeGreaterThan(0);
  }, doorTimeout(12_000));
});
