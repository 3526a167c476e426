/**
 * `GET /api/v1/health`: whether this daemon is serving and well, for systemd's
 * start-up check (`clare health --wait`), load balancers and monitors. It needs no
 * token, so it reveals nothing but `ok` or `degraded`; `clare doctor` and
 * `clare status` say why.
 */
import { z } from 'zod';
import type { Db } from '../core/db.js';
import { cachedStatement as stmt } from '../core/projections/registers.js';
import type { DaemonPorts } from './daemon.js';
import { route, type AnyRoute } from './route.js';

export const healthModel = z.object({ status: z.enum(['ok', 'degraded']) });
export type Health = z.infer<typeof healthModel>;

/**
 * The `local_meta` key a restore sets to `pending`: the daemon must fetch this
 * machine's own events from its peers before it appends anything (docs/operations.md).
 */
export const RECOVERY_KEY = 'recovery';

/** The recovery state the database carries (`pending` after `clare restore`), or null. */
export function recoveryState(db: Db): string | null {
  const r = stmt(db, 'SELECT value FROM local_meta WHERE key = ?').get(RECOVERY_KEY) as { value: string } | undefined;
  return r?.value ?? null;
}

/**
 * Why the daemon is degraded, empty when it is ok: a peer link marked faulty, an
 * rclaude listing failing since the last good one, or a recovery still pending.
 * Cheap (status ports and one indexed row), so monitors may poll it.
 */
export function degradedReasons(db: Db, ports: DaemonPorts): string[] {
  const reasons: string[] = [];
  for (const p of ports.replication?.status() ?? []) if (p.faulty) reasons.push(`peer ${p.name ?? p.url ?? '?'} is faulty`);
  const fleet = ports.fleet?.status();
  if (fleet?.last_error != null && (fleet.last_pull === null || fleet.last_error.at > fleet.last_pull.at)) reasons.push('rclaude listing failing');
  if (recoveryState(db) === 'pending') reasons.push('recovery pending');
  return reasons;
}

/** The health route; `ports` is read at request time (the parts fill it in before listening). */
export function healthRoute(db: Db, ports: () => DaemonPorts): AnyRoute {
  return route({
    method: 'GET', path: '/health', tag: 'status', access: 'public',
    summary: 'ok or degraded, nothing else; no token needed',
    response: healthModel,
    handler: (): Health => ({ status: degradedReasons(db, ports()).length === 0 ? 'ok' : 'degraded' }),
  });
}
