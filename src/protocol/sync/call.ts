/**
 * `call` (protocol 3): "run this fleet action on host `to`", carried over peer
 * links to the daemon of the host that owns the session, which runs rclaude for
 * it (docs/protocol.md §4.13). A daemon that is not `to` relays it along one of
 * its own links, adding itself to `via`; `hops` counts the relays still allowed.
 *
 * The actions are exactly what the HTTP API lets an authenticated caller ask of
 * the owning daemon (peek, spawn), with the same schemas and bounds: a relayed
 * call can ask no more than a direct caller could.
 */
import { z } from 'zod';
import { hostNameSchema, pathSchema, sessionNameSchema } from '../values.js';
import { machineIdSchema } from '../ids.js';

/** Most relays between the asker and the owner (an A–B–C line needs one). */
export const MAX_CALL_HOPS = 3;

/** Most lines a peek may ask for (the HTTP route's bound). */
export const MAX_CAPTURE_LINES = 2000;

/** Bounds of a call's deadline (ms): long enough for a slow rclaude spawn, short enough to free the slot. */
export const MIN_CALL_TIMEOUT_MS = 100;
export const MAX_CALL_TIMEOUT_MS = 60_000;

/** A call id: chosen by the asker, kept end to end, echoed in the answer. */
export const callIdSchema = z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'a call id is 8–64 letters, digits or "-"');

export const callOpSchema = z.discriminatedUnion('verb', [
  z.strictObject({
    verb: z.literal('capture'),
    session: sessionNameSchema,
    lines: z.number().int().min(1).max(MAX_CAPTURE_LINES),
  }),
  z.strictObject({
    verb: z.literal('spawn'),
    session: sessionNameSchema,
    cwd: pathSchema,
  }),
]);

export const callSchema = z.object({
  type: z.literal('call'),
  id: callIdSchema,
  /** The host (rclaude host name) whose daemon runs the action. */
  to: hostNameSchema,
  /** Relays still allowed after the receiver (0: the receiver must be `to` or a direct link to it). */
  hops: z.number().int().min(0).max(MAX_CALL_HOPS),
  /** Machines the call has passed through, the asker first: never sent back to one of them. */
  via: z.array(machineIdSchema).min(1).max(MAX_CALL_HOPS + 1),
  /** Time left to answer (ms); the receiver answers CLARE_TIMEOUT when it runs out. */
  timeout_ms: z.number().int().min(MIN_CALL_TIMEOUT_MS).max(MAX_CALL_TIMEOUT_MS),
  op: callOpSchema,
});

export type CallMsg = z.infer<typeof callSchema>;
export type CallOp = z.infer<typeof callOpSchema>;
