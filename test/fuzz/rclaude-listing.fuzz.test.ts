/**
 * Fuzzing rclaude's output: `parseSessionListing` on generated tab-separated
 * listings — valid ones (columns in any order, extra columns, any number of
 * rows) and broken ones (a cell wrong, a row short or long, a blank line, CRLF,
 * a BOM, another host, a duplicate session, text cut short).
 *
 * Invariants: a valid listing parses to exactly its rows; anything else is refused
 * whole with CLARE_RCLAUDE_OUTPUT (never another throw, never half a listing);
 * every returned row is one the store accepts as a `session.seen` event, with no
 * control characters in its cwd.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asClareError } from '../../src/core/errors.js';
import { checkPayload } from '../../src/core/events/catalog.js';
import { LISTING_COLUMNS, parseSessionListing, type ListedSession } from '../../src/core/fleet/rclaude.js';
import { doorTimeout, fuzzDoor } from './budget.js';
import { CONTROL_STRINGS, hasControlChars, hostileStringArb, SURROGATE_STRINGS } from './hostile.js';
import { brief } from './invariants.js';
import { violation } from './known-open.js';

const DOOR = 'rclaude-listing';
const HOST = 'desk';

interface Row {
  readonly host: string;
  readonly session: string;
  readonly cwd: string;
  readonly state: string;
  readonly last_activity: string;
}

const sessionArb = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,20}$/);
const cwdArb = fc.oneof(fc.constantFrom('/srv/api', '/home/me/src/clare', '/', '/tmp/with space', '/ünïcödé/😀', ''), fc.string({ maxLength: 30 }).filter((s) => !/[\t\n]/.test(s)).map((s) => `/${s}`));
const instantArb = fc.tuple(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true }), fc.constantFrom('Z', '+02:00', '-11:30', '+00:00'), fc.boolean()).map(([d, zone, millis]) => {
  if (zone === 'Z') return millis ? d.toISOString() : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const sign = zone[0] === '+' ? 1 : -1;
  const minutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const local = new Date(d.getTime() + minutes * 60_000).toISOString().slice(0, millis ? 23 : 19);
  return `${local}${zone}`;
});
const validRowArb: fc.Arbitrary<Row> = fc.record({
  host: fc.constant(HOST),
  session: sessionArb,
  cwd: cwdArb,
  state: fc.constantFrom('working', 'waiting', 'idle', 'exited'),
  last_activity: instantArb,
});

interface Listing {
  readonly columns: readonly string[];
  readonly rows: readonly Row[];
  readonly extras: readonly string[];
}

const validListingArb: fc.Arbitrary<Listing> = fc.record({
  order: fc.shuffledSubarray([...LISTING_COLUMNS, 'pid', 'model', 'title'], { minLength: LISTING_COLUMNS.length + 3, maxLength: LISTING_COLUMNS.length + 3 }),
  withExtras: fc.boolean(),
  rows: fc.uniqueArray(validRowArb, { maxLength: 8, selector: (r) => r.session }),
  extras: fc.array(fc.string({ maxLength: 8 }).map((s) => s.replace(/[\t\n]/g, ' ')), { minLength: 3, maxLength: 3 }),
}).map(({ order, withExtras, rows, extras }) => ({
  columns: withExtras ? order : order.filter((c) => (LISTING_COLUMNS as readonly string[]).includes(c)),
  rows,
  extras,
}));

function listingText(l: Listing): string {
  const lines = [l.columns.join('\t')];
  for (const r of l.rows) {
    lines.push(l.columns.map((c, i) => ((LISTING_COLUMNS as readonly string[]).includes(c) ? (r as unknown as Record<string, string>)[c]! : l.extras[i % l.extras.length]!)).join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

type Mutation =
  | { kind: 'cell'; row: number; column: number; value: string }
  | { kind: 'tab'; at: number }
  | { kind: 'blank-line'; at: number }
  | { kind: 'crlf' }
  | { kind: 'bom' }
  | { kind: 'cut'; at: number }
  | { kind: 'no-final-newline' }
  | { kind: 'dup-row'; row: number }
  | { kind: 'header'; value: string }
  | { kind: 'char'; at: number; ch: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('cell' as const), row: fc.nat(), column: fc.nat(), value: fc.oneof(hostileStringArb, fc.constantFrom('Desk', 'desk ', 'other', 'sleeping', 'IDLE', '2025-13-01T00:00:00Z', '2025-02-30T00:00:00Z', '2025-01-01', '2025-01-01T00:00:00', 'yesterday', '0', 'a:b', '-rf', '.', '', 'x'.repeat(5000)), fc.constantFrom(...CONTROL_STRINGS, ...SURROGATE_STRINGS).map((s) => `/srv/${s}api`)) }), weight: 8 },
  { arbitrary: fc.record({ kind: fc.constant('tab' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('blank-line' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.constantFrom<Mutation>({ kind: 'crlf' }, { kind: 'bom' }, { kind: 'no-final-newline' }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('dup-row' as const), row: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('header' as const), value: fc.constantFrom('', 'host\tsession\tcwd\tstate', 'host\thost\tsession\tcwd\tstate\tlast_activity', 'HOST\tsession\tcwd\tstate\tlast_activity', 'garbage', '__proto__\thost\tsession\tcwd\tstate\tlast_activity', 'constructor\thost\tsession\tcwd\tstate\tlast_activity') }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('char' as const), at: fc.nat(), ch: fc.constantFrom('\u0000', '\r', '\t', '\n', '\ud800', '\u001b', ' ') }), weight: 2 },
);

/** Applies `m` to listing text whose rows (after the header) number `rows`. */
function mutate(text: string, rows: number, m: Mutation): string {
  const lines = text.split('\n');
  switch (m.kind) {
    case 'cell': {
      if (rows === 0) return text;
      const r = 1 + (m.row % rows);
      if (lines[r] === undefined) return text;
      const cells2 = lines[r].split('\t');
      cells2[m.column % cells2.length] = m.value.replace(/[\t\n]/g, ' ');
      lines[r] = cells2.join('\t');
      return lines.join('\n');
    }
    case 'tab': {
      const at = m.at % (text.length + 1);
      return `${text.slice(0, at)}\t${text.slice(at)}`;
    }
    case 'blank-line':
      lines.splice(m.at % lines.length, 0, '');
      return lines.join('\n');
    case 'crlf':
      return text.replace(/\n/g, '\r\n');
    case 'bom':
      return `\ufeff${text}`;
    case 'cut':
      return text.slice(0, m.at % (text.length + 1));
    case 'no-final-newline':
      return text.replace(/\n$/, '');
    case 'dup-row':
      if (rows === 0) return text;
      lines.splice(1, 0, lines[1 + (m.row % rows)] ?? '');
      return lines.join('\n');
    case 'header':
      lines[0] = m.value;
      return lines.join('\n');
    case 'char': {
      const at = m.at % (text.length + 1);
      return `${text.slice(0, at)}${m.ch}${text.slice(at + 1)}`;
    }
  }
}

