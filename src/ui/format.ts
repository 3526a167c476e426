/** Small display helpers: durations, relative times, short ids. */

/** "45s", "12m", "3h", "2d" for a number of seconds. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${s % 3600 >= 60 ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86_400)}d`;
}

/** "12m ago" for an ISO time, "never" for null. */
export function ago(iso: string | null, now: number): string {
  if (iso === null) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  return `${duration((now - t) / 1000)} ago`;
}

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

/** Epoch ms of an HLC `<15-digit ms>:<counter>:<machine>`. */
export function hlcMs(hlc: string): number {
  return Number(hlc.slice(0, 15));
}

export const STATUS_LABELS = { open: 'Open', in_progress: 'In progress', blocked: 'Blocked', done: 'Done' } as const;
