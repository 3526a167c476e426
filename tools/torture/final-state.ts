/**
 * Reading the daemons' final databases (copies taken after they stopped) and
 * explaining differences: which projection rows differ between daemons, and the
 * shortest history that shows it — the events that wrote or name the differing
 * row, in HLC order, with which daemon holds which.
 */
import Database from 'better-sqlite3';
import { PROJECTION_TABLES } from '../../src/core/schema.js';

export interface StoredEvent {
  readonly id: string;
  readonly hlc: string;
  readonly origin: string;
  readonly type: string;
  readonly payload: string;
}

export interface Snapshot {
  readonly name: string;
  readonly machineId: string;
  readonly events: ReadonlyMap<string, StoredEvent>;
  /** Per digested projection table: key → row as JSON text. */
  readonly rows: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly receipts: readonly { update_id: string; host: string; session: string; status: string | null; detail: string | null }[];
}

/** Loads a stopped daemon's database copy (read-only). */
export function loadSnapshot(name: string, machineId: string, file: string): Snapshot {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const events = new Map<string, StoredEvent>();
    for (const e of db.prepare('SELECT id, hlc, origin, type, payload FROM events').iterate() as Iterable<StoredEvent>) events.set(e.id, e);
    const rows = new Map<string, Map<string, string>>();
    for (const t of PROJECTION_TABLES) {
      if (!t.digest) continue;
      const keys = t.key.split(',').map((k) => k.trim());
      const m = new Map<string, string>();
      for (const r of db.prepare(`SELECT * FROM ${t.name} ORDER BY ${t.key}`).iterate() as Iterable<Record<string, unknown>>) {
        m.set(JSON.stringify(keys.map((k) => r[k])), JSON.stringify(r));
      }
      rows.set(t.name, m);
    }
    const receipts = db.prepare('SELECT update_id, host, session, status, detail FROM receipts').all() as Snapshot['receipts'];
    return { name, machineId, events, rows, receipts };
  } finally {
    db.close();
  }
}

export interface DifferingRow {
  readonly table: string;
  /** The row's key values. */
  readonly key: readonly unknown[];
  /** Node → the row there (null: absent). */
  readonly values: Readonly<Record<string, unknown>>;
}

/** Rows of digested projections that are not identical on every node. */
export function differingRows(snaps: readonly Snapshot[]): DifferingRow[] {
  const out: DifferingRow[] = [];
  for (const t of PROJECTION_TABLES) {
    if (!t.digest) continue;
    const keys = new Set<string>();
    for (const s of snaps) for (const k of s.rows.get(t.name)?.keys() ?? []) keys.add(k);
    for (const k of keys) {
      const vals = snaps.map((s) => s.rows.get(t.name)?.get(k) ?? null);
      if (vals.every((v) => v === vals[0])) continue;
      const values: Record<string, unknown> = {};
      snaps.forEach((s, i) => {
        values[s.name] = vals[i] === null ? null : JSON.parse(vals[i]!);
      });
      out.push({ table: t.name, key: JSON.parse(k) as unknown[], values });
    }
  }
  return out;
}

export interface HistoryLine {
  readonly hlc: string;
  readonly id: string;
  readonly type: string;
  /** The origin's node name (or machine id when unknown). */
  readonly origin: string;
  readonly held_by: readonly string[];
  readonly missing_on: readonly string[];
  readonly payload: string;
}

/** Every event held anywhere, by id. */
export function unionOfEvents(snaps: readonly Snapshot[]): Map<string, StoredEvent> {
  const all = new Map<string, StoredEvent>();
  for (const s of snaps) for (const [id, e] of s.events) if (!all.has(id)) all.set(id, e);
  return all;
}

/** The events, in HLC order, each with the nodes that hold it and those that lack it. */
export function historyOf(events: readonly StoredEvent[], snaps: readonly Snapshot[]): HistoryLine[] {
  const names = new Map(snaps.map((s) => [s.machineId, s.name]));
  return [...events].sort((a, b) => (a.hlc < b.hlc ? -1 : a.hlc > b.hlc ? 1 : 0)).map((e) => ({
    hlc: e.hlc,
    id: e.id,
    type: e.type,
    origin: names.get(e.origin) ?? e.origin,
    held_by: snaps.filter((s) => s.events.has(e.id)).map((s) => s.name),
    missing_on: snaps.filter((s) => !s.events.has(e.id)).map((s) => s.name),
    payload: e.payload.length > 240 ? `${e.payload.slice(0, 240)}…` : e.payload,
  }));
}

/**
 * The events behind a differing row: those whose HLC one of the row's `*_hlc`
 * registers holds on some node, and those whose payload names every key value.
 */
export function eventsBehind(row: DifferingRow, all: ReadonlyMap<string, StoredEvent>): StoredEvent[] {
  const hlcs = new Set<string>();
  for (const v of Object.values(row.values)) {
    if (v === null || typeof v !== 'object') continue;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if ((k.endsWith('_hlc') || k === 'hlc') && typeof x === 'string') hlcs.add(x);
  }
  const needles = row.key.filter((k): k is string => typeof k === 'string').map((k) => JSON.stringify(k));
  const out: StoredEvent[] = [];
  for (const e of all.values()) {
    if (hlcs.has(e.hlc) || (needles.length > 0 && needles.every((n) => e.payload.includes(n)))) out.push(e);
  }
  return out;
}

export interface Explained {
  readonly row: DifferingRow;
  readonly history: HistoryLine[];
}

/** The differing rows explained, shortest history first (at most `limit`). */
export function explainDifferences(snaps: readonly Snapshot[], limit = 5): { count: number; shortest: Explained[] } {
  const rows = differingRows(snaps);
  const all = unionOfEvents(snaps);
  const explained = rows.map((row) => ({ row, history: historyOf(eventsBehind(row, all), snaps) }));
  explained.sort((a, b) => (a.history.length === 0 ? 1 : 0) - (b.history.length === 0 ? 1 : 0) || a.history.length - b.history.length);
  return { count: rows.length, shortest: explained.slice(0, limit) };
}

/** One history as text lines (for the console). */
export function formatHistory(h: readonly HistoryLine[], max = 12): string[] {
  const lines = h.slice(0, max).map((l) =>
    `    ${l.hlc.slice(0, 24)} ${l.type.padEnd(22)} from ${l.origin.padEnd(7)} held by [${l.held_by.join(',')}]${l.missing_on.length > 0 ? ` MISSING on [${l.missing_on.join(',')}]` : ''} ${l.payload.slice(0, 100)}`);
  if (h.length > max) lines.push(`    … ${h.length - max} more (see the report)`);
  return lines;
}
