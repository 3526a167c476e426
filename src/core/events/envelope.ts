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

/**
 * Deepest nesting of an event's payload. An event travels inside a frame or an HTTP
 * body (frame or body → events array → event → payload), and every door refuses
 * JSON deeper than MAX_JSON_DEPTH (64), so a payload may nest three levels less:
 * one that fits some door but not another would be stored and then sink every
 * batch that carries it through the other.
 */
export const MAX_PAYLOAD_DEPTH = 61;

/** A dotted lower-case event type, e.g. task.created. */
export const EVENT_TYPE_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export const eventTypeSchema = z.string().regex(EVENT_TYPE_RE, 'an event type is dotted lower-case, e.g. task.created');

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
