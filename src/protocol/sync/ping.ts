/**
 * `ping`: keepalive, sent by each side every keepalive interval. It carries the
 * sender's watermarks and counts, so lag stays current while no batch flows.
 */
import { z } from 'zod';
import { countsSchema, digestsSchema, watermarksSchema } from './common.js';

export const pingSchema = z.object({
  type: z.literal('ping'),
  /** Sender's wall clock at sending (ms); echoed in the pong. */
  t: z.number().int().min(0),
  watermarks: watermarksSchema,
  counts: countsSchema,
  /** Protocol 2: per-origin digests, so equal watermarks with different events show (anti-entropy). */
  digests: digestsSchema.optional(),
});

export type PingMsg = z.infer<typeof pingSchema>;
