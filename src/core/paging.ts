/**
 * Keyset paging for every list: a page holds at most `limit` rows and at most
 * PAGE_BYTES of JSON, and `next_cursor` (null on the last page) continues after its
 * last row. A cursor is opaque to clients: base64url of the query's scope (order and
 * filters, hashed) and the sort key of the last row. A cursor from another query is
 * refused, never silently reinterpreted.
 *
 * What must stay true: following next_cursor from the first page visits every row
 * that existed throughout, each once, in order — keys are unique (they end with the
 * row's id or key) and each page starts strictly after the previous page's last key.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Page } from '../protocol/page.js';
import { ClareError } from './errors.js';


/** Upper bound on one page's JSON (rows are cut at a row boundary; the cursor continues there). */
export const PAGE_BYTES = 4 * 1024 * 1024;

/** Longest cursor accepted (keys are short; this bounds what a caller can make us decode). */
const MAX_CURSOR_CHARS = 1024;

/** What a caller asks of a list: how many rows, after which cursor. */
export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
  /** Bytes of JSON the page may hold (default PAGE_BYTES). */
  readonly maxBytes?: number;
  /**
   * Whether a page may hold no row when even the first is over `maxBytes` (its
   * next_cursor then starts the list from the beginning). API pages always hold one.
   */
  readonly allowEmpty?: boolean;
}

export type KeyPart = string | number;
export type SortKey = readonly KeyPart[];

/** How a query is scoped: a cursor carries its hash, so it only continues that query. */
export function scopeOf(list: string, order: string, filters: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const canon = Object.keys(filters).sort().filter((k) => filters[k] !== undefined).map((k) => `${k}=${String(filters[k])}`).join('&');
  return createHash('sha256').update(`${list}|${order}|${canon}`).digest('base64url').slice(0, 12);
}

export function encodeCursor(scope: string, key: SortKey): string {
  return Buffer.from(JSON.stringify([scope, ...key]), 'utf8').toString('base64url');
}

// [scope, ...key]; an empty key starts from the beginning (a page cut before its first row).
const cursorJson = z.array(z.union([z.string().max(400), z.number().finite()])).min(1).max(8);

/**
 * The sort key in `cursor`, checked against the query's scope and key shape
 * (`shape`: 's' string, 'n' number per key part). Throws CLARE_VALIDATION otherwise.
 */
export function decodeCursor(cursor: string, scope: string, shape: string): SortKey {
  const bad = (why: string): ClareError => new ClareError('CLARE_VALIDATION', `cursor: ${why}; start again without a cursor`, { field: 'cursor' });
  if (cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad('not a cursor this daemon made');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor this daemon made');
  }
  const r = cursorJson.safeParse(parsed);
  if (!r.success) throw bad('not a cursor this daemon made');
  const [s, ...key] = r.data;
  if (s !== scope) throw bad('it belongs to another list, order or filter');
  if (key.length === 0) return key;
  if (key.length !== shape.length || key.some((k, i) => (shape[i] === 'n') !== (typeof k === 'number'))) throw bad('not a cursor this daemon made');
  return key;
}

/**
 * Cuts `rows` (fetched with limit + 1) to a page: at most `limit` rows and `maxBytes`
 * of JSON (each row plus a comma). `keyOf` gives a row's sort key for the cursor.
 */
export function toPage<R, T>(rows: readonly R[], p: PageRequest, scope: string, keyOf: (r: R) => SortKey, toItem: (r: R) => T): Page<T> {
  const maxBytes = p.maxBytes ?? PAGE_BYTES;
  const items: T[] = [];
  let bytes = 0;
  let last: R | undefined;
  for (const r of rows.slice(0, p.limit)) {
    const item = toItem(r);
    bytes += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (bytes > maxBytes && (items.length > 0 || p.allowEmpty === true)) break;
    items.push(item);
    last = r;
  }
  if (items.length === rows.length) return { items, next_cursor: null };
  return { items, next_cursor: encodeCursor(scope, last === undefined ? [] : keyOf(last)) };
}

/**
 * Adds the keyset condition of `p.cursor` to `conds`/`args`: rows strictly after the
 * cursor's key on `cols`, all sorted `dir` (row-value comparison, which SQLite seeks
 * in an index on those columns).
 */
export function continueAfter(p: PageRequest, scope: string, cols: readonly string[], dir: 'ASC' | 'DESC', shape: string, conds: string[], args: (string | number)[]): void {
  if (p.cursor === undefined) return;
  const key = decodeCursor(p.cursor, scope, shape);
  const [first] = key;
  if (first === undefined) return;
  conds.push(afterKey(cols, dir));
  args.push(first, ...key);
}

/**
 * SQL for "strictly after the key" on columns `cols`, all sorted `dir`; takes the
 * key's first part, then the whole key. The bound on the first column alone lets
 * SQLite seek in the index even when that column is an expression.
 */
export function afterKey(cols: readonly string[], dir: 'ASC' | 'DESC'): string {
  const [after, from] = dir === 'ASC' ? ['>', '>='] : ['<', '<='];
  const [first] = cols;
  if (first === undefined) throw new ClareError('CLARE_INTERNAL', 'a page is sorted by at least one column');
  return `${first} ${from} ? AND (${cols.join(', ')}) ${after} (${cols.map(() => '?').join(', ')})`;
}

/** Query-string schemas of `limit` and `cursor`, with the list's default and maximum. */
export function pageQuery(defaultLimit: number, maxLimit: number) {
  return {
    limit: z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit)
      .describe(`rows per page, default ${defaultLimit}, at most ${maxLimit} (a page also stops at ${PAGE_BYTES / 1024 / 1024} MiB of JSON)`),
    cursor: z.string().min(1).max(MAX_CURSOR_CHARS).optional().describe('next_cursor of the previous page'),
  };
}

/** Page sizes of the list routes: [default, maximum]. Documented in docs/api.md (paging). */
export const PAGE_LIMITS = {
  tasks: [50, 500],
  projects: [200, 1000],
  sessions: [200, 1000],
  assignments: [100, 1000],
  updates: [50, 500],
  groups: [200, 1000],
  conflicts: [100, 1000],
} as const satisfies Record<string, readonly [number, number]>;
