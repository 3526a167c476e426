/**
 * The event log: the only truth. Local writes `append`, remote batches `ingest`;
 * both insert events and apply them to the projections in one transaction, so the
 * projections always equal a replay of the events held.
 */
import { z } from 'zod';
import { cachedStatement as stmt, type Db } from './db.js';
import { ClareError } from './errors.js';
import { addDigest, eventHash } from './event-digest.js';
import { checkPayload, EVENT_CATALOG, type EventDraft } from './events/catalog.js';
import { envelopeSchema, MAX_PAYLOAD_BYTES, MAX_PAYLOAD_DEPTH, type EventEnvelope } from './events/envelope.js';
import { parseHlc, type Hlc, type HybridClock } from './hlc.js';
import { tooDeep, valueDepth } from './json-bounds.js';
import { newEventId, trustedEventId, trustedHlc, trustedMachineId, type EventId, type MachineId } from './ids.js';
import { applyEvent, type Change } from './projections/apply-event.js';

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
  return { id: trustedEventId(r.id), hlc: trustedHlc(r.hlc), origin: trustedMachineId(r.origin), type: r.type, v: r.v, payload: JSON.parse(r.payload) as Record<string, unknown> };
}

/** An event stored by this transaction, with its hash (for the origin's digest). */
interface Stored { readonly e: EventEnvelope; readonly h: bigint }

interface HeldRow { id: string; hlc: string; origin: string; type: string; v: number; payload: string }

/**
 * Inserts one event row and applies it. Returns its hash, or null when the very
 * same event (same id, hlc, origin, type, v and payload) is already held. An id
 * held with other content, or an hlc held under another id, throws
 * CLARE_IDENTITY_CONFLICT naming both events; the caller's transaction then
 * rolls back, so the whole batch writes nothing.
 *
 * `maybeHeld`: the event is stamped at or below what we hold of its origin, so it
 * is probably a repeat; it is then looked up first and compared field by field
 * (the payload text included), which costs one index lookup and no hash. Events
 * above the watermark (the normal case) go straight to the insert: an ignored
 * insert is the only sign of a held id or hlc, and only then is anything compared.
 */
