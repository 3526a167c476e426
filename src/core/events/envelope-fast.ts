/**
 * The envelope check of a remote batch without zod, for the common case: an event as
 * peers send it (a JSON object with exactly the six envelope keys, each well formed).
 * Catch-up and gossip check every envelope of every batch, and zod's object and record
 * parsers were most of the envelope's cost (CPU profile of ingest, docs/scaling.md).
 *
 * What must stay true: whenever `fastEnvelope` returns an envelope, `envelopeSchema`
 * accepts the same input and returns an equal envelope (same keys in the same order,
 * a fresh payload object with the same entries). When it returns null the caller
 * parses with `envelopeSchema`, which accepts or explains; so what is accepted is the
 * schema's decision either way. test/unit/envelope-fast.test.ts checks both on
 * arbitrary inputs and on well-formed events, which must take this path.
 */
import { isHlc } from '../hlc.js';
import { isUuid, trustedEventId, trustedHlc, trustedMachineId } from '../ids.js';
import { EVENT_TYPE_RE, type EventEnvelope } from './envelope.js';

const KEYS = 6;

/** An object JSON.parse makes: not null, not an array, its prototype Object's or none. */
function plainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** The envelope `envelopeSchema` would return for `item`, when that is quick to tell; otherwise null. */
export function fastEnvelope(item: unknown): EventEnvelope | null {
  if (!plainObject(item) || Object.getPrototypeOf(item) !== Object.prototype) return null;
  // Exactly the six keys, all own, enumerable strings (no symbols, nothing hidden).
  if (Reflect.ownKeys(item).length !== KEYS || Object.keys(item).length !== KEYS) return null;
  const { id, hlc, origin, type, v, payload } = item;
  if (typeof id !== 'string' || !isUuid(id)) return null;
  if (typeof hlc !== 'string' || !isHlc(hlc)) return null;
  if (typeof origin !== 'string' || !isUuid(origin)) return null;
  if (typeof type !== 'string' || !EVENT_TYPE_RE.test(type)) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1000) return null;
  if (!plainObject(payload) || Object.hasOwn(payload, '__proto__')) return null;
  const keys = Object.keys(payload);
  if (Reflect.ownKeys(payload).length !== keys.length) return null;
  // A fresh object with the same entries, as the record parser returns.
  const copy: Record<string, unknown> = {};
  for (const k of keys) copy[k] = payload[k];
  return { id: trustedEventId(id), hlc: trustedHlc(hlc), origin: trustedMachineId(origin), type, v, payload: copy };
}
