/**
 * Paging for the CLI's list verbs. A list prints one page (the API's default size,
 * or --limit) and, when there is more, how to get the next one; --all follows
 * next_cursor to the end. With --json a list prints the page as the API returns it,
 * `{"items": [...], "next_cursor": "…" | null}`; with --all the same shape holding
 * every row and `next_cursor: null`.
 */
import type { Argv } from 'yargs';
import type { Page } from '../protocol/page.js';
import { api, type Target } from './client.js';

export interface PageArgs {
  readonly limit: number | undefined;
  readonly cursor: string | undefined;
  readonly all: boolean;
}

/** Adds --limit, --cursor and --all to a list verb. */
export function pageOptions<T>(y: Argv<T>): Argv<T & PageArgs> {
  return y
    .option('limit', { alias: 'n', type: 'number', describe: 'rows per page (the daemon has a default and a maximum)' })
    .option('cursor', { type: 'string', describe: 'continue after a previous page (the cursor it printed)' })
    .option('all', { type: 'boolean', default: false, describe: 'every page, to the end' });
}

/** Rows per request when following every page: the largest page every list route takes. */
const ALL_PAGE = 500;
/** A guard against a daemon that never ends a list: --all stops after this many pages. */
const MAX_PAGES = 100_000;

/** One page of `path` with `query`, or with --all every page, as one page with next_cursor null. */
export async function fetchPage<T>(target: Target, path: string, query: URLSearchParams, a: PageArgs): Promise<Page<T>> {
  const get = (limit: number | undefined, cursor: string | undefined): Promise<Page<T>> => {
    const q = new URLSearchParams(query);
    if (limit !== undefined) q.set('limit', String(limit));
    if (cursor !== undefined) q.set('cursor', cursor);
    return api<Page<T>>(target, 'GET', `${path}${q.size > 0 ? `?${q.toString()}` : ''}`);
  };
  if (!a.all) return get(a.limit, a.cursor);
  const items: T[] = [];
  let cursor = a.cursor;
  for (let i = 0; i < MAX_PAGES; i++) {
    const p = await get(a.limit ?? ALL_PAGE, cursor);
    items.push(...p.items);
    if (p.next_cursor === null) return { items, next_cursor: null };
    cursor = p.next_cursor;
  }
  throw new Error(`${path} did not end after ${MAX_PAGES} pages`);
}

const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Tells a person how to get the rest, when there is more: the same command with --cursor (or --all). */
export function printMore(page: Page<unknown>, argv: readonly string[] = process.argv.slice(2)): void {
  if (page.next_cursor === null) return;
  const args: string[] = [];
  let value = false; // the argument after --cursor is its value: dropped with it
  for (const a of argv) {
    if (value) value = false;
    else if (a === '--cursor') value = true;
    else if (!a.startsWith('--cursor=')) args.push(a);
  }
  process.stdout.write(`(more: clare ${[...args, '--cursor', page.next_cursor].map(quote).join(' ')}   or --all for everything)\n`);
}
