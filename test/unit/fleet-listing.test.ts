// The strict parser of `rclaude _claude-projects --sessions` (docs/rclaude.md).
import { describe, expect, it } from 'vitest';
import { ClareError } from '../../src/core/errors.js';
import { parseSessionListing } from '../../src/core/fleet/rclaude.js';

const HEADER = 'host\tsession\tcwd\tstate\tlast_activity';
const row = (...cells: string[]): string => cells.join('\t');
const ok1 = row('desk', 'api-1', '/src/api', 'working', '2026-11-22T04:30:00.000Z');
const ok2 = row('desk', 'docs', '/src/docs', 'exited', '2026-11-22T03:10:12.345Z');

function fails(stdout: string, ...parts: string[]): ClareError {
  let err: unknown;
  try {
    parseSessionListing(stdout, 'desk');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ClareError);
  const ce = err as ClareError;
  expect(ce.code).toBe('CLARE_RCLAUDE_OUTPUT');
  for (const p of parts) expect(ce.message).toContain(p);
  return ce;
}

describe('parseSessionListing', () => {
  it('parses rows by header name, normalising instants to UTC', () => {
    const out = parseSessionListing(`${HEADER}\n${ok1}\n${row('desk', 'x', '/x', 'idle', '2026-11-22T06:30:00+02:00')}\n`, 'desk');
    expect(out).toEqual([
      { host: 'desk', session: 'api-1', cwd: '/src/api', state: 'working', last_activity: '2026-11-22T04:30:00.000Z' },
      { host: 'desk', session: 'x', cwd: '/x', state: 'idle', last_activity: '2026-11-22T04:30:00.000Z' },
    ]);
  });

  it('finds columns in any order and ignores unknown extra columns', () => {
    const out = parseSessionListing('model\tstate\tlast_activity\tsession\tcwd\thost\nopus\tidle\t2026-11-22T04:30:00.000Z\ta\t/a\tdesk\n', 'desk');
    expect(out).toEqual([{ host: 'desk', session: 'a', cwd: '/a', state: 'idle', last_activity: '2026-11-22T04:30:00.000Z' }]);
  });

  it('accepts the header alone (no sessions), with or without the final newline', () => {
    expect(parseSessionListing(`${HEADER}\n`, 'desk')).toEqual([]);
    expect(parseSessionListing(HEADER, 'desk')).toEqual([]);
    expect(parseSessionListing(`${HEADER}\n${ok2}`, 'desk')).toHaveLength(1);
  });

  it('refuses empty output and a header without a needed column, quoting the header', () => {
    fails('', 'no header');
    fails('\n', 'no header');
    const e = fails('host\tsession\tcwd\tstate\nhost\tdesk\t/x\tidle\n', 'line 1', 'last_activity', JSON.stringify('host\tsession\tcwd\tstate'));
    expect(e.details?.['line_no']).toBe(1);
    fails(`${HEADER}\tstate\n`, 'twice');
  });

  it('refuses a row with the wrong number of fields, quoting it', () => {
    fails(`${HEADER}\n${ok1}\n<<< junk >>>\n`, 'line 3', '1 tab-separated field', '"<<< junk >>>"');
    fails(`${HEADER}\n${ok1}\textra\n`, 'line 2', '6 tab-separated fields');
    fails(`${HEADER}\n${ok1}\n\n${ok2}\n`, 'line 3');
  });

  it('refuses a bad state, a bad date, a bad name, a duplicate and another host', () => {
    fails(`${HEADER}\n${row('desk', 'b', '/x', 'confused', '2026-11-22T04:30:00.000Z')}\n`, 'state "confused"', 'working, waiting, idle, exited');
    fails(`${HEADER}\n${row('desk', 'b', '/x', 'idle', '2026-13-45T25:61:00.000Z')}\n`, 'last_activity', '2026-13-45T25:61:00.000Z');
    fails(`${HEADER}\n${row('desk', 'b', '/x', 'idle', '2026-02-30T00:00:00Z')}\n`, 'last_activity');
    fails(`${HEADER}\n${row('desk', 'b', '/x', 'idle', 'yesterday')}\n`, 'last_activity');
    fails(`${HEADER}\n${row('desk', 'a:b', '/x', 'idle', '2026-11-22T04:30:00.000Z')}\n`, 'bad session name');
    fails(`${HEADER}\n${ok1}\n${ok1}\n`, 'listed twice');
    fails(`${HEADER}\n${row('build', 'b', '/x', 'idle', '2026-11-22T04:30:00.000Z')}\n`, 'host "build"', 'this machine is "desk"');
  });

  it('says nothing was recorded and bounds the quoted line', () => {
    const e = fails(`${HEADER}\n${'x'.repeat(5000)}\n`, 'nothing was recorded');
    expect(e.message.length).toBeLessThan(600);
  });
});
