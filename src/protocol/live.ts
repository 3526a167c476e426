/**
 * The live dashboard protocol on `/api/v1/live` (docs/dashboard.md): one schema per
 * frame, the type inferred beside it. Server frames are built from the read-models
 * of models.ts; client frames are parsed with `clientFrame` before anything
 * else looks at them.
 *
 * Version history (bump LIVE_PROTOCOL_VERSION in live-version.ts on any incompatible change):
 *   1 — snapshot, change, peers, fleet, pong, error; client sends resync, ping.
 *   2 — the snapshot is bounded (≤ SNAPSHOT_MAX_BYTES): every list is a page
 *       {items, next_cursor} continued through its API route; tasks come as four
 *       columns plus the tasks the sessions work on; status without hosts and
 *       machines; a `counts` frame follows commits; tasks carry `status_at`.
 */
import { z } from 'zod';
import { assignmentModel, conflictModel, groupModel, machineModel, projectModel, sessionModel, taskModel, updateModel } from './models.js';
import type { LiveEntity } from './live-version.js';
import { pageModel } from './page.js';
import { fleetStatusModel, peerStatusModel, statusModel } from './status.js';

/** Upper bound of a snapshot frame, bytes of JSON (issue 12: ≤ 1 MB at any store size). */
export const SNAPSHOT_MAX_BYTES = 1_000_000;

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


/** A conflict as the dashboard shows it: the merge's record plus a stable id. */
export const liveConflictModel = conflictModel.extend({
  id: z.string().describe('entity/entity_id/field/winner_event/loser_event'),
});
export type LiveConflict = z.infer<typeof liveConflictModel>;

/** The counts the page shows (GET /api/v1/status `counts` and `sessions_by_state`). */
export const liveCountsModel = z.object({ counts: statusModel.shape.counts, sessions_by_state: statusModel.shape.sessions_by_state });
export type LiveCounts = z.infer<typeof liveCountsModel>;

/**
 * Every list is the first page of an API list (same order and filter); a non-null
 * `next_cursor` means there is more, fetched with `cursor=` from that route. A list
 * with no items and a cursor had rows too large for what was left of the budget.
 */
export const snapshotData = z.object({
  projects: pageModel(projectModel).describe('GET /projects: not archived, by name'),
  sessions: pageModel(sessionModel).describe('GET /sessions: not gone, by host and name'),
  tasks: z.object({
    open: pageModel(taskModel).describe('GET /tasks?status=open&order=urgency'),
    in_progress: pageModel(taskModel).describe('GET /tasks?status=in_progress&order=urgency'),
    blocked: pageModel(taskModel).describe('GET /tasks?status=blocked&order=urgency'),
    done: pageModel(taskModel).describe('GET /tasks?status=done&order=recent: recently done first'),
  }),
  session_tasks: z.array(taskModel).describe('tasks of the listed sessions\' active assignments that are not in the columns'),
  assignments: pageModel(assignmentModel).describe('GET /assignments: active, newest first'),
  groups: pageModel(groupModel).describe('GET /groups: not archived, by name'),
  updates: pageModel(updateModel).describe('GET /updates: newest first, broadcasts with their receipts'),
  conflicts: pageModel(liveConflictModel).describe('GET /conflicts: newest first'),
  machines: z.array(machineModel).describe('machines heard from (at most 200, see status.truncated)'),
  peers: z.array(peerStatusModel),
  status: statusModel.omit({ hosts: true, machines: true }).describe('GET /api/v1/status at snapshot time, without hosts and machines (sessions and machines above)'),
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

/** Counts after commits changed them (at most about ten a second). */
export const countsMessage = z.object({ type: z.literal('counts'), cursor: z.number().int(), ...liveCountsModel.shape });

/** Replication status, sent when it differs from the last one sent. */
export const peersMessage = z.object({ type: z.literal('peers'), peers: z.array(peerStatusModel) });
/** Session poller status (last pull, last error), sent when it changes. */
export const fleetMessage = z.object({ type: z.literal('fleet'), fleet: fleetStatusModel.nullable() });
export const pongMessage = z.object({ type: z.literal('pong'), t: z.number() });
/** A coded error (codes from core/errors.ts); the server closes the socket after it. */
export const errorMessage = z.object({ type: z.literal('error'), code: z.string(), message: z.string() });

export const serverMessage = z.union([snapshotMessage, changeMessage, countsMessage, peersMessage, fleetMessage, pongMessage, errorMessage]);
export type ServerMessage = z.infer<typeof serverMessage>;
export type SnapshotMessage = z.infer<typeof snapshotMessage>;
export type PeersMessage = z.infer<typeof peersMessage>;
export type CountsMessage = z.infer<typeof countsMessage>;
export type FleetMessage = z.infer<typeof fleetMessage>;
export type ErrorMessage = z.infer<typeof errorMessage>;
/** The snapshot's status: the status document without hosts and machines. */
export type SnapshotStatus = SnapshotData['status'];
/** Row type of each entity kind of a `change` frame. */
export type EntityRows = { readonly [E in LiveEntity]: NonNullable<Extract<ChangeMessage, { entity: E }>['row']> };

/** Close codes of the live socket (1000–1015 are the standard ones). */
export const LIVE_CLOSE = {
  /** The daemon is stopping; reconnect with backoff. */
  goingAway: 1001,
  /** A client frame broke the protocol (an `error` frame was sent first). */
  protocolError: 1008,
  /** Building a frame failed on our side; reconnect and resync. */
  internalError: 1011,
  /**
   * The client's send buffer stayed over its bound (CLARE_TOO_LARGE): it did not read
   * for LiveHubOptions.maxStallMs. Reconnect and resync.
   */
  tooSlow: 1013,
} as const;
