/**
 * The event log: the only truth. Local writes `append`, remote batches `ingest`;
 * both insert events and apply them to the projections in one transaction, so the
 * projections always equal a replay of the events held.
 */
import { z } from 'zod';
import type { Db } from './db.js';
import { ClareError } from './errors.js';
import { checkPayload, EVENT_CATALOG, type EventDraft } from './events/catalog.js';
import { envelopeSchema, MAX_PAYLOAD_BYTES, type EventEnvelope } from './events/envelope.js';
import { parseHlc, type Hlc, type HybridClock } from './hlc.js';
import { newEventId, type EventId, type MachineId } from './ids.js';
import { applyEvent, type Change } from './projections/apply-event.js';
import { cachedStatement as stmt } from './projections/registers.js';

/** Highest HLC held per origin machine. An origin absent from the map: nothing held. */
export type Watermarks = Readonly<Record<string, Hlc>>;

export interface Committed {
  /** Events newly stored, in the order they were applied. */
  readonly events: readonly EventEnvelope[];
  /** Projection entities touched by them (for live pushes). */
  readonly changes: readonly Change[];
}

export interface IngestResult extends Committed {
  /** Events we already had (uuid dedup): no-ops, not errors. */
  readonly duplicates: number;
  /** New events stored and relayed but not applied (unknown type or newer version). */
  readonly skipped: number;
}

interface EventRow { seq: number; id: string; hlc: string; origin: string; type: string; v: number; payload: string }

function rowToEnvelope(r: EventRow): EventEnvelope {
  return { id: r.id as EventId, hlc: r.hlc as Hlc, origin: r.origin as MachineId, type: r.type, v: r.v, payload: JSON.parse(r.payload) as Record<string, unknown> };
}

/** Inserts one event row and applies it; returns null if the uuid was already held. */
function store(db: Db, e: EventEnvelope, payloadJson: string, draft: EventDraft | null, skipReason: string | null, changes: Change[]): boolean {
  const ins = stmt(db, 'INSERT OR IGNORE INTO events (id, hlc, origin, type, v, payload) VALUES (?, ?, ?, ?, ?, ?)')
    .run(e.id, e.hlc, e.origin, e.type, e.v, payloadJson);
  if (ins.changes === 0) return false;
  if (draft !== null) {
    changes.push(...applyEvent(db, { id: e.id, hlc: e.hlc, origin: e.origin, draft }));
  } else {
    stmt(db, 'INSERT OR IGNORE INTO skipped_events (event_id, type, v, reason) VALUES (?, ?, ?, ?)').run(e.id, e.type, e.v, skipReason);
  }
  return true;
}

/** Raises each origin's watermark to the batch's newest HLC from it. */
function bumpWatermarks(db: Db, events: readonly EventEnvelope[]): void {
  const top = new Map<string, { hlc: string; n: number }>();
  for (const e of events) {
    const t = top.get(e.origin);
    if (t === undefined) top.set(e.origin, { hlc: e.hlc, n: 1 });
    else top.set(e.origin, { hlc: e.hlc > t.hlc ? e.hlc : t.hlc, n: t.n + 1 });
  }
  const up = stmt(db, `INSERT INTO watermarks (origin, hlc, count) VALUES (?, ?, ?)
    ON CONFLICT (origin) DO UPDATE SET hlc = max(hlc, excluded.hlc), count = count + excluded.count`);
  for (const [origin, t] of top) up.run(origin, t.hlc, t.n);
}

/**
 * Appends local events, stamped with fresh HLC ticks, in one transaction (all or
 * nothing). Every draft is parsed first, as peers will parse it (`parseDraft`).
 */
export function appendMany(db: Db, clock: HybridClock, drafts: readonly EventDraft[]): Committed {
  const parsed = drafts.map(parseDraft);
  return db.transaction(() => {
    const events: EventEnvelope[] = [];
    const changes: Change[] = [];
    for (const d of parsed) {
      const e: EventEnvelope = { id: newEventId(), hlc: clock.tick(), origin: clock.machine, type: d.type, v: EVENT_CATALOG[d.type].v, payload: d.payload };
      store(db, e, JSON.stringify(d.payload), d, null, changes);
      events.push(e);
    }
    bumpWatermarks(db, events);
    return { events, changes };
  })();
}

/**
 * Parses a local draft exactly as a peer will parse the event: a payload peers would
 * refuse must not enter the log (it would sink every sync batch it rides in), and
 * peers store the normalised payload (trimmed, instants in UTC), so we must too or
 * the projections diverge. Throws CLARE_VALIDATION; nothing is written.
 */