function checkRows(door: string, what: string, rows: readonly ListedSession[]): void {
  for (const r of rows) {
    if (r.host !== HOST) violation(door, 'accepted-invalid', `a row of host ${r.host} was returned for ${HOST}; input: ${what}`);
    if (hasControlChars(r.cwd)) violation(door, 'control-chars', `a session's cwd with control characters was accepted: ${JSON.stringify(r.cwd).slice(0, 80)}; input: ${what}`);
    const c = checkPayload('session.seen', 1, { host: r.host, session: r.session, cwd: r.cwd, state: r.state, last_activity: r.last_activity });
    if (c.kind !== 'known') violation(door, 'roundtrip', `a parsed row is not a session.seen the store accepts (${c.kind === 'invalid' ? c.message.replace(/\n/g, ' ') : c.reason}): ${brief(r)}; input: ${what}`);
  }
}

function parse(door: string, text: string): ListedSession[] | null {
  const what = `listing ${brief(JSON.stringify(text), 500)}`;
  try {
    const rows = parseSessionListing(text, HOST);
    checkRows(door, what, rows);
    return rows;
  } catch (e) {
    const ce = asClareError(e);
    if (ce === null) violation(door, 'uncoded-throw', `parseSessionListing threw ${(e as Error).name}: ${brief((e as Error).message)}; input: ${what}`);
    else if (ce.code !== 'CLARE_RCLAUDE_OUTPUT') violation(door, 'uncoded-throw', `parseSessionListing threw ${ce.code}, not CLARE_RCLAUDE_OUTPUT; input: ${what}`);
    else if (ce.message.length > 4000) violation(door, 'uncoded-throw', `the error message is ${ce.message.length} characters long; input: ${what}`);
    return null;
  }
}

describe('fuzz: rclaude listing', () => {
  it('a valid listing parses to exactly its rows', async () => {
    const door = `${DOOR}-valid`;
    const report = await fuzzDoor(door, { runs: 3000, ms: 6_000 }, fc.property(validListingArb, (l) => {
      const rows = parse(door, listingText(l));
      if (rows === null) {
        violation(door, 'accepted-invalid', `a valid listing was refused; input: ${brief(JSON.stringify(listingText(l)), 500)}`);
        return;
      }
      expect(rows.map((r) => [r.session, r.cwd, r.state, r.last_activity])).toEqual(l.rows.map((r) => [r.session, r.cwd, r.state, new Date(r.last_activity).toISOString()]));
    }));
    expect(report.cases).toBeGreaterThan(0);
  }, doorTimeout(6_000));

  it('a broken listing is refused whole with CLARE_RCLAUDE_OUTPUT, and what it returns the store accepts', async () => {
    const report = await fuzzDoor(DOOR, { runs: 5000, ms: 8_000 }, fc.property(validListingArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (l, ms) => {
      let text = listingText(l);
      for (const m of ms) text = mutate(text, l.rows.length, m);
      parse(DOOR, text);
    }));
    expect(report.cases).toBeGreaterThan(0);
  }, doorTimeout(8_000));
});
