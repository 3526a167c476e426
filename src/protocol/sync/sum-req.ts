/**
 * `sum_req` (protocol 2): "what do you hold of `origin` in these HLC ranges?" The
 * answer is a `sum` with the same `id`. Anti-entropy asks it when watermarks agree
 * but counts or digests do not, halving ranges until the differing events are
 * found (src/replication/anti-entropy.ts).
 */
import { z } from 'zod';
import { machineIdSchema } from '../ids.js';
import { hlcRangeSchema, MAX_RANGES } from './common.js';

export const sumReqSchema = z.object({
  type: z.literal('sum_req'),
  /** Chosen by the asker, echoed in the answer. */
  id: z.number().int().min(1),
  origin: machineIdSchema,
  ranges: z.array(hlcRangeSchema).min(1).max(MAX_RANGES),
}).refine((f) => f.ranges.every(([after, upto]) => (after === '' || after.endsWith(`:${f.origin}`)) && upto.endsWith(`:${f.origin}`)),
  'range ends must be HLCs of the origin asked about');

export type SumReqMsg = z.infer<typeof sumReqSchema>;
