/**
 * The HTTP fallback of replication, as plain functions the daemon's routes call
 * (and `clare sync` runs through `syncOnce`). Routes stay thin: they pass the
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
import { ClareError, isErrorCode } from '../core/errors.js';
import { MAX_PAYLOAD_BYTES, type EventEnvelope } from '../core/events/envelope.js';
import { parseHlc, type Hlc } from '../core/hlc.js';
import { machineIdSchema, type MachineId } from '../core/ids.js';
import { parseJsonBounded } from '../core/json-bounds.js';
import { eventCount, eventsAfterRaw, eventsSince, originCounts, watermarks, type RawEvent, type Watermarks } from '../core/store.js';
import { bearerHeaders } from './auth.js';
import { checkContinuity, encodeEvents, heldInStore } from './batch-codec.js';
import { baseSchema, countsSchema, digestsSchema, watermarksSchema } from './messages/common.js';
import { describeIssues } from './messages/frame.js';
import { normalizePeerUrl, peerApiUrl } from './peer-url.js';

/** Default and largest page of GET /api/v1/sync/events. */
export const DEFAULT_PAGE = 1000;
export const MAX_PAGE = 5000;
/**
 * A per-origin (`after`) page stops once its payloads pass this many bytes (at
 * least one event is answered), so an answer stays a few MiB whatever the events.
 */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;
/** Bytes of one event besides its payload, at most (id, hlc, origin, type, v, keys). */
const ENVELOPE_BYTES = 512;
/** Largest answer read of a peer's state or of a POST (O(origins): a few KiB per hundred machines). */
export const MAX_SMALL_ANSWER_BYTES = 4 * 1024 * 1024;
/** Most events one POST may carry. */
export const MAX_POST_EVENTS = 5000;
/**
 * `syncOnce` keeps each POST body under this many bytes, below fastify's default
 * 1 MiB body limit, so the route works without raising it.
 */
export const MAX_POST_BYTES = 960 * 1024;
/** Request header naming the machine that POSTs events (becomes the commit's source). */
export const SOURCE_HEADER = 'x-clare-machine-id';

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

/** Answer of the `since` form. */
export interface EventsSincePage {
  readonly events: EventEnvelope[];
  /** The last HLC of this page when more follow (pass it as `since`), else null. */
  readonly next: Hlc | null;
}

/** Answer of the per-origin (`after`) form. */
export interface EventsAfterPage {
  readonly events: EventEnvelope[];
  /** Watermarks to ask with next (`after` advanced by this page) when more follow, else null. */
  readonly next_watermarks: Record<string, Hlc> | null;
}

/** What POST /api/v1/sync/events answers. */
export interface PostEventsResult {
  /** Events new to us and stored (including `skipped` ones). */
  readonly accepted: number;
  /** Events we already held (uuid dedup). */
  readonly known: number;
  /** Of the accepted, events stored and relayed but not applied: unknown type or newer version. */
  readonly skipped: number;
}

/**
 * What GET /api/v1/sync/state answers. Cheap (O(origins)) unless the projection
 * digest is asked for. Digests (docs/protocol.md §5):
 * - `digest`: the event-set digest (`digest_kind: "events"`): equal on two stores
 *   exactly when they hold the same events. A version-1 Clare answers the projection
 *   digest here instead, with no `digest_kind`.
 * - `digests`: per origin, the digest of the events held of it.
 * - `projections_digest` (only with `?projections=1`): SHA-256 of every projection
 *   row; equal when the projections are equal. It reads every row: explicit checks only.
 */
export interface SyncState {
  readonly machine_id: MachineId;
  readonly name: string;
  readonly event_count: number;
  readonly watermarks: Watermarks;
  readonly counts: Readonly<Record<string, number>>;
  readonly digests: Readonly<Record<string, string>>;
  readonly digest: string;
  readonly digest_kind: 'events';
  readonly projections_digest?: string;
}

/** Parses a peer's state; fields after `digest` are absent from version-1 peers. */
export const syncStateSchema = z.object({
  machine_id: machineIdSchema,
  name: z.string().max(200),
  event_count: z.number().int().min(0),
  watermarks: watermarksSchema,
  counts: countsSchema.optional(),
  digests: digestsSchema.optional(),
  digest: z.string().max(200),
  digest_kind: z.literal('events').optional(),
  projections_digest: z.string().max(200).optional(),
});

const stateQuerySchema = z.object({ projections: z.enum(['0', '1']).optional() });

function badRequest(what: string, err: z.ZodError): ClareError {
  return new ClareError('CLARE_BAD_REQUEST', `${what}: ${describeIssues(err)}`);
}

