/**
 * `ack`: the receiver committed batch `seq`; it states its watermarks and counts
 * after the commit, so the sender never re-sends what is acknowledged.
 */
import { z } from 'zod';
import { countsSchema, digestsSchema, watermarksSchema } from './common.js';

export const ackSchema = z.object({
  type: z.literal('ack'),
  seq: z.number().int().min(1),
  watermarks: watermarksSchema,
  counts: countsSchema,
  /** Protocol 2: per-origin digests, so equal watermarks with different events show (anti-entropy). */
  digests: digestsSchema.optional(),
  /** Events of the batch that were new to the receiver, and ones it already had. */
  accepted: z.number().int().min(0),
  known: z.number().int().min(0),
});

export type AckMsg = z.infer<typeof ackSchema>;