function parseDraft(d: EventDraft, index: number): EventDraft {
  const c = checkPayload(d.type, EVENT_CATALOG[d.type].v, d.payload);
  if (c.kind === 'known') return c.draft;
  const why = c.kind === 'invalid' ? c.message.replace(/\n/g, '; ') : c.reason;
  throw new ClareError('CLARE_VALIDATION', `draft #${index} (${d.type}) refused: ${why}; nothing was written`, { index, type: d.type });
}

/** Appends one local event in its own transaction. */
export function append(db: Db, clock: HybridClock, draft: EventDraft): Committed {
  return appendMany(db, clock, [draft]);
}

interface Checked { e: EventEnvelope; json: string; draft: EventDraft | null; skip: string | null }

/**
 * Validates a remote batch completely before writing anything. Throws CLARE_BAD_EVENT
 * (or CLARE_HLC_SKEW) naming the first bad event's index and id.
 */
export function validateBatch(clock: HybridClock, raw: readonly unknown[]): Checked[] {
  const out: Checked[] = [];
  raw.forEach((item, index) => {
    const id = typeof item === 'object' && item !== null && 'id' in item ? String((item).id).slice(0, 40) : '?';
    const fail = (msg: string): never => {
      throw new ClareError('CLARE_BAD_EVENT', `event #${index} (id ${id}) refused: ${msg}; nothing from this batch was written`, { index, id });
    };
    const env = envelopeSchema.safeParse(item);
    if (!env.success) return fail(z.prettifyError(env.error).replace(/\n/g, '; '));
    const e = env.data;
    const hlc = parseHlc(e.hlc);
    if (hlc.machine !== e.origin) return fail(`hlc machine ${hlc.machine} is not the origin ${e.origin}`);
    try {
      clock.checkSkew(hlc);
    } catch (err) {
      if (err instanceof ClareError) throw new ClareError(err.code, `event #${index} (id ${id}) refused: ${err.message}; nothing from this batch was written`, { ...err.details, index, id });
      throw err;
    }
    const c = checkPayload(e.type, e.v, e.payload);
    if (c.kind === 'invalid') return fail(c.message.replace(/\n/g, '; '));
    // Current versions are stored (and relayed) as parsed, not as received: the schemas
    // normalise (trimmed names, instants in UTC) and rebuild trusts stored current-version
    // payloads, so what is stored must be exactly what was applied. Older versions stay as
    // received (rebuild upcasts them through the same schemas); unknown ones are opaque.
    const asParsed = c.kind === 'known' && e.v === EVENT_CATALOG[c.draft.type].v;
    const payload: Record<string, unknown> = asParsed ? c.draft.payload : e.payload;
    const json = JSON.stringify(payload);
    if (json.length > MAX_PAYLOAD_BYTES) return fail(`payload is ${json.length} bytes, over the ${MAX_PAYLOAD_BYTES} limit`);
    out.push({ e: asParsed ? { ...e, payload } : e, json, draft: c.kind === 'known' ? c.draft : null, skip: c.kind === 'unknown' ? c.reason : null });
  });
  return out;
}

/**
 * Ingests a batch of remote events: validated whole first (one bad event refuses the
 * batch, nothing written), then stored and applied in one transaction with uuid
 * dedup. Our clock receives the newest stamp so later local events sort after them.
 */
export function ingest(db: Db, clock: HybridClock, raw: readonly unknown[]): IngestResult {
  const checked = validateBatch(clock, raw);
  const result = db.transaction(() => {
    const events: EventEnvelope[] = [];
    const changes: Change[] = [];
    let duplicates = 0;
    let skipped = 0;
    for (const c of checked) {
      if (store(db, c.e, c.json, c.draft, c.skip, changes)) {
        events.push(c.e);
        if (c.draft === null) skipped++;
      } else {
        duplicates++;
      }
    }
    bumpWatermarks(db, events);
    return { events, changes, duplicates, skipped };
  })();
  let newest: Hlc | null = null;
  for (const c of checked) if (newest === null || c.e.hlc > newest) newest = c.e.hlc;
  if (newest !== null) clock.receive(newest);
  return result;
}

/** Per-origin watermarks, read from the store. */
export function watermarks(db: Db): Record<string, Hlc> {
  const rows = stmt(db, 'SELECT origin, hlc FROM watermarks ORDER BY origin').all() as { origin: string; hlc: string }[];
  const out: Record<string, Hlc> = {};
  for (const r of rows) out[r.origin] = r.hlc as Hlc;
  return out;
}

