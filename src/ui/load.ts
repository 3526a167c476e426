/**
 * Asking for more of a list than the page holds. Views dispatch a LoadEvent
 * (bubbling, composed); the app shell fetches the next page through the API
 * (live/pager.ts) and merges it into the live state, which flows back down.
 */
import type { ListName, TaskContext } from './live/fleet-state.js';
import type { TaskStatus } from '../protocol/models.js';

export type LoadRequest =
  /** The board's columns for a context: its first pages, or with `status` the next page of that column. */
  | { readonly kind: 'columns'; readonly context: TaskContext; readonly status?: TaskStatus }
  /** The next page of a list. */
  | { readonly kind: 'list'; readonly list: ListName };

export class LoadEvent extends Event {
  static readonly eventName = 'clare-load';

  constructor(readonly request: LoadRequest) {
    super(LoadEvent.eventName, { bubbles: true, composed: true });
  }
}

export function requestLoad(from: EventTarget, request: LoadRequest): void {
  from.dispatchEvent(new LoadEvent(request));
}

declare global {
  interface HTMLElementEventMap {
    'clare-load': LoadEvent;
  }
}
