/**
 * `batch`: events the receiver lacks. Per origin they are in HLC order and
 * continue right after `base[origin]`, so the receiver can refuse a batch that
 * would leave a gap. Events are checked by the store's ingest (CLARE_BAD_EVENT),
 * not here, so a batch is validated once.
 */
import { z } from 'zod';
import { baseSchema } from './common.js';

/** Most events one batch may hold (senders use 1000). */
export const MAX_BATCH_EVENTS = 10_000;

export const batchSchema = z.object({
  type: z.literal('batch'),
  /** 1, 2, 3 … per session and direction; the receiver applies batches in this order. */
  seq: z.number().int().min(1),
  base: baseSchema,
  events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS),
});

export type BatchMsg = z.infer<typeof batchSchema>;
