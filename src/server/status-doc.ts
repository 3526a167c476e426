/**
 * The status document (GET /api/v1/status, and the live snapshot's `status`): this
 * machine, the overview counts, peers, fleet and recovery. One function, called by
 * the route and by the live hub alike.
 */
import type { ClareConfig } from '../core/config.js';
import type { StoreContext } from '../core/context.js';
import { overview } from '../core/service/overview.js';
import { hostLiveness } from '../protocol/liveness.js';
import type { FleetPort, ReplicationPort } from './ports.js';
import type { StatusDoc } from '../protocol/status.js';

/** Where the status document's parts come from. */
export interface StatusSources {
  readonly ctx: StoreContext;
  readonly config: ClareConfig;
  /** Clare's version (package.json). */
  readonly version: string;
  readonly startedAt: Date;
  readonly replication?: ReplicationPort | undefined;
  readonly fleet?: FleetPort | undefined;
}

/** Assembles the status document from the store and the services' ports. */
export function statusDoc(s: StatusSources, now: number = Date.now()): StatusDoc {
  const o = overview(s.ctx, now);
  const peers = s.replication?.status() ?? [];
  const silentAfterS = s.config.mesh.silent_after_s;
  const live = hostLiveness(o.machines, peers, s.config.machine_id, now, silentAfterS * 1000);
  const hosts = o.hosts.map((h) => {
    const l = live.get(h.name);
    const self = h.name === s.config.name;
    return { ...h, reach: self ? 'self' as const : l?.reach ?? null, last_heard: l?.lastHeard ?? h.last_seen, silent: !self && (l?.silent ?? false) };
  });
  return {
    machine: { id: s.config.machine_id, name: s.config.name, version: s.version, started_at: s.startedAt.toISOString() },
    ...o,
    hosts,
    liveness: { silent_after_s: silentAfterS },
    peers,
    fleet: s.fleet?.status() ?? null,
    recovery: s.replication?.recoveryStatus() ?? null,
  };
}