function store(db: Db, e: EventEnvelope, payloadJson: string, draft: EventDraft | null, skipReason: string | null, changes: Change[], index: number, maybeHeld: boolean): bigint | null {
  if (maybeHeld) {
    const held = heldById(db, e.id);
    if (held !== undefined) {
      if (sameEvent(held, e, payloadJson)) return null;
      throw identityConflict(e, held, index, 'its id is held with other content');
    }
  }
  const h = eventHash(e.id, e.hlc, e.origin, e.type, e.v, payloadJson);
  const ins = stmt(db, 'INSERT OR IGNORE INTO events (id, hlc, origin, type, v, payload, h) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(e.id, e.hlc, e.origin, e.type, e.v, payloadJson, h);
  if (ins.changes === 0) {
    // Only an id or hlc already held is ignored (every other column is validated), so
    // this path costs one or two index lookups on duplicates and nothing on new events.
    checkIdentity(db, e, payloadJson, index);
    return null;
  }
  if (draft !== null) {
    changes.push(...applyEvent(db, { id: e.id, hlc: e.hlc, origin: e.origin, draft }));
  } else {
    stmt(db, 'INSERT OR IGNORE INTO skipped_events (event_id, type, v, reason) VALUES (?, ?, ?, ?)').run(e.id, e.type, e.v, skipReason);
  }
  return h;
}

function heldById(db: Db, id: string): HeldRow | undefined {
  return stmt(db, 'SELECT id, hlc, origin, type, v, payload FROM events WHERE id = ?').get(id) as HeldRow | undefined;
}

/** The held row is this very event: every field, the stored payload text included (what `h` hashes). */
function sameEvent(held: HeldRow, e: EventEnvelope, payloadJson: string): boolean {
  return held.hlc === e.hlc && held.origin === e.origin && held.type === e.type && held.v === e.v && held.payload === payloadJson;
}

/** Throws CLARE_IDENTITY_CONFLICT unless the held event with `e`'s id is `e` itself. */
function checkIdentity(db: Db, e: EventEnvelope, payloadJson: string, index: number): void {
  const byId = heldById(db, e.id);
  if (byId !== undefined) {
    if (sameEvent(byId, e, payloadJson)) return;
    throw identityConflict(e, byId, index, 'its id is held with other content');
  }
  const byHlc = stmt(db, 'SELECT id, hlc, origin, type, v, payload FROM events WHERE hlc = ?').get(e.hlc) as HeldRow | undefined;
  if (byHlc === undefined) throw new Error(`insert of event ${e.id} was ignored, yet neither its id nor its hlc is held`);
  throw identityConflict(e, byHlc, index, 'its hlc is held under another event id');
}

function identityConflict(e: EventEnvelope, held: HeldRow, index: number, why: string): ClareError {
  return new ClareError('CLARE_IDENTITY_CONFLICT',
    `event #${index} (id ${e.id}, hlc ${e.hlc}, ${e.type}) conflicts with the held event ${held.id} (hlc ${held.hlc}, ${held.type}): ${why}. `
    + `Two different events claim one identity: machine ${e.origin} is probably a clone of another machine, or runs on a restored backup under a live machine id `
    + '(see docs/operations.md, "Identity conflicts"); nothing from this batch was written',
    { index, incoming: { id: e.id, hlc: e.hlc, origin: e.origin, type: e.type }, held: { id: held.id, hlc: held.hlc, origin: held.origin, type: held.type } });
}

/** Raises each origin's watermark to the batch's newest HLC from it, and adds the batch to its count and digest. */
function bumpWatermarks(db: Db, stored: readonly Stored[]): void {
  const top = new Map<string, { hlc: string; n: number; sum: bigint }>();
  for (const { e, h } of stored) {
    const t = top.get(e.origin);
    if (t === undefined) top.set(e.origin, { hlc: e.hlc, n: 1, sum: h });
    else top.set(e.origin, { hlc: e.hlc > t.hlc ? e.hlc : t.hlc, n: t.n + 1, sum: addDigest(t.sum, h) });
  }
  // The digest wraps modulo 2^64, which SQLite's integer + cannot do (it turns to REAL): add here.
  const cur = stmt(db, 'SELECT digest FROM watermarks WHERE origin = ?').safeIntegers(true);
  const up = stmt(db, `INSERT INTO watermarks (origin, hlc, count, digest) VALUES (?, ?, ?, ?)
    ON CONFLICT (origin) DO UPDATE SET hlc = max(hlc, excluded.hlc), count = count + excluded.count, digest = excluded.digest`);
  for (const [origin, t] of top) {
    const held = cur.get(origin) as { digest: bigint } | undefined;
    up.run(origin, t.hlc, t.n, addDigest(held?.digest ?? 0n, t.sum));
  }
}

/**
 * Appends local events, stamped with fresh HLC ticks, in one transaction (all or
 * nothing). Every draft is parsed first, as peers will parse it (`parseDraft`).
 */
export function appendMany(db: Db, clock: HybridClock, drafts: readonly EventDraft[]): Committed {
  const parsed = drafts.map(parseDraft);
  return db.transaction(() => {
    const events: EventEnvelope[] = [];
    const stored: Stored[] = [];
    const changes: Change[] = [];
    parsed.forEach((d, index) => {
      const e: EventEnvelope = { id: newEventId(), hlc: clock.tick(), origin: clock.machine, type: d.type, v: EVENT_CATALOG[d.type].v, payload: d.payload };
      const h = store(db, e, JSON.stringify(d.payload), d, null, changes, index, false);
      // A fresh uuid and a tick above every stamp held: never a duplicate.
      if (h === null) throw new Error(`local event ${e.id} was already held`);
      events.push(e);
      stored.push({ e, h });
    });
    bumpWatermarks(db, stored);
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
    // Before anything walks it recursively (zod, JSON.stringify): the event object adds one level to its payload's.
    if (valueDepth(item, MAX_PAYLOAD_DEPTH + 1) > MAX_PAYLOAD_DEPTH + 1) {
      const err = tooDeep(`event #${index} (id ${id}): its payload`, MAX_PAYLOAD_DEPTH);
      throw new ClareError(err.code, `${err.message.replace('; nothing was written', '')}; nothing from this batch was written`, { ...err.details, index, id });
    }
    // JSON.parse makes a "__proto__" key an own key, but validation copies the payload into a
    // fresh object, where assigning "__proto__" sets the prototype instead: the store would keep
    // other content than its origin sent (and another hash). Refused, as the origin's store refuses it.
    const sent = typeof item === 'object' && item !== null ? (item as { payload?: unknown }).payload : undefined;
    if (typeof sent === 'object' && sent !== null && Object.hasOwn(sent, '__proto__')) {
      return fail('its payload has a "__proto__" key, which no event type has and which would not be kept as data');
    }
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
 * dedup. An event whose id is held with other content, or whose hlc is held under
 * another id, refuses the batch with CLARE_IDENTITY_CONFLICT (nothing written).
 * Our clock receives the newest stamp so later local events sort after them.
 */
export function ingest(db: Db, clock: HybridClock, raw: readonly unknown[]): IngestResult {
  const checked = validateBatch(clock, raw);
  const result = db.transaction(() => {
    const events: EventEnvelope[] = [];
    const stored: Stored[] = [];
    const changes: Change[] = [];
    let duplicates = 0;
    let skipped = 0;
    // What we hold of each origin, raised as the batch is stored: an event at or below it may be a repeat.
    const top = new Map(Object.entries(watermarks(db)));
    checked.forEach((c, index) => {
      const held = top.get(c.e.origin);
      const h = store(db, c.e, c.json, c.draft, c.skip, changes, index, held !== undefined && c.e.hlc <= held);
      if (held === undefined || c.e.hlc > held) top.set(c.e.origin, c.e.hlc);
      if (h !== null) {
        events.push(c.e);
        stored.push({ e: c.e, h });
        if (c.draft === null) skipped++;
      } else {
        duplicates++;
      }
    });
    bumpWatermarks(db, stored);
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
  for (const r of rows) out[r.origin] = trustedHlc(r.hlc);
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
  return r.h === null ? null : trustedHlc(r.h);
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
  return { id: trustedEventId(r.id), hlc: trustedHlc(r.hlc), origin: trustedMachineId(r.origin), type: r.type, v: r.v, payload: r.payload };
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
  const [only] = lists;
  if (lists.length === 1 && only !== undefined) return only.slice(0, limit);
  const out: EventRow[] = [];
  const idx = lists.map(() => 0);
  while (out.length < limit) {
    let best: EventRow | undefined;
    let bestList = -1;
    for (let i = 0; i < lists.length; i++) {
      const r = lists[i]?.[idx[i] ?? 0];
      if (r !== undefined && (best === undefined || r.hlc < best.hlc)) {
        best = r;
        bestList = i;
      }
    }
    if (best === undefined) break;
    out.push(best);
    idx[bestList] = (idx[bestList] ?? 0) + 1;
  }
  return out;
}

/** Events with an HLC greater than `since` (all if null), in HLC order: the first version's paging. */
export function eventsSince(db: Db, since: Hlc | null, limit: number): EventEnvelope[] {
  const rows = stmt(db, 'SELECT seq, id, hlc, origin, type, v, payload FROM events WHERE hlc > ? ORDER BY hlc LIMIT ?').all(since ?? '', limit) as EventRow[];
  return rows.map(rowToEnvelope);
}

/** True when the event with this id is held. */
export function holdsEvent(db: Db, id: string): boolean {
  return stmt(db, 'SELECT 1 FROM events WHERE id = ?').get(id) !== undefined;
}

/**
 * True when an event with this id, or any event stamped with this hlc, is held:
 * ingesting it is then a repeat or an identity conflict, which the store decides.
 */
export function holdsIdOrHlc(db: Db, id: string, hlc: string): boolean {
  return holdsEvent(db, id) || stmt(db, 'SELECT 1 FROM events WHERE hlc = ?').get(hlc) !== undefined;
}

/**
 * `origin`'s events with `after < hlc <= upto` (`after` '' = from its first), in HLC
 * order, at most `limit`, payloads as stored JSON text: what anti-entropy fetches
 * to fill a range whose summaries differ.
 */
export function rangeEventsRaw(db: Db, origin: string, after: string, upto: string, limit: number): RawEvent[] {
  const rows = stmt(db, 'SELECT seq, id, hlc, origin, type, v, payload FROM events WHERE origin = ? AND hlc > ? AND hlc <= ? ORDER BY hlc LIMIT ?')
    .all(origin, after, upto, limit) as EventRow[];
  return rows.map(rowToRaw);
}
