/**
 * Times as every side shows them: the CLI, the dashboard and the daemon agree on
 * how an HLC maps to a wall-clock instant and how "how long ago" reads. Pure, free
 * of Node built-ins (the dashboard bundles it).
 */

/** Digits of the physical (millisecond) part that starts every HLC (src/core/hlc.ts). */
const HLC_MS_DIGITS = 15;

/** Epoch milliseconds of an HLC `<15-digit ms>:<counter>:<machine>`, without validating the rest. */
export function hlcMs(hlc: string): number {
  return Number(hlc.slice(0, HLC_MS_DIGITS));
}

/** "45s", "12m", "3h5m", "2d" for a number of seconds (negative counts as 0). */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${s % 3600 >= 60 ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86_400)}d`;
}

/** "12m ago" for an ISO time; "never" for none, "unknown" for text that is not a time. */
export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (iso === null || iso === undefined) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  return `${duration((now - t) / 1000)} ago`;
}
