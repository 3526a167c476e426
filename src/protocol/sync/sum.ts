/**
 * `sum` (protocol 2): the answer to `sum_req` `id`: per range asked, in order, the
 * count of the answerer's events of the origin in it and their digest.
 */
import { z } from 'zod';
import { MAX_RANGES } from './common.js';

export const sumSchema = z.object({
  type: z.literal('sum'),
  id: z.number().int().min(1),
  sums: z.array(z.object({
    count: z.number().int().min(0),
    /** Sum of the events' hashes modulo 2^64, 16 hex digits. */
    digest: z.string().regex(/^[0-9a-f]{16}$/),
  })).max(MAX_RANGES),
});

export type SumMsg = z.infer<typeof sumSchema>;
