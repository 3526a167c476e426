/**
 * `clare sync` and `clare sync --check` as use-cases: which peers a round goes to,
 * one HTTP catch-up round with each, and whether the mesh has converged (same
 * events, same projections, no divergence reported on a live link). The daemon's
 * routes call these; nothing here knows fastify.
 */
import { z } from 'zod';
import type { StoreContext } from '../core/context.js';
import { asClareError, ClareError } from '../core/errors.js';
import type { MachineId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { bearerHeaders } from './auth.js';
import { readAnswer, syncOnce } from './http-sync-client.js';
import { getSyncState } from './http-sync-server.js';
import { MAX_SMALL_ANSWER_BYTES, syncStateSchema, type SyncState } from './http-sync-wire.js';
import { normalizePeerUrl } from './peer-url.js';
import type { ReplicationService } from './replication-service.js';
// The answers' wire shapes live in src/protocol: the CLI reads them too.
import type { ConvergenceReport, RunResult } from '../protocol/sync-run.js';


/** What a round or check needs of the daemon: who we are, our peers, the mesh token. */
export interface MeshContext {
  readonly ctx: StoreContext;
  readonly machineId: MachineId;
  readonly name: string;
  /** The configured peers' URLs, now. */
  readonly configured: () => readonly string[];
  /** The config file (named in messages). */
  readonly configFile: string;
  readonly token: string | undefined;
  readonly replication: ReplicationService;
  readonly log: Logger;
}

/**
 * Picks peers for `clare sync [PEER]`: all configured, or one by the name it goes by
 * or by URL. A sync round sends the mesh token, and the token goes to configured
 * peers only: with a token set, a URL that is not configured is refused (a URL typed
 * here is not vouched for); without one, nothing secret travels and any URL will do.
 */
export function selectPeers(mesh: MeshContext, peer: string | undefined): string[] {
  const configured = mesh.configured();
  if (peer === undefined) {
    if (configured.length === 0) throw new ClareError('CLARE_NOT_FOUND', `no peers in ${mesh.configFile}; add one with \`clare peer add URL\` or name a URL`);
    return [...configured];
  }
  for (const s of mesh.replication.status()) {
    if (s.name === peer && s.url !== null && configured.includes(s.url)) return [s.url];
  }
  let url: string;
  try {
    url = normalizePeerUrl(peer);
  } catch {
    throw new ClareError('CLARE_NOT_FOUND', `${JSON.stringify(peer)} is neither the name of a configured peer nor a URL`, { peer });
  }
  if (mesh.token !== undefined && !configured.includes(url)) {
    throw new ClareError('CLARE_NOT_FOUND', `${url} is not a configured peer; with [mesh] token set, sync rounds go to configured peers only (the token is sent to no one else): \`clare peer add ${url}\` first`, { peer });
  }
  return [url];
}

/** `clare sync [PEER]`: one HTTP catch-up round with each chosen peer, side by side; a failed peer is reported, not thrown. */
export async function runSyncRounds(mesh: MeshContext, peer: string | undefined): Promise<RunResult[]> {
  const targets = selectPeers(mesh, peer);
  return Promise.all(targets.map(async (url): Promise<RunResult> => {
    try {
      const r = await syncOnce(mesh.ctx, url, mesh.token);
      mesh.replication.noteHttpPull(r.name, r.peer_holds_ours?.hlc, r.peer_holds_ours?.count);
      return { peer: r.peer, ok: true, name: r.name, pulled: r.pulled, pulled_known: r.pulled_known, pushed: r.pushed, pushed_known: r.pushed_known, skipped: r.skipped, ms: r.ms, error: null };
    } catch (e) {
      const err = asClareError(e) ?? new ClareError('CLARE_PEER', e instanceof Error ? e.message : String(e));
      mesh.log.warn('sync round failed', { peer: url, code: err.code, err: err.message });
      return { peer: url, ok: false, name: null, pulled: 0, pulled_known: 0, pushed: 0, pushed_known: 0, skipped: 0, ms: 0, error: { code: err.code, message: err.message } };
    }
  }));
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
export async function checkConvergence(mesh: MeshContext): Promise<ConvergenceReport> {
  const me = getSyncState(mesh.ctx, mesh.machineId, mesh.name, { projections: '1' });
  const self = { machine_id: me.machine_id, name: me.name, event_count: me.event_count, events_digest: me.digest, projections_digest: me.projections_digest ?? '' };
  const live = mesh.replication.status();
  const urls = new Set([...mesh.configured().map((u) => normalizePeerUrl(u)), ...live.flatMap((s) => (s.url === null ? [] : [s.url]))]);
  const peers = await Promise.all([...urls].map(async (peer) => {
    const link = live.find((s) => s.url === peer);
    const divergence = link?.divergence === null || link?.divergence === undefined ? null : `${link.divergence.state}: ${link.divergence.origins.join(', ')}`;
    try {
      const url = `${peer}/api/v1/sync/state?projections=1`;
      const res = await fetch(url, { headers: bearerHeaders(mesh.token), redirect: 'error', signal: AbortSignal.timeout(60_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const st = syncStateSchema.parse(await readAnswer(res, url, MAX_SMALL_ANSWER_BYTES));
      const v2 = st.digest_kind === 'events';
      // A version-1 peer's `digest` is its projection digest.
      const theirProjections = v2 ? st.projections_digest ?? null : st.digest;
      return {
        peer, reachable: true, name: st.name, event_count: st.event_count, protocol: v2 ? 2 : 1, events_digest: v2 ? st.digest : null,
        events_equal: v2 ? st.digest === me.digest : null,
        // A version-1 peer hashes the projections of its schema: compare with ours in that shape.
        projections_equal: theirProjections === null ? null : theirProjections === (v2 ? self.projections_digest : me.projections_digest_v1),
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
