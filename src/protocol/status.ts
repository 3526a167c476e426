/** Schemas of the status document (GET /api/v1/status, the live snapshot's status) and the sync state. */
import { z } from 'zod';
import { machineModel } from './models.js';

export const peerStatusModel = z.object({
  url: z.string().nullable().describe('the URL we dial, null for an inbound-only peer'),
  machine_id: z.string().nullable(),
  name: z.string().nullable(),
  connected: z.boolean(),
  since: z.string().nullable().describe('ISO time of the current connection, or of the disconnect'),
  faulty: z.boolean(),
  last_error: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
  events_sent: z.number().int(),
  events_received: z.number().int(),
  duplicates_received: z.number().int(),
  lag: z.object({ they_lack: z.number().int(), we_lack: z.number().int() }).nullable().describe('by per-origin counts'),
  divergence: z.object({
    origins: z.array(z.string()),
    state: z.enum(['reconciling', 'waiting', 'unsupported']),
  }).nullable().describe('origins held differently below equal watermarks (lag alone cannot show them); null when the two agree'),
  clock_offset_ms: z.number().nullable(),
  protocol: z.number().int().nullable(),
  direction: z.enum(['outbound', 'inbound']).nullable().describe('who dialed the current (or last) link: outbound, we did'),
  last_heard: z.string().nullable().describe('ISO time of the last frame (batch, ack, ping, pong, links) received from it on any link; null: never linked'),
  links: z.array(z.string()).describe('machine ids it says it is directly linked to (its last statement while disconnected): hosts reachable through it'),
});

export const recoveryStatusModel = z.object({
  state: z.enum(['recovering', 'done']).describe("recovering: this machine's own events are being fetched from its peers; local writes answer CLARE_RECOVERING"),
  reason: z.string(),
  since: z.string(),
  finished_at: z.string().nullable(),
  outcome: z.string().nullable(),
});

export const pullResultModel = z.object({
  host: z.string(),
  at: z.string(),
  sessions: z.number().int(),
  appeared: z.number().int(),
  changed: z.number().int(),
  gone: z.number().int(),
});

export const fleetStatusModel = z.object({
  last_pull: pullResultModel.nullable(),
  last_error: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
  rclaude_version: z.string().nullable(),
});

export const statusModel = z.object({
  machine: z.object({ id: z.string(), name: z.string(), version: z.string(), started_at: z.string() }),
  counts: z.object({
    projects: z.number().int(),
    tasks: z.record(z.string(), z.number().int()).describe('by status'),
    ready_tasks: z.number().int(),
    sessions: z.number().int(),
    events: z.number().int(),
    skipped_events: z.number().int(),
    conflicts: z.number().int(),
  }),
  sessions_by_state: z.record(z.string(), z.number().int()),
  hosts: z.array(z.object({
    name: z.string(),
    sessions: z.array(z.object({ session: z.string(), state: z.string().nullable(), last_activity: z.string().nullable(), idle_s: z.number().nullable(), task_id: z.string().nullable(), task_title: z.string().nullable() })),
    last_seen: z.string().nullable().describe('time of the newest event from the machine publishing this host'),
    reach: z.enum(['self', 'direct', 'relayed']).nullable().describe('how the host is reached now: this machine, a link of ours, a link of a connected peer; null: no link up'),
    last_heard: z.string().nullable().describe('time of the last frame or event carried from it by any link (at least last_seen)'),
    silent: z.boolean().describe('not heard from: no link up to it and nothing carried from it for liveness.silent_after_s'),
  })),
  liveness: z.object({ silent_after_s: z.number().int().describe('[mesh] silent_after_s of clare.toml') }),
  machines: z.array(machineModel),
  truncated: z.object({ sessions: z.boolean(), machines: z.boolean() })
    .describe('true where hosts[].sessions (at most 500) or machines (at most 200) stop short of all there are; counts are always whole'),
  peers: z.array(peerStatusModel),
  fleet: fleetStatusModel.nullable(),
  recovery: recoveryStatusModel.nullable().describe('null when the daemon started without having to recover'),
});
export type StatusDoc = z.infer<typeof statusModel>;
export type PeerStatus = z.infer<typeof peerStatusModel>;
export type PullResult = z.infer<typeof pullResultModel>;
export type FleetStatus = z.infer<typeof fleetStatusModel>;
export type RecoveryStatus = z.infer<typeof recoveryStatusModel>;

export const syncStateModel = z.object({
  machine_id: z.string(),
  name: z.string(),
  event_count: z.number().int(),
  watermarks: z.record(z.string(), z.string()),
  counts: z.record(z.string(), z.number().int()).describe('events held per origin'),
  digests: z.record(z.string(), z.string()).describe('per origin, the digest of the events held (16 hex digits)'),
  digest: z.string().describe('event-set digest: equal on two daemons exactly when they hold the same events (a version-1 daemon answers its projection digest here)'),
  digest_kind: z.literal('events'),
  projections_digest: z.string().optional().describe('with ?projections=1: SHA-256 of every projection row (reads them all)'),
  projections_digest_v1: z.string().optional().describe('with ?projections=1: the projection digest as a version-1 daemon computes it (what it answers as `digest`), to compare with one'),
});
