/**
 * The orders of the board's columns, exactly as the daemon pages them (GET /tasks
 * `order=urgency` and `order=recent`), so the page can tell whether a task it holds
 * lies within what it has loaded of a column.
 */
import type { Task, TaskStatus } from '../../protocol/models.js';

export type ColumnOrder = 'urgency' | 'recent';

/** Open work by urgency (priority, then oldest); done work newest first. */
export const COLUMN_ORDER_OF: Readonly<Record<TaskStatus, ColumnOrder>> = { open: 'urgency', in_progress: 'urgency', blocked: 'urgency', done: 'recent' };

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Negative when `a` comes first in `order`. The daemon keys on the millisecond and the id. */
export function compareTasks(order: ColumnOrder, a: Task, b: Task): number {
  if (order === 'urgency') return a.priority - b.priority || Date.parse(a.created_at) - Date.parse(b.created_at) || cmp(a.id, b.id);
  return Date.parse(b.status_at) - Date.parse(a.status_at) || cmp(b.id, a.id);
}

/** ASCII-only lower case: the daemon's `q` (SQL LIKE) folds only A–Z. */
const fold = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Whether a title matches a search as GET /tasks?q= does (substring, ASCII case-insensitive). */
export function titleMatches(title: string, q: string): boolean {
  return q === '' || fold(title).includes(fold(q));
}
