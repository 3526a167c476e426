/**
 * The union of sync frames and its parser. Every inbound frame goes through
 * `parseFrame`; a failure comes back as a one-line reason — never as a throw — for
 * the session to refuse with CLARE_PROTOCOL in an `error` frame.
 */
import { z } from 'zod';
import { ackSchema, type AckMsg } from './ack.js';
import { batchSchema, type BatchMsg } from './batch.js';
import { callResultSchema, type CallResultMsg } from './call-result.js';
import { callSchema, type CallMsg } from './call.js';
import { errorSchema, type ErrorMsg } from './error.js';
import { helloSchema, type HelloMsg } from './hello.js';
import { linksSchema, type LinksMsg } from './links.js';
import { pingSchema, type PingMsg } from './ping.js';
import { pongSchema, type PongMsg } from './pong.js';
import { rangeReqSchema, type RangeReqMsg } from './range-req.js';
import { rangeSchema, type RangeMsg } from './range.js';
import { sumReqSchema, type SumReqMsg } from './sum-req.js';
import { sumSchema, type SumMsg } from './sum.js';

export type Frame = HelloMsg | BatchMsg | AckMsg | PingMsg | PongMsg | LinksMsg | ErrorMsg | SumReqMsg | SumMsg | RangeReqMsg | RangeMsg
  | CallMsg | CallResultMsg;
export type FrameType = Frame['type'];

/** Frames of protocol 2 (anti-entropy): a session that negotiated version 1 refuses them. */
export const V2_FRAMES: ReadonlySet<FrameType> = new Set<FrameType>(['sum_req', 'sum', 'range_req', 'range']);

/** Frames of protocol 3 (remote fleet calls): a session that negotiated 1 or 2 refuses them. */
export const V3_FRAMES: ReadonlySet<FrameType> = new Set<FrameType>(['call', 'call_result']);

/** The protocol version a frame type needs (1 for the base frames). */
export function frameVersion(type: FrameType): number {
  return V3_FRAMES.has(type) ? 3 : V2_FRAMES.has(type) ? 2 : 1;
}

const SCHEMAS: { readonly [T in FrameType]: z.ZodType<Extract<Frame, { type: T }>, unknown> } = {
  hello: helloSchema,
  batch: batchSchema,
  ack: ackSchema,
  ping: pingSchema,
  pong: pongSchema,
  links: linksSchema,
  error: errorSchema,
  sum_req: sumReqSchema,
  sum: sumSchema,
  range_req: rangeReqSchema,
  range: rangeSchema,
  call: callSchema,
  call_result: callResultSchema,
};

/** A parsed frame, or why the text is not one (the session refuses it as CLARE_PROTOCOL). */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const protocolError = (reason: string): Parsed<never> => ({ ok: false, reason });

/** Shortens a zod report to one line a log or an error frame can carry. */
export function describeIssues(err: z.ZodError, max = 500): string {
  const s = z.prettifyError(err).replace(/\n\s*/g, '; ');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Decodes a frame's JSON text into an object with a string `type`. */
export function decodeFrame(text: string): Parsed<{ readonly type: string } & Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return protocolError(`frame is not JSON (starts ${JSON.stringify(text.slice(0, 40))})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return protocolError('frame is not a JSON object');
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return protocolError('frame has no string "type"');
  return { ok: true, value: value as { type: string } & Record<string, unknown> };
}

/** Validates a decoded frame against the schema of its `type`. */
export function parseFrameValue(value: { readonly type: string }): Parsed<Frame> {
  if (!Object.hasOwn(SCHEMAS, value.type)) return protocolError(`unknown frame type ${JSON.stringify(value.type.slice(0, 40))}`);
  const schema = SCHEMAS[value.type as FrameType];
  const r = schema.safeParse(value);
  if (!r.success) return protocolError(`bad ${value.type} frame: ${describeIssues(r.error)}`);
  return { ok: true, value: r.data };
}

/** Decodes and validates one frame. */
export function parseFrame(text: string): Parsed<Frame> {
  const d = decodeFrame(text);
  return d.ok ? parseFrameValue(d.value) : d;
}

/** Serialises a frame (batches with raw payloads use `encodeBatch` instead). */
export function encodeFrame(frame: Frame): string {
  return JSON.stringify(frame);
}
