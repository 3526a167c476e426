/**
 * The HTTP fallback of replication, as plain functions the daemon's routes call
 * (`clare sync` runs the other side, http-sync-client.ts). Routes stay thin: they pass the
 * raw query or body here and turn a thrown ClareError into its HTTP status.
 *
 * - GET  /api/v1/sync/state                 → getSyncState
 * - GET  /api/v1/sync/events?since=<hlc>    → getSyncEvents (first version's paging)
 * - GET  /api/v1/sync/events?after=<hlc>,…  → getSyncEvents (per-origin catch-up)
 * - POST /api/v1/sync/events {events,base?} → postEvents
 */
import { z } from 'zod';
import { commitRemote, type StoreContext } from '../core/context.js';
import { digest } from '../core/digest.js';
import { eventSetDigest, originDigests } from '../core/event-digest.js';
import { hlcSchema } from '../core/domain.js';
import { ClareError } from '../core/errors.js';
import type { EventEnvelope } from '../core/events/envelope.js';
import type { Hlc } from '../core/hlc.js';
import type { MachineId } from '../core/ids.js';
import { eventCount, eventsAfterRaw, eventsSince, originCounts, watermarks, type RawEvent, type Watermarks } from '../core/store.js';
import { checkContinuity, heldInStore } from './batch-codec.js';
import { baseSchema } from '../protocol/sync/common.js';
import { describeIssues } from '../protocol/sync/frame.js';
import { DEFAULT_PAGE, MAX_PAGE, MAX_PAGE_BYTES, MAX_POST_EVENTS, parseAfter, type EventsAfterPage, type EventsSincePage, type PostEventsResult, type SyncState } from './http-sync-wire.js';

const limitSchema = z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE);

const sinceQuerySchema = z.object({
  since: z.union([z.literal(''), hlcSchema]).optional(),
  limit: limitSchema,
});

/** `after` is a comma-separated list of HLCs, one per origin (an HLC names its origin); empty: nothing held. */
const afterQuerySchema = z.object({
  after: z.string().max(1_000_000),
  limit: limitSchema,
});

const postBodySchema = z.object({
  events: z.array(z.unknown()).max(MAX_POST_EVENTS),
  /** Per origin, what the poster assumed we hold (see docs/protocol.md); checked when present. */
  base: baseSchema.optional(),
});

const stateQuerySchema = z.object({ projections: z.enum(['0', '1']).optional() });

function badRequest(what: string, err: z.ZodError): ClareError {
  return new ClareError('CLARE_BAD_REQUEST', `${what}: ${describeIssues(err)}`);
}

/**
 * GET /api/v1/sync/events, `since` form: events with an HLC greater than `since`
 * (all if absent), in HLC order, at most `limit` (default 1000, max 5000).
 * Throws CLARE_BAD_REQUEST on a bad query.
 *
 * A single global cursor misses events that reach the server later with older
 * HLCs (an offline machine's, relayed); catch-up should use the `after` form.
 */
export function getEventsSince(ctx: StoreContext, query: unknown): EventsSincePage {
  const q = sinceQuerySchema.safeParse(query ?? {});
  if (!q.success) throw badRequest('bad query', q.error);
  const since = q.data.since === undefined || q.data.since === '' ? null : q.data.since;
  const rows = eventsSince(ctx.db, since, q.data.limit + 1);
  const more = rows.length > q.data.limit;
  const events = more ? rows.slice(0, q.data.limit) : rows;
  return { events, next: more ? (events.at(-1)?.hlc ?? null) : null };
}

/**
 * GET /api/v1/sync/events, per-origin form: `after` lists, per origin, the newest
 * HLC the caller holds; the answer has, per origin, the events after it (all of
 * an origin it does not list), merged in HLC order, at most `limit`.
 * Throws CLARE_BAD_REQUEST on a bad query.
 */
