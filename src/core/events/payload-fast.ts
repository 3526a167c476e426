/**
 * Payload checks without zod for the hottest event type, `session.changed` (v1): about
 * half of a fleet's log (docs/scaling.md) and, with the others, most of rebuild's time
 * (its CPU profile: zod 39% of rebuild). Only the common, already-normal form is taken
 * here — names as rclaude reports them, instants already in UTC with milliseconds —
 * so the output is the input's values in the schema's key order.
 *
 * What must stay true: whenever `fastPayload` returns a draft, the catalog's schema
 * accepts the same payload and returns an equal one (same keys in the same order);
 * when it returns null the caller asks the schema. test/unit/payload-fast.test.ts
 * checks it on payloads at the edges and on every payload the bench's mix writes.
 */
import { HOST_NAME_RE, noControlChars, SESSION_NAME_RE } from '../domain.js';
import { SESSION_STATES, type SessionState } from '../../protocol/models.js';
import type { EventDraft } from './catalog.js';

/** An ISO instant as toISOString writes it: UTC, milliseconds. */
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const FIELDS = ['cwd', 'state', 'last_activity'] as const;

/** Own enumerable string keys only, and the prototype Object's: what JSON.parse makes. */
function jsonObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || Object.getPrototypeOf(x) !== Object.prototype) return false;
  return Reflect.ownKeys(x).length === Object.keys(x).length;
}

const isState = (s: unknown): s is SessionState => typeof s === 'string' && (SESSION_STATES as readonly string[]).includes(s);
const goodCwd = (s: unknown): s is string => typeof s === 'string' && s.length <= 4096 && noControlChars(s) && !/[\n\t]/.test(s);
/** Canonical and a real instant: it reads back as itself (an invalid date has no ISO form; toISOString would throw). */
function canonicalInstant(s: unknown): s is string {
  if (typeof s !== 'string' || !CANONICAL_INSTANT.test(s)) return false;
  const d = new Date(s);
  return !Number.isNaN(d.getTime()) && d.toISOString() === s;
}

/** The draft the catalog's schema would return for a current-version payload of `type`, when that is quick to tell; otherwise null. */
export function fastPayload(type: string, payload: unknown): EventDraft | null {
  if (type !== 'session.changed' || !jsonObject(payload)) return null;
  const keys = Object.keys(payload);
  if (keys.length !== 3 || !Object.hasOwn(payload, 'host') || !Object.hasOwn(payload, 'session') || !Object.hasOwn(payload, 'fields')) return null;
  const { host, session, fields } = payload;
  if (typeof host !== 'string' || !HOST_NAME_RE.test(host) || typeof session !== 'string' || !SESSION_NAME_RE.test(session)) return null;
  if (!jsonObject(fields)) return null;
  const given = Object.keys(fields);
  if (given.length === 0 || given.some((k) => !(FIELDS as readonly string[]).includes(k))) return null;
  const out: { cwd?: string; state?: SessionState; last_activity?: string } = {};
  // In the schema's order, whatever the order they came in.
  if (Object.hasOwn(fields, 'cwd')) {
    if (!goodCwd(fields.cwd)) return null;
    out.cwd = fields.cwd;
  }
  if (Object.hasOwn(fields, 'state')) {
    if (!isState(fields.state)) return null;
    out.state = fields.state;
  }
  if (Object.hasOwn(fields, 'last_activity')) {
    if (!canonicalInstant(fields.last_activity)) return null;
    out.last_activity = fields.last_activity;
  }
  return { type: 'session.changed', payload: { host, session, fields: out } };
}
