/** Small display helpers: durations, relative times, short ids. */

export { ago, duration, hlcMs } from '../protocol/time.js';

/** Seconds since an ISO time, null if unknown. */
export function secondsSince(iso: string | null, now: number): number | null {
  if (iso === null) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, (now - t) / 1000);
}

/** Local date and time for tooltips. */
export function stamp(iso: string | null): string {
  if (iso === null) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export const STATUS_LABELS = { open: 'Open', in_progress: 'In progress', blocked: 'Blocked', done: 'Done' } as const;
