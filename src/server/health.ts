/**
 * `GET /api/v1/health`: whether this daemon is serving and well, for systemd's
 * start-up check (`clare health --wait`), load balancers and monitors. It needs no
 * token, so it reveals nothing but `ok` or `degraded`; `clare doctor` and
 * `clare status` say why.
 */
import { z } from 'zod';
import type { Db } from '../core/db.js';
import { RECOVERY_PENDING, recoveryState } from '../core/backup.js';
import type { DaemonPorts } from './daemon.js';
import { route, type AnyRoute } from './route.js';

export const healthModel = z.object({ status: z.enum(['ok', 'degraded']) });
export type Health = z.infer<typeof healthModel>;

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
  if (recoveryState(db) === RECOVERY_PENDING) reasons.push('recovery pending');
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
