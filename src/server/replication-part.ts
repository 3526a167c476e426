/**
 * Replication in the daemon: the gossip service, its WebSocket route, the HTTP
 * fallback routes, and the `clare sync` round and convergence check.
 * The sync logic lives in src/replication; this file only wires it to fastify.
 */
import { z } from 'zod';
import type { StoreContext } from '../core/context.js';
import { ClareError, asClareError } from '../core/errors.js';
import {
  bearerHeaders, getSyncEvents, getSyncState, MAX_SMALL_ANSWER_BYTES, normalizePeerUrl, postEvents, readAnswer, ReplicationService, SOURCE_HEADER, syncOnce, syncStateSchema, wsTransport,
  type SyncState,
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
  converged: z.boolean().describe('every reachable peer holds the same events and projections, and no link reports a divergence'),
  self: z.object({
    machine_id: z.string(), name: z.string(), event_count: z.number().int(),
    events_digest: z.string().describe('event-set digest: equal exactly when the same events are held'),
    projections_digest: z.string().describe('SHA-256 of every projection row'),
  }),
  peers: z.array(z.object({
    peer: z.string(), reachable: z.boolean(), name: z.string().nullable(), event_count: z.number().int().nullable(),
    protocol: z.number().int().nullable().describe('2: states an event-set digest; 1: only a projection digest'),
    events_digest: z.string().nullable(),
    events_equal: z.boolean().nullable().describe('same events (null: a version-1 peer cannot say)'),
    projections_equal: z.boolean().nullable(),
    differing_origins: z.array(z.string()).describe('origins whose count or digest differs from ours'),
    divergence: z.string().nullable().describe('what the live link reports: origins held differently below equal watermarks'),
    error: z.string().nullable(),
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

/** Per-origin counts and digests that differ between our state and a peer's (version 2 states). */
function differingOrigins(ours: SyncState, theirs: z.infer<typeof syncStateSchema>): string[] {
  if (theirs.counts === undefined || theirs.digests === undefined) return [];
  const origins = new Set([...Object.keys(ours.counts), ...Object.keys(theirs.counts)]);
  return [...origins].filter((o) => ours.counts[o] !== theirs.counts?.[o] || ours.digests[o] !== theirs.digests?.[o]).sort();
}

/**
 * `clare sync --check`: every configured peer's state, with its projection digest
 * (explicit, so the cost of hashing every projection row is asked for), compared
 * with ours; plus what each live link reports about divergence.
 */
async function checkConvergence(ctx: StoreContext, env: DaemonEnv, replication: ReplicationService): Promise<z.infer<typeof checkModel>> {
  const me = getSyncState(ctx, env.config.machine_id, env.config.name, { projections: '1' });
  const self = { machine_id: me.machine_id, name: me.name, event_count: me.event_count, events_digest: me.digest, projections_digest: me.projections_digest ?? '' };
  const live = replication.status();
  const urls = new Set([...env.peers.list().map((u) => normalizePeerUrl(u)), ...live.flatMap((s) => (s.url === null ? [] : [s.url]))]);
  const peers = await Promise.all([...urls].map(async (peer) => {
    const link = live.find((s) => s.url === peer);
    const divergence = link?.divergence === null || link?.divergence === undefined ? null : `${link.divergence.state}: ${link.divergence.origins.join(', ')}`;
    try {
      const url = `${peer}/api/v1/sync/state?projections=1`;
      const res = await fetch(url, { headers: bearerHeaders(env.config.mesh.token), redirect: 'error', signal: AbortSignal.timeout(60_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const st = syncStateSchema.parse(await readAnswer(res, url, MAX_SMALL_ANSWER_BYTES));
      const v2 = st.digest_kind === 'events';
      // A version-1 peer's `digest` is its projection digest.
      const theirProjections = v2 ? st.projections_digest ?? null : st.digest;
      return {
        peer, reachable: true, name: st.name, event_count: st.event_count, protocol: v2 ? 2 : 1, events_digest: v2 ? st.digest : null,
        events_equal: v2 ? st.digest === me.digest : null,
        projections_equal: theirProjections === null ? null : theirProjections === self.projections_digest,
        differing_origins: differingOrigins(me, st), divergence, error: null,
      };
    } catch (e) {
      return {
        peer, reachable: false, name: null, event_count: null, protocol: null, events_digest: null, events_equal: null, projections_equal: null,
        differing_origins: [], divergence, error: e instanceof Error ? e.message : String(e),
      };
    }
  }));
  const agrees = (p: (typeof peers)[number]): boolean => !p.reachable || (p.events_equal !== false && p.projections_equal === true && p.divergence === null);
  return { converged: peers.every(agrees) && peers.some((p) => p.reachable), self, peers };
}

export function replicationPart(env: DaemonEnv): DaemonPart {
  const { ctx, config, log } = env;
  const replication = new ReplicationService({
    ctx, machineId: config.machine_id, name: config.name, token: config.mesh.token, peers: () => env.peers.list(), log, recovery: env.recovery ?? null,
    ...(env.calls === undefined ? {} : { calls: env.calls }),
  });
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
              replication.noteHttpPull(r.name, r.peer_holds_ours?.hlc, r.peer_holds_ours?.count);
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
        summary: 'Whether every reachable peer has converged: same events (event-set digests), same projections, no divergence on the links',
        response: checkModel,
        handler: () => checkConvergence(ctx, env, replication),
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