export function getEventsAfter(ctx: StoreContext, query: unknown): EventsAfterPage {
  const q = afterQuerySchema.safeParse(query ?? {});
  if (!q.success) throw badRequest('bad query', q.error);
  const after = parseAfter(q.data.after);
  const rows = eventsAfterRaw(ctx.db, after, q.data.limit + 1);
  // Cut by bytes too: a prefix of the merged list keeps every origin's prefix, as `base` needs.
  let bytes = 0;
  let n = 0;
  for (const r of rows) {
    if (n >= q.data.limit || (n > 0 && bytes + r.payload.length > MAX_PAGE_BYTES)) break;
    bytes += r.payload.length;
    n++;
  }
  const more = rows.length > n;
  const events = rows.slice(0, n).map(rawToEnvelope);
  if (!more) return { events, next_watermarks: null };
  const next: Record<string, Hlc> = { ...after };
  for (const e of events) if ((next[e.origin] ?? '') < e.hlc) next[e.origin] = e.hlc;
  return { events, next_watermarks: next };
}

function rawToEnvelope(r: RawEvent): EventEnvelope {
  return { id: r.id, hlc: r.hlc, origin: r.origin, type: r.type, v: r.v, payload: JSON.parse(r.payload) as Record<string, unknown> };
}

/** GET /api/v1/sync/events: the `after` form when `after` is present, else the `since` form. */
export function getSyncEvents(ctx: StoreContext, query: unknown): EventsSincePage | EventsAfterPage {
  const hasAfter = typeof query === 'object' && query !== null && Object.hasOwn(query, 'after');
  return hasAfter ? getEventsAfter(ctx, query) : getEventsSince(ctx, query);
}

/**
 * POST /api/v1/sync/events: ingests `{ events, base? }` idempotently (uuid dedup)
 * and says what was new. All or nothing: a bad body throws CLARE_BAD_REQUEST, a
 * bad event CLARE_BAD_EVENT, a clock too far ahead CLARE_HLC_SKEW, a `base` that
 * would leave a gap CLARE_PROTOCOL — and then nothing is written.
 *
 * `source` names the sender for the commit feed (the SOURCE_HEADER value, or
 * e.g. `http` when absent).
 */
export function postEvents(ctx: StoreContext, body: unknown, source: string): PostEventsResult {
  const b = postBodySchema.safeParse(body);
  if (!b.success) throw badRequest('bad body', b.error);
  const ours = watermarks(ctx.db);
  const held = heldInStore(ctx.db, ours);
  const c = b.data.base !== undefined ? checkContinuity(ours, b.data.base, b.data.events, held) : continuesHeldPrefix(ours, b.data.events, held);
  if (!c.ok) throw c.error;
  const r = commitRemote(ctx, b.data.events, source);
  return { accepted: r.events.length, known: r.duplicates, skipped: r.skipped };
}

/**
 * The ordering rule for a POST without `base` (docs/protocol.md §5): every event
 * either is already held (a harmless repeat; the store checks it is the same
 * event, and refuses one that reuses a held id or hlc as an identity conflict),
 * or continues its origin's held prefix — after our watermark for the origin, in
 * strictly increasing HLC order. An event stamped at or below the watermark that
 * we lack is refused: accepted, it would sit below every peer's watermark and
 * never be replicated on.
 */
function continuesHeldPrefix(ours: Watermarks, events: readonly unknown[], held: (e: object) => boolean): ReturnType<typeof checkContinuity> {
  const base: Record<string, Hlc | null> = {};
  for (const e of events) {
    const { origin } = (typeof e === 'object' && e !== null ? e : {}) as { origin?: unknown };
    if (typeof origin === 'string') base[origin] = ours[origin] ?? null;
  }
  return checkContinuity(ours, base, events, held);
}

/**
 * GET /api/v1/sync/state: who we are and what we hold, from the maintained
 * per-origin figures (O(origins)); the projection digest only with `?projections=1`.
 */
export function getSyncState(ctx: StoreContext, machineId: MachineId, name: string, query: unknown = {}): SyncState {
  const q = stateQuerySchema.safeParse(query ?? {});
  if (!q.success) throw badRequest('bad query', q.error);
  const db = ctx.db;
  return {
    machine_id: machineId, name, event_count: eventCount(db), watermarks: watermarks(db), counts: originCounts(db), digests: originDigests(db),
    digest: eventSetDigest(db), digest_kind: 'events',
    ...(q.data.projections === '1' ? { projections_digest: digest(db), projections_digest_v1: digest(db, 'v1') } : {}),
  };
}
