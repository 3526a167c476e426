/**
 * `pong`: answer to a ping. With the echoed `t` and the answerer's `now_ms`, the
 * pinger estimates the clock offset as now_ms − (t + arrival) / 2.
 */
import { z } from 'zod';
import { countsSchema, digestsSchema, watermarksSchema } from './common.js';

export const pongSchema = z.object({
  type: z.literal('pong'),
  /** The ping's `t`, echoed. */
  t: z.number().int().min(0),
  /** Answerer's wall clock when answering (ms). */
  now_ms: z.number().int().min(0),
  watermarks: watermarksSchema,
  counts: countsSchema,
  /** Protocol 2: per-origin digests, so equal watermarks with different events show (anti-entropy). */
  digests: digestsSchema.optional(),
});

export type PongMsg = z.infer<typeof pongSchema>;
