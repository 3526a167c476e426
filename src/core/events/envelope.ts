/**
 * The event envelope as it travels between peers and sits in the `events` table.
 * `payload` is validated per type in `catalog.ts`; the envelope alone is enough to
 * store and relay an event whose type this version does not know.
 */
import { z } from 'zod';
import { hlcSchema } from '../domain.js';
import { eventIdSchema, machineIdSchema } from '../ids.js';

/** Upper bound on one event's serialised payload; larger ones are refused. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export const eventTypeSchema = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'an event type is dotted lower-case, e.g. task.created');

export const envelopeSchema = z.strictObject({
  id: eventIdSchema,
  hlc: hlcSchema,
  origin: machineIdSchema,
  type: eventTypeSchema,
  v: z.number().int().min(1).max(1000),
  payload: z.record(z.string(), z.unknown()),
});

/** An event as stored and relayed: envelope validated, payload not necessarily understood. */
export type EventEnvelope = z.infer<typeof envelopeSchema>;