/** Per-origin event counts. */
export function originCounts(db: Db): Record<string, number> {
  const rows = stmt(db, 'SELECT origin, count FROM watermarks ORDER BY origin').all() as { origin: string; count: number }[];
  return Object.fromEntries(rows.map((r) => [r.origin, r.count]));
}

export function eventCount(db: Db): number {
  return (stmt(db, 'SELECT coalesce(sum(count), 0) AS n FROM watermarks').get() as { n: number }).n;
}

/** The newest HLC in the store (to seed the clock at start-up), or null when empty. */
export function newestHlc(db: Db): Hlc | null {
  const r = stmt(db, 'SELECT max(hlc) AS h FROM watermarks').get() as { h: string | null };
  return r.h as Hlc | null;
}

/**
 * An event as stored, payload left as its stored JSON text. Relaying these
 * (replication batches) splices the text into the outgoing frame instead of
 * parsing and re-serialising every payload.
 */
export interface RawEvent {
  readonly id: EventId;
  readonly hlc: Hlc;
  readonly origin: MachineId;
  readonly type: string;
  readonly v: number;
  /** The payload's JSON text, exactly as stored (a JSON object). */
  readonly payload: string;
}

/**
 * Events the holder of `theirs` lacks: for every origin we hold, those after their
 * watermark for it (all of them if they have none), merged in HLC order, at most
 * `limit`. Per origin the order is HLC order, so a receiver that ingests a prefix of
 * the answer still holds a gap-free prefix of each origin's events.
 */
export function eventsAfter(db: Db, theirs: Watermarks, limit: number): EventEnvelope[] {
  return eventsAfterRows(db, theirs, limit, undefined).map(rowToEnvelope);
}

/**
 * `eventsAfter` with payloads left as stored JSON text, restricted to the origins
 * `include` accepts (all when omitted). Same ordering and prefix guarantees.
 */
export function eventsAfterRaw(db: Db, theirs: Watermarks, limit: number, include?: (origin: string) => boolean): RawEvent[] {
  return eventsAfterRows(db, theirs, limit, include).map(rowToRaw);
}

function rowToRaw(r: EventRow): RawEvent {
  return { id: r.id as EventId, hlc: r.hlc as Hlc, origin: r.origin as MachineId, type: r.type, v: r.v, payload: r.payload };
}

function eventsAfterRows(db: Db, theirs: Watermarks, limit: number, include: ((origin: string) => boolean) | undefined): EventRow[] {
  const q = stmt(db, 'SELECT seq, id, hlc, origin, type, v, payload FROM events WHERE origin = ? AND hlc > ? ORDER BY hlc LIMIT ?');
  const lists: EventRow[][] = [];
  for (const [origin, ours] of Object.entries(watermarks(db))) {
    const after = theirs[origin] ?? '';
    // Nothing newer than what they hold: skip the query (the common case when live).
    if (ours <= after || (include !== undefined && !include(origin))) continue;
    const rows = q.all(origin, after, limit) as EventRow[];
    if (rows.length > 0) lists.push(rows);
  }
  return mergeByHlc(lists, limit);
}

function mergeByHlc(lists: EventRow[][], limit: number): EventRow[] {
  if (lists.length === 1) return lists[0]!.slice(0, limit);
  const out: EventRow[] = [];
  const idx = lists.map(() => 0);
  while (out.length < limit) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const r = lists[i]![idx[i]!];
      if (r !== undefined && (best < 0 || r.hlc < lists[best]![idx[best]!]!.hlc)) best = i;
    }
    if (best < 0) break;
    out.push(lists[best]![idx[best]!]!);
    idx[best]! += 1;
  }
  return out;
}

/** Events with an HLC greater than `since` (all if null), in HLC order: the first version's paging. */
export function eventsSince(db: Db, since: Hlc | null, limit: number): EventEnvelope[] {
  const rows = stmt(db, 'SELECT seq, id, hlc, origin, type, v, payload FROM events WHERE hlc > ? ORDER BY hlc LIMIT ?').all(since ?? '', limit) as EventRow[];
  return rows.map(rowToEnvelope);
}

/** Number of events we hold that the holder of `theirs` lacks, per origin (lag). */
export function lagBehind(db: Db, theirs: Watermarks): Record<string, number> {
  const q = stmt(db, 'SELECT count(*) AS n FROM events WHERE origin = ? AND hlc > ?');
  const out: Record<string, number> = {};
  for (const origin of Object.keys(watermarks(db))) {
    const n = (q.get(origin, theirs[origin] ?? '') as { n: number }).n;
    if (n > 0) out[origin] = n;
  }
  return out;
}
