/**
 * Health and metrics as a daemon part: `GET /api/v1/health` (public: ok or
 * degraded) and `GET /metrics` (Prometheus text; the token rules of every route, so
 * from another machine it needs the mesh token).
 */
import type { DaemonPart, DaemonPorts, PartFactory } from './daemon.js';
import { healthRoute } from './health.js';
import { DaemonMetrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

export const observePart: PartFactory = (env): DaemonPart => {
  let ports: DaemonPorts = {};
  const metrics = new DaemonMetrics({ db: env.ctx.db, feed: env.ctx.feed, ports: () => ports });
  return {
    routes: [healthRoute(env.ctx.db, () => ports)],
    service: {
      name: 'metrics',
      run: () => {
        metrics.start();
        return Promise.resolve();
      },
      stop: () => {
        metrics.stop();
        return Promise.resolve();
      },
    },
    onResponse: (req, reply) => metrics.observeResponse(req, reply),
    register: async (app, p) => {
      ports = p;
      app.server.on('upgrade', (req, socket) => metrics.observeUpgrade(req, socket));
      app.get(METRICS_PATH, async (_req, reply) => {
        const m = await metrics.text();
        return reply.type(m.contentType).send(m.body);
      });
      await Promise.resolve();
    },
  };
};
