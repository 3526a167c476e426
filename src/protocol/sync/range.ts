/**
 * `range` (protocol 2): the answer to `range_req` `id`: the answerer's events of the
 * origin in the range, in HLC order, at most one batch's worth; `more` when the
 * range holds more after the last one sent. Events are checked by the asker
 * (origin and range) and by the store's ingest, like a batch's.
 */
import { z } from 'zod';
import { MAX_BATCH_EVENTS } from './batch.js';

export const rangeSchema = z.object({
  type: z.literal('range'),
  id: z.number().int().min(1),
  more: z.boolean(),
  events: z.array(z.unknown()).max(MAX_BATCH_EVENTS),
});

export type RangeMsg = z.infer<typeof rangeSchema>;
