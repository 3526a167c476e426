/**
 * The HTTP fallback of replication as it appears on the wire: its bounds, the
 * `after` cursor's text form, and the shapes of its answers. Both the answering
 * side (http-sync-server.ts) and `clare sync`'s side (http-sync-client.ts) use it.
 */
import { z } from 'zod';
import { hlcSchema } from '../core/domain.js';
import { ClareError } from '../core/errors.js';
import type { EventEnvelope } from '../core/events/envelope.js';
import { parseHlc, type Hlc } from '../core/hlc.js';
import { machineIdSchema, type MachineId } from '../core/ids.js';
import type { Watermarks } from '../core/store.js';
import { countsSchema, digestsSchema, watermarksSchema } from '../protocol/sync/common.js';

/** Default and largest page of GET /api/v1/sync/events. */
export const DEFAULT_PAGE = 1000;
export const MAX_PAGE = 5000;
/**
 * A per-origin (`after`) page stops once its payloads pass this many bytes (at
 * least one event is answered), so an answer stays a few MiB whatever the events.
 */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;
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
  /** With `?projections=1`: the projection digest in a version-1 daemon's shape (digest.ts). */
  readonly projections_digest_v1?: string;
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
  projections_digest_v1: z.string().max(200).optional(),
});

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
