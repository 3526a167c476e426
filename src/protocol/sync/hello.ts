/**
 * `hello`: the first frame each side sends, without waiting for the other's.
 * The token is not here: it rides in the WebSocket upgrade's Authorization
 * header and is checked before the socket exists.
 */
import { z } from 'zod';
import { hostNameSchema } from '../values.js';
import { machineIdSchema, uuidSchema } from '../ids.js';
import { countsSchema, digestsSchema, MAX_ORIGINS, watermarksSchema } from './common.js';

/**
 * The part of `hello` frozen across all protocol versions: enough to negotiate a
 * version, or to refuse cleanly when there is none in common.
 */
export const helloVersionsSchema = z.object({
  type: z.literal('hello'),
  versions: z.array(z.number().int().min(1)).min(1).max(100),
});

/**
 * The full `hello` (protocol 1, and 2 with `digests`). Unknown extra keys are
 * ignored (newer peers); a version-1 peer ignores `digests`.
 */
export const helloSchema = helloVersionsSchema.extend({
  machine_id: machineIdSchema,
  name: hostNameSchema,
  /** Sender's wall clock at sending (ms since epoch): a first clock-offset estimate. */
  now_ms: z.number().int().min(0),
  watermarks: watermarksSchema,
  counts: countsSchema,
  /** Protocol 2: per-origin digests of the events held. */
  digests: digestsSchema.optional(),
  /** Machines the sender is directly connected to right now (see `links`). */
  links: z.array(uuidSchema).max(MAX_ORIGINS),
});

export type HelloMsg = z.infer<typeof helloSchema>;
