/**
 * Replication in the daemon: the gossip service, its WebSocket route, the HTTP
 * fallback routes, and the `clare sync` round and convergence check.
 * The sync logic lives in src/replication; this file only wires it to fastify.
 */
import { z } from 'zod';
import type { StoreContext } from '../core/context.js';
import { digest } from '../core/digest.js';
import { ClareError, asClareError } from '../core/errors.js';
import { eventCount } from '../core/store.js';
import {
  bearerHeaders, getSyncEvents, normalizePeerUrl, postEvents, ReplicationService, SOURCE_HEADER, syncOnce, syncStateSchema, wsTransport,
} from '../replication/index.js';
import type { DaemonEnv, DaemonPart } from './daemon.js';
import { route } from './route.js';
import { accessConfig } from './route-access.js';

const runResultModel = z.object({
  peer: z.string(),
  ok: z.boolean(),
  name: z.string().nullable(),
  pulled: z.number().int(), pulled_known: z.number().int(),
  pushed: z.number().int(), pushed_known: z.number().int(),
  skipped: z.number().int(),
  ms: z.number(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

const checkModel = z.object({
  converged: z.boolean().describe('every reachable peer has our digest'),
  self: z.object({ machine_id: z.string(), name: z.string(), event_count: z.number().int(), digest: z.string() }),
  peers: z.array(z.object({
    peer: z.string(), reachable: z.boolean(), name: z.string().nullable(), event_count: z.number().int().nullable(),
    digest: z.string().nullable(), equal: z.boolean().nullable(), error: z.string().nullable(),
  })),
});

/**
 * Picks peers for `clare sync [PEER]`: all configured, or one by the name it goes by
 * or by URL. A sync round sends the mesh token, and the token goes to configured
 * peers only: with a token set, a URL that is not configured is refused (a URL typed
 * here is not vouched for); without one, nothing secret travels and any URL will do.
 */
function selectPeers(env: DaemonEnv, replication: ReplicationService, peer: string | undefined): string[] {
  const configured = env.peers.list();
  if (peer === undefined) {
    if (configured.length === 0) throw new ClareError('CLARE_NOT_FOUND', `no peers in ${env.config.file}; add one with \`clare peer add URL\` or name a URL`);
    return [...configured];
  }
  const byName = replication.status().filter((s) => s.name === peer && s.url !== null && configured.includes(s.url)).map((s) => s.url!);
  if (byName.length > 0) return [byName[0]!];
  let url: string;
  try {
    url = normalizePeerUrl(peer);
  } catch {
    throw new ClareError('CLARE_NOT_FOUND', `${JSON.stringify(peer)} is neither the name of a configured peer nor a URL`, { peer });
  }
  if (env.config.mesh.token !== undefined && !configured.includes(url)) {
    throw new ClareError('CLARE_NOT_FOUND', `${url} is not a configured peer; with [mesh] token set, sync rounds go to configured peers only (the token is sent to no one else): \`clare peer add ${url}\` first`, { peer });
  }
  return [url];
}

async function checkConvergence(ctx: StoreContext, env: DaemonEnv): Promise<z.infer<typeof checkModel>> {
  const self = { machine_id: env.config.machine_id, name: env.config.name, event_count: eventCount(ctx.db), digest: digest(ctx.db) };
  // Configured peers only: the check sends the mesh token.
  const urls = new Set(env.peers.list());
  const peers = await Promise.all([...urls].map(async (peer) => {
    try {
      const res = await fetch(`${peer}/api/v1/sync/state`, { headers: bearerHeaders(env.config.mesh.token), signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const st = syncStateSchema.parse(await res.json());
      return { peer, reachable: true, name: st.name, event_count: st.event_count, digest: st.digest, equal: st.digest === self.digest, error: null };
    } catch (e) {
      return { peer, reachable: false, name: null, event_count: null, digest: null, equal: null, error: e instanceof Error ? e.message : String(e) };
    }
  }));
  return { converged: peers.every((p) => !p.reachable || p.equal === true) && peers.some((p) => p.reachable), self, peers };
}

export function replicationPart(env: DaemonEnv): DaemonPart {
  const { ctx, config, log } = env;
  const replication = new ReplicationService({ ctx, machineId: config.machine_id, name: config.name, token: config.mesh.token, peers: () => env.peers.list(), log });
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
        handler: async ({ body }) => {
          const targets = selectPeers(env, replication, body.peer);
          return Promise.all(targets.map(async (peer) => {
            try {
              const r = await syncOnce(ctx, peer, config.mesh.token);
              return { peer: r.peer, ok: true, name: r.name, pulled: r.pulled, pulled_known: r.pulled_known, pushed: r.pushed, pushed_known: r.pushed_known, skipped: r.skipped, ms: r.ms, error: null };
            } catch (e) {
              const err = asClareError(e) ?? new ClareError('CLARE_PEER', e instanceof Error ? e.message : String(e));
              log.warn('sync round failed', { peer, code: err.code, err: err.message });
              return { peer, ok: false, name: null, pulled: 0, pulled_known: 0, pushed: 0, pushed_known: 0, skipped: 0, ms: 0, error: { code: err.code, message: err.message } };
            }
          }));
        },
      }),
      route({
        method: 'GET', path: '/sync/check', tag: 'sync', access: 'mesh',
        summary: 'Whether every reachable peer has converged (equal projection digests)',
        response: checkModel,
        handler: () => checkConvergence(ctx, env),
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
