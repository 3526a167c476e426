/**
 * Parses a frame from /api/v1/live. The envelope (type, cursor, entity, id, the
 * arrays and objects the store indexes into) is checked with zod; the rows inside
 * are the read-models of the daemon that served this very page, whose shapes are
 * the page's types too (both come from src/protocol), so they are not re-validated
 * field by field on every frame.
 */
import * as z from 'zod/mini';
import type { ServerMessage } from '../../protocol/live.js';
import { LIVE_ENTITIES } from '../../protocol/live-version.js';

const row = z.looseObject({});
const rows = z.array(row);
const page = z.object({ items: rows, next_cursor: z.nullable(z.string()) });
const counts = { counts: z.looseObject({ tasks: row }), sessions_by_state: row };

const snapshot = z.object({
  type: z.literal('snapshot'),
  protocol: z.number(),
  cursor: z.number(),
  data: z.looseObject({
    projects: page, sessions: page, assignments: page, groups: page, updates: page, conflicts: page,
    tasks: z.object({ open: page, in_progress: page, blocked: page, done: page }),
    session_tasks: rows, machines: rows, peers: rows,
    status: z.looseObject({ machine: z.looseObject({ name: z.string(), version: z.string() }), ...counts, peers: rows }),
  }),
});
const change = z.object({
  type: z.literal('change'),
  cursor: z.number(),
  entity: z.enum(LIVE_ENTITIES),
  id: z.string(),
  row: z.nullable(row),
});
const countsFrame = z.object({ type: z.literal('counts'), cursor: z.number(), ...counts });
const peers = z.object({ type: z.literal('peers'), peers: rows });
const fleet = z.object({ type: z.literal('fleet'), fleet: z.nullable(row) });
const pong = z.object({ type: z.literal('pong'), t: z.number() });
const error = z.object({ type: z.literal('error'), code: z.string(), message: z.string() });

const frame = z.discriminatedUnion('type', [snapshot, change, countsFrame, peers, fleet, pong, error]);

export type ParsedFrame = { readonly ok: true; readonly message: ServerMessage } | { readonly ok: false; readonly reason: string };

export function parseFrame(text: string): ParsedFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'frame is not JSON' };
  }
  const r = frame.safeParse(json);
  if (!r.success) return { ok: false, reason: r.error.issues.map((i) => `${i.path.join('.') || '(frame)'}: ${i.message}`).join('; ') };
  // The envelope is checked above; row shapes are the server's read-models (see the file comment).
  return { ok: true, message: json as ServerMessage };
}
