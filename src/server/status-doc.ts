/**
 * The status document (GET /api/v1/status, and the live snapshot's `status`): this
 * machine, the overview counts, peers, fleet and recovery. One function, called by
 * the route and by the live hub alike.
 */
import type { ClareConfig } from '../core/config.js';
import type { StoreContext } from '../core/context.js';
import { overview } from '../core/service/overview.js';
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
export function statusDoc(s: StatusSources): StatusDoc {
  const o = overview(s.ctx);
  return {
    machine: { id: s.config.machine_id, name: s.config.name, version: s.version, started_at: s.startedAt.toISOString() },
    ...o,
    peers: s.replication?.status() ?? [],
    fleet: s.fleet?.status() ?? null,
    recovery: s.replication?.recoveryStatus() ?? null,
  };
}
