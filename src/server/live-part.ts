/**
 * The live dashboard as a daemon part: the `/api/v1/live` WebSocket (a snapshot,
 * then a frame per committed change; docs/dashboard.md) and the dashboard's static
 * files at `/`.
 *
 * Access is the API's `local` (src/server/route-access.ts): this machine's own user
 * without the token, anyone else with it; a page of another origin never (the app's
 * Origin check). Browsers cannot put headers on a WebSocket, so this route also
 * takes the token as `?token=`.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/log.js';
import type { DaemonEnv, DaemonPart, DaemonPorts, PartFactory } from './daemon.js';
import { LiveHub, type LiveSocket } from './live-hub.js';
import { defaultUiDir, loadUiAssets, registerUiRoutes, type UiAsset } from './live-static.js';
import { accessConfig } from './route-access.js';
import { statusDoc } from './status-doc.js';
import { statusModel } from '../protocol/status.js';

export const LIVE_PATH = '/api/v1/live';

export interface LivePartOptions {
  /** The built dashboard (index.html, app.js); default: dist/ui next to the server. */
  readonly uiDir?: string | null;
  /** Replication/fleet status poll while a dashboard is open (ms); default 1000. */
  readonly pollMs?: number;
}

function loadUi(dir: string | null | undefined, log: Logger): Map<string, UiAsset> | null {
  const d = dir === undefined ? defaultUiDir() : dir;
  if (d === null) return null;
  try {
    return loadUiAssets(d);
  } catch (e) {
    log.error('dashboard files could not be read; / answers 503', { dir: d, err: e });
    return null;
  }
}

/** Registers the live route on `app` (the part's scope of the daemon's app). */
export function registerLiveRoute(app: FastifyInstance, hub: LiveHub): void {
  app.get(LIVE_PATH, { websocket: true, config: accessConfig('local', { queryToken: true }) }, (socket, _req) => {
    const s: LiveSocket = socket;
    socket.on('message', (data, isBinary) => hub.onFrame(s, data, isBinary));
    socket.on('pong', () => hub.pong(s));
    socket.on('close', () => hub.detach(s));
    void hub.attach(s);
  });
}

/** The live part with its options (tests point `uiDir` at a fixture or at nothing). */
export function livePart(opts: LivePartOptions = {}): PartFactory {
  return (env: DaemonEnv): DaemonPart => {
    const log = env.log.child({ part: 'live' });
    let ports: DaemonPorts = {};
    const hub = new LiveHub({
      ctx: env.ctx,
      log,
      ...(opts.pollMs === undefined ? {} : { pollMs: opts.pollMs }),
      // Parsed by its model, as the route's answer is checked: the snapshot carries no field the model lacks.
      readStatus: () => Promise.resolve(statusModel.parse(statusDoc({ ...env, ...ports }))),
      readLinks: () => ({ peers: ports.replication?.status() ?? [], fleet: ports.fleet?.status() ?? null }),
    });
    const assets = loadUi(opts.uiDir, log);
    return {
      service: hub,
      register: (scope: FastifyInstance, p: DaemonPorts) => {
        ports = p;
        registerLiveRoute(scope, hub);
        registerUiRoutes(scope, assets, log);
        return Promise.resolve();
      },
    };
  };
}

/** The part `clare serve` plugs in (src/server/parts.ts). */
export const livePartFactory: PartFactory = livePart();
