/**
 * Anti-entropy: finding and fetching the events two stores hold differently below
 * equal watermarks.
 *
 * Watermarks alone describe a store only while every origin's events are a
 * gap-free prefix (docs/protocol.md §3). A wiped and re-initialised machine, a
 * restored backup, a clone, or an event accepted below its origin's watermark
 * breaks that, and then two peers can hold different events with equal
 * watermarks — and, by watermark, lag 0. Protocol 2 makes each side state its
 * per-origin counts and digests (src/core/event-digest.ts); when they differ at
 * equal watermarks, the side that may lack events runs `reconcileOrigin`:
 *
 * 1. ask the peer for summaries (count, digest) of HLC ranges, in bounded frames
 *    (at most MAX_RANGES ranges per `sum_req`), and compute its own with SQL;
 * 2. a range with equal summaries is done; one where the peer holds nothing is the
 *    peer's to fetch from us (it runs the same procedure);
 * 3. a range the peer holds few events of (≤ `leaf`), or we hold none of, is
 *    fetched whole (`range_req`, paged); any other is cut into `fanout` parts by
 *    HLC position and compared again.
 *
 * Fetched events go through the store's ingest, so an event that differs (same id
 * or hlc, other content) is refused there with CLARE_IDENTITY_CONFLICT. Each side
 * pulls what it lacks; together the two pulls leave both with the union.
 *
 * Cost: with d differing events among n, about log_fanout(n) rounds, and SQL range
 * summaries over the (origin, hlc, h) index of the ranges that differ.
 */
import type { Db } from '../core/db.js';
import { ClareError } from '../core/errors.js';
import { digestHex, rangeSummary, type OriginSummary, type Summary } from '../core/event-digest.js';
import { formatHlc, isHlc, parseHlc, type Hlc } from '../core/hlc.js';
import type { MachineId } from '../core/ids.js';
import { rangeEventsRaw } from '../core/store.js';
import { encodeEvents } from './batch-codec.js';
import { MAX_RANGES } from '../protocol/sync/common.js';
import type { RangeReqMsg } from '../protocol/sync/range-req.js';
import type { RangeMsg } from '../protocol/sync/range.js';
import type { SumReqMsg } from '../protocol/sync/sum-req.js';
import type { SumMsg } from '../protocol/sync/sum.js';
import type { Statement } from './peer-knowledge.js';

/** An HLC range of one origin, `(after, upto]`; `after` '' means from its first event. */
export type HlcRange = readonly [after: Hlc | '', upto: Hlc];

/** One page of a peer's events of a range. */
export interface RangePage {
  readonly events: readonly unknown[];
  /** More events follow in the range after `last`. */
  readonly more: boolean;
  /** HLC of the page's last event (null if empty). */
  readonly last: Hlc | null;
}

/** What reconciliation needs: the peer's answers, our summaries, and our ingest. */
export interface ReconcileIo {
  /** The peer's summaries of `origin` over `ranges`, in order (one request). */
  theirSums(origin: MachineId, ranges: readonly HlcRange[]): Promise<readonly Summary[]>;
  /** One page of the peer's events of `origin` in `range` (one request). */
  theirEvents(origin: MachineId, range: HlcRange): Promise<RangePage>;
  /** Our summary of `origin` over `range`. */
  ourSum(origin: MachineId, range: HlcRange): Summary;
  /** Stores fetched events (validated; identity conflicts throw). */
  ingest(events: readonly unknown[]): { readonly accepted: number; readonly known: number };
}

export interface ReconcileOptions {
  /** Parts a differing range is cut into. */
  readonly fanout?: number;
  /** A range the peer holds at most this many events of is fetched rather than cut. */
  readonly leaf?: number;
  /** Give up (with what was fetched so far) after this many requests. */
  readonly maxRequests?: number;
}

export interface ReconcileResult {
  /** Events fetched that were new to us. */
  readonly fetched: number;
  /** Events fetched that we already held (the rest of a fetched range). */
  readonly known: number;
  /** Requests sent (summaries and pages). */
  readonly requests: number;
  /** Ranges compared. */
  readonly ranges: number;
  /** False when `maxRequests` stopped it early. */
  readonly complete: boolean;
}

const COUNTERS = 100_000n;

/** An HLC's position on its origin's line: ms · 100000 + counter; '' (before the first) is −1. */
function position(h: Hlc | ''): bigint {
  if (h === '') return -1n;
  const p = parseHlc(h);
  return BigInt(p.ms) * COUNTERS + BigInt(p.counter);
}

function hlcAt(pos: bigint, origin: MachineId): Hlc {
  return formatHlc({ ms: Number(pos / COUNTERS), counter: Number(pos % COUNTERS), machine: origin });
}

/**
 * Cuts `(after, upto]` into at most `parts` consecutive ranges of about equal
 * width in HLC positions, or returns null when it holds a single position.
 */
export function splitRange(range: HlcRange, origin: MachineId, parts: number): HlcRange[] | null {
  const lo = position(range[0]);
  const hi = position(range[1]);
  const width = hi - lo;
  if (width <= 1n) return null;
  const k = width < BigInt(parts) ? width : BigInt(parts);
  const out: HlcRange[] = [];
  let prev: Hlc | '' = range[0];
  for (let j = 1n; j < k; j++) {
    const cut = hlcAt(lo + (width * j) / k, origin);
    out.push([prev, cut]);
    prev = cut;
  }
  out.push([prev, range[1]]);
  return out;
}

