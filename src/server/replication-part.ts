/**
 * Replication in the daemon: the gossip service, its WebSocket route, the HTTP
 * fallback routes, and the `clare sync` round and convergence check.
 * The sync logic lives in src/replication (convergence.ts for rounds and checks);
 * this file only wires it to fastify.
 */
import { z } from 'zod';
import { checkConvergence, runSyncRounds, type MeshContext } from '../replication/convergence.js';
import { checkModel, runResultModel } from '../protocol/sync-run.js';
import { getSyncEvents, postEvents, ReplicationService, SOURCE_HEADER, wsTransport } from '../replication/index.js';
import type { DaemonEnv, DaemonPart } from './daemon.js';
import { route } from './route.js';
import { accessConfig } from './route-access.js';

export function replicationPart(env: DaemonEnv): DaemonPart {
  const { ctx, config, log } = env;
  const replication = new ReplicationService({
    ctx, machineId: config.machine_id, name: config.name, token: config.mesh.token, peers: () => env.peers.list(), log, recovery: env.recovery ?? null,
    ...(env.calls === undefined ? {} : { calls: env.calls }),
  });
  const mesh: MeshContext = {
    ctx, machineId: config.machine_id, name: config.name, configured: () => env.peers.list(), configFile: config.file, token: config.mesh.token, replication, log,
  };
  return {
    service: replication,
    replication,
    routes: [
      route({
        method: 'GET', path: '/sync/events', tag: 'sync', access: 'mesh',
        summary: 'Events after ?since=<hlc> (HLC order, paged) or after per-origin watermarks ?after=<hlc>,<hlc>…',
        query: z.object({ since: z.string().optional(), after: z.string().optional(), limit: z.string().optional() }),
        response: z.object({ events: z.array(z.unknown()), next: z.string().nullable().optional(), next_watermarks: z.record(z.string(), z.string()).nullable().optional() }),
        handler: ({ req }) => getSyncEvents(ctx, req.query),
      }),
      route({
        method: 'POST', path: '/sync/events', tag: 'sync', access: 'mesh',
        summary: 'Ingest a batch of events idempotently (uuid dedup); one bad event refuses the batch',
        body: z.unknown(),
        response: z.object({ accepted: z.number().int(), known: z.number().int(), skipped: z.number().int() }),
        handler: ({ req }) => {
          const source = req.headers[SOURCE_HEADER];
          return postEvents(ctx, req.body, typeof source === 'string' ? source : 'http');
        },
      }),
      route({
        method: 'POST', path: '/sync/run', tag: 'sync', access: 'mesh',
        summary: 'One HTTP catch-up round (pull and push) with all peers or one (name or URL)',
        body: z.strictObject({ peer: z.string().min(1).max(500).optional() }),
        response: z.array(runResultModel),
        handler: ({ body }) => runSyncRounds(mesh, body.peer),
      }),
      route({
        method: 'GET', path: '/sync/check', tag: 'sync', access: 'mesh',
        summary: 'Whether every reachable peer has converged: same events (event-set digests), same projections, no divergence on the links',
        response: checkModel,
        handler: () => checkConvergence(mesh),
      }),
      route({
        method: 'POST', path: '/sync/recovery/skip', tag: 'sync', access: 'mesh',
        summary: "Stop waiting for this machine's own events from its peers and accept writes again (when no peer will ever have them)",
        body: z.strictObject({}),
        response: z.object({ recovering: z.boolean(), outcome: z.string().nullable() }),
        handler: () => {
          if (env.recovery?.active === true) {
            log.warn('recovery skipped by the operator: events of this machine that only its peers hold stay missing until anti-entropy finds them');
            env.recovery.complete('skipped by the operator (clare sync --skip-recovery)');
          }
          return { recovering: false, outcome: env.recovery?.status().outcome ?? null };
        },
      }),
    ],
    register: async (app) => {
      // The app's onRequest hook has already refused a missing/wrong token (401) before the upgrade.
      app.get('/api/v1/sync/ws', { websocket: true, config: accessConfig('mesh') }, (socket, req) => {
        // Synchronously: frames may arrive right after the upgrade.
        replication.acceptInbound(wsTransport(socket, { label: req.ip }), { address: req.ip });
      });
      await Promise.resolve();
    },
  };
}
