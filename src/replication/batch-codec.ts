/**
 * Building outbound batches from stored rows, and checking inbound ones keep
 * every origin a gap-free prefix.
 *
 * Prefix invariant (what must stay true): for every origin, the events a store
 * holds are all of that origin's events up to its watermark. Origins create
 * events in HLC order; `eventsAfter` answers per origin in HLC order; so a batch
 * whose events of origin X start right after what the receiver holds of X keeps
 * the invariant. Each batch states that starting point (`base`) and the receiver
 * checks it, so a bookkeeping bug shows up as a refused batch, never as a hole
 * that watermarks would hide forever.
 */
import type { Db } from '../core/db.js';
import { ClareError } from '../core/errors.js';
import { isHlc, type Hlc } from '../core/hlc.js';
import { holdsIdOrHlc, type RawEvent, type Watermarks } from '../core/store.js';

export interface EncodedEvents {
  /** The JSON array text of the events taken. */
  readonly events: string;
  /** The JSON object text of the base: per origin taken, what the receiver was assumed to hold. */
  readonly base: string;
  /** Events taken (a prefix of the rows given). */
  readonly count: number;
  /** Per origin, the newest HLC taken. */
  readonly tops: Readonly<Record<string, Hlc>>;
}

export interface EncodedBatch {
  /** The frame's JSON text. */
  readonly frame: string;
  readonly count: number;
  readonly tops: Readonly<Record<string, Hlc>>;
}

/**
 * One event as JSON, splicing in the stored payload text. id, hlc and origin were
 * validated as uuid/HLC when stored and type matches [a-z0-9_.]: none needs escaping.
 */
export function encodeRawEvent(e: RawEvent): string {
  return `{"id":"${e.id}","hlc":"${e.hlc}","origin":"${e.origin}","type":"${e.type}","v":${e.v},"payload":${e.payload}}`;
}

/**
 * Encodes rows in HLC order (as `eventsAfterRaw` returns them), cut once the JSON
 * passes `maxBytes` (at least one event is taken). Cutting a merged, per-origin
 * ordered list keeps per-origin prefixes, so the base stays valid.
 */
export function encodeEvents(assumed: Watermarks, rows: readonly RawEvent[], maxBytes: number): EncodedEvents {
  const parts: string[] = [];
  const tops: Record<string, Hlc> = {};
  const base: Record<string, Hlc | null> = {};
  let bytes = 0;
  for (const r of rows) {
    const json = encodeRawEvent(r);
    if (parts.length > 0 && bytes + json.length > maxBytes) break;
    parts.push(json);
    bytes += json.length + 1;
    if (!Object.hasOwn(base, r.origin)) base[r.origin] = assumed[r.origin] ?? null;
    tops[r.origin] = r.hlc;
  }
  return { events: `[${parts.join(',')}]`, base: JSON.stringify(base), count: parts.length, tops };
}

/** Encodes a `batch` frame (see `encodeEvents`). */
export function encodeBatch(seq: number, assumed: Watermarks, rows: readonly RawEvent[], maxBytes: number): EncodedBatch {
  const e = encodeEvents(assumed, rows, maxBytes);
  return { frame: `{"type":"batch","seq":${seq},"base":${e.base},"events":${e.events}}`, count: e.count, tops: e.tops };
}

export type Continuity = { readonly ok: true; readonly tops: Readonly<Record<string, Hlc>> } | { readonly ok: false; readonly error: ClareError };

/**
 * Checks, before anything is written, that ingesting `events` on top of `ours`
 * leaves each origin a gap-free prefix: each origin present has a base, we hold
 * at least up to that base, and its events are in strictly increasing HLC order
 * after it. An event that breaks that but which `held` says the store already
 * holds (its id or hlc) is passed over: it adds nothing, so it opens no gap, and
 * the store judges it (a repeat, or an identity conflict). `held` is asked only
 * then, so the normal case costs no lookup. Events that are not even envelopes
 * are left to the store's validation (which refuses them with CLARE_BAD_EVENT).
 */
export function checkContinuity(ours: Watermarks, base: Readonly<Record<string, Hlc | null>>, events: readonly unknown[], held?: (e: object) => boolean): Continuity {
  const last: Record<string, string> = {};
  const tops: Record<string, Hlc> = {};
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (typeof e !== 'object' || e === null) continue;
    const { origin, hlc } = e as { origin?: unknown; hlc?: unknown };
    if (typeof origin !== 'string' || typeof hlc !== 'string') continue;
    if (!Object.hasOwn(base, origin)) {
      if (held?.(e) === true) continue;
      return gap(`event #${i} is from origin ${origin.slice(0, 40)}, which the batch's base does not list`);
    }
    let prev = last[origin];
    if (prev === undefined) {
      const b = base[origin] ?? null;
      const have = ours[origin];
      if (b !== null && (have === undefined || have < b)) {
        return gap(`the batch continues origin ${origin} after ${b}, but we hold it only up to ${have ?? 'nothing'}; accepting it would leave a gap`);
      }
      prev = b ?? '';
    }
    if (hlc <= prev) {
      if (held?.(e) === true) continue;
      return gap(last[origin] === undefined
        ? `event #${i} (origin ${origin}, hlc ${hlc.slice(0, 80)}) is not after what we hold of its origin (${prev === '' ? 'nothing' : prev}), and we lack it: accepted, it would sit below every peer's watermark and never be replicated on`
        : `event #${i} (origin ${origin}) is not after the previous one of its origin in HLC order`);
    }
    last[origin] = hlc;
    // A malformed stamp is left to the store's validation, which refuses the batch.
    if (isHlc(hlc)) tops[origin] = hlc;
  }
  return { ok: true, tops };
}

/**
 * The `held` judge of `checkContinuity` for a store: an event stamped at or below
 * what we hold of its origin whose id or hlc we hold is left to the store, which
 * takes it as a repeat or refuses it as an identity conflict (CLARE_IDENTITY_CONFLICT,
 * naming both events) — not as a gap, which would hide what it is. Events above
 * the watermark cost nothing.
 */
export function heldInStore(db: Db, ours: Watermarks): (e: object) => boolean {
  return (e) => {
    const { id, hlc, origin } = e as { id?: unknown; hlc?: unknown; origin?: unknown };
    return typeof id === 'string' && typeof hlc === 'string' && typeof origin === 'string' && hlc <= (ours[origin] ?? '') && holdsIdOrHlc(db, id, hlc);
  };
}

function gap(message: string): Continuity {
  return { ok: false, error: new ClareError('CLARE_PROTOCOL', message) };
}