/**
 * Fetches from the peer every event of `origin` up to `upto` that it holds and we
 * lack (see the file comment). Throws what the io throws (a refused event, a lost
 * link); what was ingested before stays (each page is its own transaction).
 */
export async function reconcileOrigin(io: ReconcileIo, origin: MachineId, upto: Hlc, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const fanout = Math.max(2, Math.min(opts.fanout ?? 16, MAX_RANGES));
  const leaf = opts.leaf ?? 128;
  const maxRequests = opts.maxRequests ?? 100_000;
  let fetched = 0;
  let known = 0;
  let requests = 0;
  let ranges = 0;
  const frontier: HlcRange[] = [['', upto]];

  const fetchAll = async (range: HlcRange): Promise<boolean> => {
    let after = range[0];
    for (;;) {
      if (requests >= maxRequests) return false;
      requests++;
      const page = await io.theirEvents(origin, [after, range[1]]);
      const r = io.ingest(page.events);
      fetched += r.accepted;
      known += r.known;
      if (!page.more || page.last === null || page.last >= range[1]) return true;
      after = page.last;
    }
  };

  while (frontier.length > 0) {
    if (requests >= maxRequests) return { fetched, known, requests, ranges, complete: false };
    const chunk = frontier.splice(0, MAX_RANGES);
    requests++;
    const theirs = await io.theirSums(origin, chunk);
    ranges += chunk.length;
    for (const [i, range] of chunk.entries()) {
      const t = theirs[i];
      if (t === undefined) throw new ClareError('CLARE_PROTOCOL', `${theirs.length} summaries for ${chunk.length} ranges`);
      const ours = io.ourSum(origin, range);
      if (t.count === ours.count && t.digest === ours.digest) continue;
      // Only we hold events here: the peer fetches them from us with the same procedure.
      if (t.count === 0) continue;
      const parts = t.count > leaf && ours.count > 0 ? splitRange(range, origin, fanout) : null;
      if (parts !== null) frontier.push(...parts);
      else if (!(await fetchAll(range))) return { fetched, known, requests, ranges, complete: false };
    }
  }
  return { fetched, known, requests, ranges, complete: true };
}

/**
 * Origins held differently though both sides hold them up to the same watermark:
 * the peer's latest statement (watermarks, counts, digests of one frame) against
 * our maintained summaries. Digests are compared when the peer sent them
 * (protocol 2); counts always.
 */
export function divergentOrigins(ours: ReadonlyMap<string, OriginSummary>, theirs: Statement): string[] {
  const out: string[] = [];
  for (const [origin, o] of ours) {
    if (theirs.watermarks[origin] !== o.hlc) continue;
    const count = theirs.counts[origin];
    const digest = theirs.digests?.[origin];
    if ((count !== undefined && count !== o.count) || (digest !== undefined && digest !== digestHex(o.digest))) out.push(origin);
  }
  return out;
}

/** The `sum` answer to a `sum_req`: our summary of each range asked, in order. */
export function answerSums(db: Db, req: SumReqMsg): SumMsg {
  return {
    type: 'sum',
    id: req.id,
    sums: req.ranges.map(([after, upto]) => {
      const s = rangeSummary(db, req.origin, after, upto);
      return { count: s.count, digest: digestHex(s.digest) };
    }),
  };
}

/**
 * The `range` answer to a `range_req`, as frame text: our events of the origin in
 * the range, in HLC order, at most `limit` and about `maxBytes` (payloads spliced
 * as stored, like batches); `more` when the range holds more after them.
 */
export function answerRange(db: Db, req: RangeReqMsg, limit: number, maxBytes: number): string {
  const rows = rangeEventsRaw(db, req.origin, req.range[0], req.range[1], limit + 1);
  const enc = encodeEvents({}, rows.slice(0, limit), maxBytes);
  return `{"type":"range","id":${req.id},"more":${rows.length > enc.count},"events":${enc.events}}`;
}

/**
 * Checks a `range` answer before anything is ingested: every event (as far as it
 * is an envelope at all; the store validates the rest) is of the origin asked
 * about, inside the range, in strictly increasing HLC order. Returns the page, or
 * a CLARE_PROTOCOL error: a peer must not slip other events in through a repair.
 */
export function checkRangePage(origin: MachineId, range: HlcRange, msg: RangeMsg): RangePage | ClareError {
  let prev: Hlc | '' = range[0];
  for (let i = 0; i < msg.events.length; i++) {
    const e = msg.events[i];
    const { origin: o, hlc } = (typeof e === 'object' && e !== null ? e : {}) as { origin?: unknown; hlc?: unknown };
    if (o !== origin || typeof hlc !== 'string') return new ClareError('CLARE_PROTOCOL', `range answer event #${i} is not an event of origin ${origin}`);
    if (!isHlc(hlc)) return new ClareError('CLARE_PROTOCOL', `range answer event #${i} has a malformed hlc ${JSON.stringify(hlc.slice(0, 80))}`);
    if (hlc <= prev || hlc > range[1]) return new ClareError('CLARE_PROTOCOL', `range answer event #${i} (hlc ${hlc.slice(0, 80)}) is outside the range asked for or out of HLC order`);
    prev = hlc;
  }
  return { events: msg.events, more: msg.more, last: prev === '' || msg.events.length === 0 ? null : prev };
}
