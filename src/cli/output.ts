/** Printing: aligned tables for people, JSON for scripts and agents. */
import { shortId } from '../protocol/short-id.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as a table with a header; columns are padded to their widest cell. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[], empty = '(none)'): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
}

/** An id as the CLI shows it (short-id.ts): unique among `among`, the ids printed with it. */
export function short(id: string | null | undefined, among: Iterable<string> = []): string {
  return id == null ? '-' : shortId(id, among);
}

/** "3m", "2h", "5d" — how long ago an ISO time was. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (iso == null) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}
