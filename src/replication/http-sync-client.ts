/**
 * `clare sync`'s side of the HTTP fallback: one catch-up round against a peer's
 * /api/v1/sync routes (pull what we lack, push what it lacks), every answer read
 * within a byte bound and parsed.
 */
import { z } from 'zod';
import { commitRemote, type StoreContext } from '../core/context.js';
import { ClareError, isErrorCode } from '../core/errors.js';
import { MAX_PAYLOAD_BYTES } from '../core/events/envelope.js';
import type { Hlc } from '../core/hlc.js';
import type { MachineId } from '../core/ids.js';
import { parseJsonBounded } from '../core/json-bounds.js';
import { parseErrorBody } from '../protocol/error-body.js';
import { eventsAfterRaw, watermarks } from '../core/store.js';
import { bearerHeaders } from './auth.js';
import { checkContinuity, encodeEvents } from './batch-codec.js';
import { watermarksSchema } from '../protocol/sync/common.js';
import { describeIssues } from '../protocol/sync/frame.js';
import { normalizePeerUrl, peerApiUrl } from './peer-url.js';
import { DEFAULT_PAGE, MAX_PAGE, MAX_POST_BYTES, MAX_SMALL_ANSWER_BYTES, SOURCE_HEADER, formatAfter, syncStateSchema } from './http-sync-wire.js';

/** Bytes of one event besides its payload, at most (id, hlc, origin, type, v, keys). */
const ENVELOPE_BYTES = 512;

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
    const err = parseErrorBody(body);
    const code = err === null ? null : err.code;
    if (res.status === 401) {
      throw new ClareError('CLARE_UNAUTHORIZED', `${url} refused our mesh token (HTTP 401); set the same [mesh] token on both machines`, { url, status: 401 });
    }
    const what = err === null ? `HTTP ${res.status}` : `${err.code}: ${err.message}`;
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