/** Parses `after=<hlc>,<hlc>,…` into watermarks; throws CLARE_BAD_REQUEST. */
export function parseAfter(after: string): Record<string, Hlc> {
  const out: Record<string, Hlc> = {};
  for (const part of after.split(',')) {
    if (part === '') continue;
    const h = hlcSchema.safeParse(part);
    if (!h.success) throw new ClareError('CLARE_BAD_REQUEST', `after: ${JSON.stringify(part.slice(0, 80))} is not an HLC`);
    const origin = parseHlc(h.data).machine;
    if (Object.hasOwn(out, origin)) throw new ClareError('CLARE_BAD_REQUEST', `after: origin ${origin} appears twice`);
    out[origin] = h.data;
  }
  return out;
}

/** Formats watermarks as the `after` query value (HLCs joined by commas). */
export function formatAfter(wm: Watermarks): string {
  return Object.values(wm).sort().join(',');
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
  return { events, next: more ? events[events.length - 1]!.hlc : null };
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
  while (n < rows.length && n < q.data.limit && (n === 0 || bytes + rows[n]!.payload.length <= MAX_PAGE_BYTES)) bytes += rows[n++]!.payload.length;
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
    ...(q.data.projections === '1' ? { projections_digest: digest(db) } : {}),
  };
}

// ---- client -----------------------------------------------------------------

export interface SyncOnceOptions {
  /** Events per page and per POST (default 1000). */
  readonly batchSize?: number;
  /** Per-request timeout (ms, default 30 s). */
  readonly timeoutMs?: number;
}

/** What one HTTP catch-up round moved. */
export interface SyncOnceResult {
  /** The peer's base URL. */
  readonly peer: string;
  readonly machine_id: MachineId;
  readonly name: string;
  /** Events pulled that were new to us, and pulled ones we already held. */
  readonly pulled: number;
  readonly pulled_known: number;
  /** Events pushed that were new to the peer, and pushed ones it already held. */
  readonly pushed: number;
  readonly pushed_known: number;
  /** New events on either side stored but not applied (types or versions unknown there). */
  readonly skipped: number;
  readonly ms: number;
  /** What the peer held of our own origin when the round began (recovery compares it). */
  readonly peer_holds_ours: { readonly hlc: Hlc; readonly count: number | undefined } | null;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

const eventsAfterPageSchema = z.object({
  events: z.array(z.unknown()).max(MAX_PAGE),
  next_watermarks: watermarksSchema.nullable(),
});

const postResultSchema = z.object({
  accepted: z.number().int().min(0),
  known: z.number().int().min(0),
  skipped: z.number().int().min(0),
});

const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/**
 * Reads a peer's answer as JSON, at most `maxBytes` of it and nested at most as deep
 * as any door allows: a broken or hostile peer cannot make us buffer or walk more.
 * Throws CLARE_PEER naming the URL and the bound.
 */
export async function readAnswer(res: Response, url: string, maxBytes: number): Promise<unknown> {
  // fetch's body streams bytes (Node's typings leave the chunk type open).
  const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
  if (reader === undefined) return undefined;
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ClareError('CLARE_PEER', `${url} answered more than ${maxBytes} bytes; refused unread`, { url, limit: maxBytes });
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return parseJsonBounded(text, `the answer of ${url}`);
  } catch (e) {
    if (e instanceof ClareError && e.code === 'CLARE_TOO_DEEP') throw new ClareError('CLARE_PEER', e.message, { url });
    return undefined;
  }
}

