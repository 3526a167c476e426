/**
 * Printing: aligned tables for people, JSON for scripts and agents. Widths are
 * display columns (string-width: wide CJK characters and emoji take two, colour
 * codes none), so tables line up whatever the text; a table wider than the
 * terminal shrinks its widest columns, cutting long cells with "…".
 */
import stringWidth from 'string-width';
import { shortId } from '../protocol/short-id.js';
import { paint, type Style } from './colour.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A table cell: its text, optionally painted in a style on a colour terminal. */
export type Cell = string | { readonly text: string; readonly style: Style | undefined };

const textOf = (c: Cell | undefined): string => (c === undefined ? '' : typeof c === 'string' ? c : c.text);
const styleOf = (c: Cell | undefined): Style | undefined => (c === undefined || typeof c === 'string' ? undefined : c.style);

/** A column never shrinks below this many display columns (or its header's width). */
const MIN_COLUMN = 8;

/**
 * The width tables fit: the terminal's, when stdout is one; else $COLUMNS when set
 * (so a script or test can ask for a width); else none (piped output is never cut).
 */
export function outputColumns(out: { readonly isTTY?: boolean; readonly columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (out.isTTY === true && out.columns !== undefined && out.columns > 0) return out.columns;
  const n = Number(env['COLUMNS']);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Column widths for `cells` that fit `columns` (two spaces between columns): the widest ones give way first. */
export function fitWidths(header: readonly string[], rows: readonly (readonly Cell[])[], columns: number | undefined): number[] {
  const widths = header.map((h, i) => Math.max(stringWidth(h), ...rows.map((r) => stringWidth(textOf(r[i])))));
  if (columns === undefined) return widths;
  const floor = header.map((h) => Math.max(MIN_COLUMN, stringWidth(h)));
  for (;;) {
    const excess = widths.reduce((s, w) => s + w, 0) + 2 * (widths.length - 1) - columns;
    if (excess <= 0) return widths;
    let widest = -1;
    widths.forEach((w, i) => { if (w > (floor[i] ?? 0) && (widest < 0 || w >= (widths[widest] ?? 0))) widest = i; });
    if (widest < 0) return widths; // every column at its floor: the terminal wraps the rest
    widths[widest] = Math.max(floor[widest] ?? 0, (widths[widest] ?? 0) - excess);
  }
}

/** Prints rows as a table with a header; columns are padded to their widest cell and fit the terminal. */
export function printTable(header: readonly string[], rows: readonly (readonly Cell[])[], empty = '(none)'): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const widths = fitWidths(header, rows, outputColumns());
  const line = (cells: readonly Cell[], style: (c: Cell | undefined) => Style | undefined): string => cells.map((c, i) => {
    const w = widths[i] ?? 0;
    const text = truncate(textOf(c), w);
    const pad = i === cells.length - 1 ? '' : ' '.repeat(Math.max(0, w - stringWidth(text)));
    return paint(text, style(c)) + pad;
  }).join('  ').trimEnd();
  process.stdout.write(`${line(header, () => 'bold')}\n${rows.map((r) => line(r, styleOf)).join('\n')}\n`);
}

/** An id as the CLI shows it (short-id.ts): unique among `among`, the ids printed with it. */
export function short(id: string | null | undefined, among: Iterable<string> = []): string {
  return id == null ? '-' : shortId(id, among);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** `s` cut to at most `n` display columns, ending in "…" when cut (a wide character is never split). */
export function truncate(s: string, n: number): string {
  if (stringWidth(s) <= n) return s;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(s)) {
    const w = stringWidth(segment);
    if (used + w > n - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}
