/**
 * The activity stream of the event log as the page holds it (GET /api/v1/activity, or
 * a task's GET /api/v1/tasks/:id/history): the newest page, older pages as the reader
 * scrolls, and the head re-read when the live stream says the store moved.
 *
 * What must stay true: at most MAX_FEED_ITEMS items are held (past that, no older page
 * is asked for and `capped` says so); items are unique by event id and newest first;
 * an answer to a query that was replaced meanwhile is dropped.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import * as z from 'zod/mini';
import { apiRequest, seg } from '../api/api-client.js';
import type { ActivityEntry, ActivityKind } from '../../protocol/activity.js';

/** Items per page asked for. */
export const FEED_PAGE = 50;
/** Most items held at once (20 pages). */
export const MAX_FEED_ITEMS = 1000;

export interface FeedQuery {
  /** A task's id or short id: its history; null: the whole stream. */
  readonly task: string | null;
  /** Kinds asked of the daemon; null: all. */
  readonly kinds: readonly ActivityKind[] | null;
}

const envelope = z.object({ items: z.array(z.looseObject({ id: z.string(), hlc: z.string() })), next_cursor: z.nullable(z.string()) });

export class ActivityFeed implements ReactiveController {
  items: readonly ActivityEntry[] = [];
  /** Cursor of the next older page; null: all loaded; undefined: the first page is not in yet. */
  next: string | null | undefined = undefined;
  error: string | null = null;
  private query: FeedQuery | null = null;
  private key = '';
  private generation = 0;
  private busy = false;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    // Nothing until a query is set.
  }

  hostDisconnected(): void {
    this.generation++;
    this.busy = false;
  }

  /** Whether more items exist than are held, and none will be asked for (the bound). */
  get capped(): boolean {
    return this.next !== null && this.next !== undefined && this.items.length >= MAX_FEED_ITEMS;
  }

  /** Whether an older page can be asked for now. */
  get hasOlder(): boolean {
    return this.next !== null && this.next !== undefined && !this.capped;
  }

  /** Shows `q` from its newest page (nothing happens when `q` is the current query, unless `afresh`). */
  setQuery(q: FeedQuery, afresh = false): void {
    const key = JSON.stringify(q);
    if (key === this.key && !afresh) return;
    this.key = key;
    this.query = q;
    this.generation++;
    this.busy = false;
    this.items = [];
    this.next = undefined;
    this.error = null;
    this.host.requestUpdate();
    void this.fetch(undefined);
  }

  /** Re-reads the newest page and puts what is new on top. */
  refresh(): void {
    if (this.query !== null && this.next !== undefined) void this.fetch(undefined);
  }

  /** Reads the next older page, if there is one and no read is under way. */
  loadOlder(): void {
    if (this.hasOlder && !this.busy) void this.fetch(this.next ?? undefined);
  }

  private path(q: FeedQuery, cursor: string | undefined): string {
    const p = new URLSearchParams({ limit: String(FEED_PAGE) });
    if (cursor !== undefined) p.set('cursor', cursor);
    if (q.task !== null) return `/tasks/${seg(q.task)}/history?${p.toString()}`;
    if (q.kinds !== null) p.set('kinds', q.kinds.join(','));
    return `/activity?${p.toString()}`;
  }

  private async fetch(cursor: string | undefined): Promise<void> {
    const q = this.query;
    if (q === null) return;
    const gen = this.generation;
    if (cursor !== undefined) this.busy = true;
    try {
      const body = await apiRequest('GET', this.path(q, cursor));
      if (gen !== this.generation) return;
      if (!envelope.safeParse(body).success) throw new Error('the daemon answered something that is not a page of activity');
      // The envelope is checked; items are the read-model of the daemon that served this page.
      const page = body as { items: ActivityEntry[]; next_cursor: string | null };
      this.error = null;
      if (cursor !== undefined) {
        const held = new Set(this.items.map((i) => i.id));
        this.items = [...this.items, ...page.items.filter((i) => !held.has(i.id))].slice(0, MAX_FEED_ITEMS);
        this.next = page.next_cursor;
      } else if (this.next === undefined) {
        this.items = page.items;
        this.next = page.next_cursor;
      } else {
        // A refresh: new items go on top. If the whole newest page is new, what lay between
        // it and the held items is unknown: start over from this page.
        const held = new Set(this.items.map((i) => i.id));
        const fresh = page.items.filter((i) => !held.has(i.id));
        if (fresh.length === page.items.length && page.next_cursor !== null && this.items.length > 0) {
          this.items = page.items;
          this.next = page.next_cursor;
        } else {
          this.items = [...fresh, ...this.items].slice(0, MAX_FEED_ITEMS);
        }
      }
    } catch (e) {
      if (gen !== this.generation) return;
      this.error = e instanceof Error ? e.message : String(e);
      if (this.next === undefined) this.next = null;
    } finally {
      if (gen === this.generation) {
        this.busy = false;
        this.host.requestUpdate();
      }
    }
  }
}
