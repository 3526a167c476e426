/** The CLI's table printer and colour rules (src/cli/output.ts, colour.ts): display widths, fitting, NO_COLOR/FORCE_COLOR. */
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { colourWanted } from '../../src/cli/colour.js';
import { exitCodeEpilog, exitCodeTable } from '../../src/cli/exit-codes.js';
import { fitWidths, outputColumns, truncate } from '../../src/cli/output.js';
import { ERROR_CATALOG } from '../../src/core/errors.js';

describe('truncate', () => {
  it('counts wide characters and emoji as two columns and never splits one', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('日本語のタイトルです', 9)).toBe('日本語の…');
    expect(stringWidth(truncate('日本語のタイトルです', 9))).toBeLessThanOrEqual(9);
    expect(truncate('fix 👩‍💻 login 🚀 now', 8)).toBe('fix 👩‍💻 …');
    expect(truncate('abcdefghij', 5)).toBe('abcd…');
  });
});

describe('fitWidths', () => {
  const header = ['ID', 'TITLE', 'SESSION'];
  const rows = [['a1b2c3d4', 'A title that is much longer than the terminal allows for', 'desk:api-1'], ['e5f6a7b8', '表示幅', '-']];
  it('uses display width, not string length', () => {
    expect(fitWidths(['T'], [['表示幅']], undefined)).toEqual([6]);
  });
  it('shrinks the widest column so the table fits the terminal', () => {
    const w = fitWidths(header, rows, 40);
    expect(w.reduce((s, x) => s + x, 0) + 2 * (w.length - 1)).toBeLessThanOrEqual(40);
    expect(w[0]).toBe(8);
    expect(w[2]).toBe(10);
  });
  it('leaves piped output (no width) uncut', () => {
    expect(fitWidths(header, rows, undefined)[1]).toBe(56);
  });
  it('reads the terminal width from a TTY, else $COLUMNS, else none', () => {
    expect(outputColumns({ isTTY: true, columns: 120 }, { COLUMNS: '60' })).toBe(120);
    expect(outputColumns({ isTTY: false }, { COLUMNS: '60' })).toBe(60);
    expect(outputColumns({ isTTY: false }, {})).toBeUndefined();
  });
});

describe('colour', () => {
  it('is on at a terminal and off when piped', () => {
    expect(colourWanted({ isTTY: true }, {})).toBe(true);
    expect(colourWanted({ isTTY: false }, {})).toBe(false);
    expect(colourWanted({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
  it('respects NO_COLOR over everything, and FORCE_COLOR when piped', () => {
    expect(colourWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted({ isTTY: false }, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colourWanted({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourWanted({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
  });
});

describe('the exit-code epilog of clare --help', () => {
  it('names every code of the error catalog beside the exit code the CLI ends with', () => {
    const text = exitCodeEpilog();
    const table = exitCodeTable();
    for (const [code, e] of Object.entries(ERROR_CATALOG)) {
      expect(table.get(e.exit), code).toContain(code.replace(/^CLARE_/, ''));
    }
    for (const [exit, names] of table) expect(text).toContain(`${exit} ${names.join('/')}`);
    expect(text).toContain('0 ok');
  });
});
