/**
 * `range_req` (protocol 2): "send me your events of `origin` with after < hlc <= upto".
 * The answer is a `range` with the same `id`, one page of them; the asker asks again
 * after the page's last HLC while `more` is true.
 */
import { z } from 'zod';
import { machineIdSchema } from '../ids.js';
import { hlcRangeSchema } from './common.js';

export const rangeReqSchema = z.object({
  type: z.literal('range_req'),
  id: z.number().int().min(1),
  origin: machineIdSchema,
  range: hlcRangeSchema,
}).refine((f) => (f.range[0] === '' || f.range[0].endsWith(`:${f.origin}`)) && f.range[1].endsWith(`:${f.origin}`),
  'range ends must be HLCs of the origin asked about');

export type RangeReqMsg = z.infer<typeof rangeReqSchema>;
