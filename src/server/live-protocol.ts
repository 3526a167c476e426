/**
 * The live dashboard protocol on `/api/v1/live` (docs/dashboard.md): one schema per
 * frame, the type inferred beside it. Server frames are built from the read-models
 * of core/models.ts; client frames are parsed with `clientFrame` before anything
 * else looks at them.
 *
 * Version history (bump LIVE_PROTOCOL_VERSION on any incompatible change):
 *   1 — snapshot, change, peers, fleet, pong, error; client sends resync, ping.
 */
import { z } from 'zod';
import { assignmentModel, conflictModel, groupModel, machineModel, projectModel, sessionModel, taskModel, updateModel } from '../core/models.js';
import { fleetStatusModel, peerStatusModel, statusModel } from './status-models.js';

export const LIVE_PROTOCOL_VERSION = 1;

/** Largest client frame we read; the client only ever sends a few dozen bytes. */
export const MAX_CLIENT_FRAME_BYTES = 4096;

// ---- client → server ------------------------------------------------------------

/** Ask for a fresh snapshot on the same socket (the client lost track, e.g. a hidden tab dropped its buffer). */
export const resyncFrame = z.strictObject({ type: z.literal('resync') });
/** Liveness probe; answered by a `pong` echoing `t`. */
export const pingFrame = z.strictObject({ type: z.literal('ping'), t: z.number().finite() });
export const clientFrame = z.discriminatedUnion('type', [resyncFrame, pingFrame]);
export type ClientFrame = z.infer<typeof clientFrame>;

// ---- server → client ------------------------------------------------------------

/**
 * Entity kinds of `change` frames. `receipt` changes of the store are sent as the
 * `update` they belong to (re-read with all its receipts); `conflict` is a row
 * recorded by the merge.
 */
export const LIVE_ENTITIES = ['project', 'task', 'assignment', 'session', 'group', 'update', 'machine', 'conflict'] as const;
export type LiveEntity = (typeof LIVE_ENTITIES)[number];

/** A conflict as the dashboard shows it: the merge's record plus a stable id. */
export const liveConflictModel = conflictModel.extend({
  id: z.string().describe('entity/entity_id/field/winner_event/loser_event'),
});
export type LiveConflict = z.infer<typeof liveConflictModel>;

export const snapshotData = z.object({
  projects: z.array(projectModel),
  tasks: z.array(taskModel).describe('not archived'),
  sessions: z.array(sessionModel).describe('not gone'),
  assignments: z.array(assignmentModel).describe('active (not removed)'),
  groups: z.array(groupModel).describe('not archived'),
  updates: z.array(updateModel).describe('the most recent, newest first, broadcasts with their receipts'),
  conflicts: z.array(liveConflictModel),
  machines: z.array(machineModel),
  peers: z.array(peerStatusModel),
  status: statusModel.describe('GET /api/v1/status at snapshot time (machine, counts, fleet)'),
});
export type SnapshotData = z.infer<typeof snapshotData>;

/**
 * `cursor` is the number of events this daemon held when the frame was built: it
 * only grows (events are never deleted), so it orders frames across reconnects.
 */
export const snapshotMessage = z.object({
  type: z.literal('snapshot'),
  protocol: z.number().int(),
  cursor: z.number().int(),
  data: snapshotData,
});

const changeOf = <E extends LiveEntity, R extends z.ZodType>(entity: E, row: R) =>
  z.object({ type: z.literal('change'), cursor: z.number().int(), entity: z.literal(entity), id: z.string(), row: row.nullable() });

/** One changed entity; `row: null` is a tombstone (archived, removed, gone, or not visible). */
export const changeMessage = z.discriminatedUnion('entity', [
  changeOf('project', projectModel),
  changeOf('task', taskModel),
  changeOf('assignment', assignmentModel),
  changeOf('session', sessionModel),
  changeOf('group', groupModel),
  changeOf('update', updateModel),
  changeOf('machine', machineModel),
  changeOf('conflict', liveConflictModel),
]);
export type ChangeMessage = z.infer<typeof changeMessage>;

/** Replication status, sent when it differs from the last one sent. */
export const peersMessage = z.object({ type: z.literal('peers'), peers: z.array(peerStatusModel) });
/** Session poller status (last pull, last error), sent when it changes. */
export const fleetMessage = z.object({ type: z.literal('fleet'), fleet: fleetStatusModel.nullable() });
export const pongMessage = z.object({ type: z.literal('pong'), t: z.number() });
/** A coded error (codes from core/errors.ts); the server closes the socket after it. */
export const errorMessage = z.object({ type: z.literal('error'), code: z.string(), message: z.string() });

export const serverMessage = z.union([snapshotMessage, changeMessage, peersMessage, fleetMessage, pongMessage, errorMessage]);
export type ServerMessage = z.infer<typeof serverMessage>;
export type SnapshotMessage = z.infer<typeof snapshotMessage>;
export type PeersMessage = z.infer<typeof peersMessage>;
export type FleetMessage = z.infer<typeof fleetMessage>;
export type ErrorMessage = z.infer<typeof errorMessage>;

/** Close codes of the live socket (1000–1015 are the standard ones). */
export const LIVE_CLOSE = {
  /** The daemon is stopping; reconnect with backoff. */
  goingAway: 1001,
  /** A client frame broke the protocol (an `error` frame was sent first). */
  protocolError: 1008,
  /** Building a frame failed on our side; reconnect and resync. */
  internalError: 1011,
  /** The client read too slowly and its send buffer overflowed; reconnect and resync. */
  tooSlow: 1013,
} as const;