async function request<T>(fetchImpl: FetchLike, url: string, init: RequestInit, schema: z.ZodType<T>, timeoutMs: number, maxBytes: number): Promise<T> {
  let res: Response;
  try {
    // redirect: 'error' — the token goes to the configured peer, never to wherever it points.
    res = await fetchImpl(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new ClareError('CLARE_PEER', `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, { url });
  }
  const body = await readAnswer(res, url, maxBytes);
  if (!res.ok) {
    const err = errorBodySchema.safeParse(body);
    const code = err.success ? err.data.error.code : null;
    if (res.status === 401) {
      throw new ClareError('CLARE_UNAUTHORIZED', `${url} refused our mesh token (HTTP 401); set the same [mesh] token on both machines`, { url, status: 401 });
    }
    const what = err.success ? `${code ?? ''}: ${err.data.error.message}` : `HTTP ${res.status}`;
    throw new ClareError('CLARE_PEER', `${url} answered ${res.status} ${what}`, {
      url, status: res.status, ...(code !== null && isErrorCode(code) ? { peer_code: code } : {}),
    });
  }
  const p = schema.safeParse(body);
  if (!p.success) throw new ClareError('CLARE_PEER', `${url} answered something unexpected: ${describeIssues(p.error)}`, { url });
  return p.data;
}

/**
 * One HTTP catch-up round with one peer: reads its state, pulls every event we
 * lack (per-origin `after` form, page by page, each page ingested whole), then
 * pushes every event it lacks (POSTs with `base`). Returns what moved.
 * Throws CLARE_PEER (unreachable, bad answer), CLARE_UNAUTHORIZED (token
 * refused), CLARE_BAD_EVENT / CLARE_HLC_SKEW (it sent events we refuse).
 */
export async function syncOnce(ctx: StoreContext, peerUrl: string, token: string | undefined, fetchImpl: FetchLike = fetch, opts: SyncOnceOptions = {}): Promise<SyncOnceResult> {
  const t0 = performance.now();
  const base = normalizePeerUrl(peerUrl);
  const batch = Math.min(opts.batchSize ?? DEFAULT_PAGE, MAX_PAGE);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const auth = bearerHeaders(token);
  const me = ctx.clock.machine;

  // A page holds `batch` events at most, each at most MAX_PAYLOAD_BYTES of payload (a version-1
  // peer does not cut its pages by bytes): the largest answer a correct peer gives.
  const maxPageBytes = batch * (MAX_PAYLOAD_BYTES + ENVELOPE_BYTES) + 64 * 1024;
  const state = await request(fetchImpl, peerApiUrl(base, '/api/v1/sync/state'), { headers: auth }, syncStateSchema, timeoutMs, MAX_SMALL_ANSWER_BYTES);
  if (state.machine_id === me) throw new ClareError('CLARE_CONFIG', `peer ${base} is this machine itself; remove it from the peer list`);

  let pulled = 0;
  let pulledKnown = 0;
  let skipped = 0;
  for (;;) {
    const ours = watermarks(ctx.db);
    const url = peerApiUrl(base, `/api/v1/sync/events?after=${formatAfter(ours)}&limit=${batch}`);
    const page = await request(fetchImpl, url, { headers: auth }, eventsAfterPageSchema, timeoutMs, maxPageBytes);
    if (page.events.length > 0) {
      // The page continues each origin from what we asked after; check it, as the socket path does.
      const assumed: Record<string, Hlc | null> = {};
      for (const e of page.events) {
        const o = typeof e === 'object' && e !== null ? (e as { origin?: unknown }).origin : undefined;
        if (typeof o === 'string') assumed[o] = ours[o] ?? null;
      }
      const c = checkContinuity(watermarks(ctx.db), assumed, page.events);
      if (!c.ok) throw new ClareError('CLARE_PEER', `${base} answered a page that would leave a gap: ${c.error.message}`);
      const r = commitRemote(ctx, page.events, state.machine_id);
      pulled += r.events.length;
      pulledKnown += r.duplicates;
      skipped += r.skipped;
      // A correct peer only answers events after what we asked for; one that does not would loop forever.
      const progressed = Object.entries(c.tops).some(([o, h]) => h > (ours[o] ?? ''));
      if (!progressed) throw new ClareError('CLARE_PEER', `${base} answered only events we already held; stopping the pull`);
    }
    if (page.next_watermarks === null) break;
  }

  let pushed = 0;
  let pushedKnown = 0;
  const theirs: Record<string, Hlc> = { ...state.watermarks };
  const postUrl = peerApiUrl(base, '/api/v1/sync/events');
  for (;;) {
    const rows = eventsAfterRaw(ctx.db, theirs, batch);
    if (rows.length === 0) break;
    const enc = encodeEvents(theirs, rows, MAX_POST_BYTES);
    const r = await request(fetchImpl, postUrl, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', [SOURCE_HEADER]: me },
      body: `{"base":${enc.base},"events":${enc.events}}`,
    }, postResultSchema, timeoutMs, MAX_SMALL_ANSWER_BYTES);
    pushed += r.accepted;
    pushedKnown += r.known;
    skipped += r.skipped;
    for (const [origin, hlc] of Object.entries(enc.tops)) theirs[origin] = hlc;
  }

  const ourWm = state.watermarks[me];
  return {
    peer: base, machine_id: state.machine_id, name: state.name,
    pulled, pulled_known: pulledKnown, pushed, pushed_known: pushedKnown, skipped,
    ms: Math.round(performance.now() - t0),
    peer_holds_ours: ourWm === undefined ? null : { hlc: ourWm, count: state.counts?.[me] },
  };
}
