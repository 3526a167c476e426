/**
 * The daemon's HTTP app: JSON API under /api/v1 (and, once registered, the
 * dashboard and WebSockets). Built without listening so routes are tested with
 * `inject()`; the daemon adds the long-lived services.
 */
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteHandlerMethod } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { z } from 'zod';
import type { ClareConfig } from '../core/config.js';
import type { StoreContext } from '../core/context.js';
import { ClareError } from '../core/errors.js';
import { GroupCommit } from '../core/group-commit.js';
import { pinoOf, redactUrl, type Logger } from '../core/log.js';
import { getSyncState } from '../replication/http-sync-server.js';
import { MAX_FRAME_BYTES } from '../replication/tuning.js';
import { accessGuard } from './access-guard.js';
import { registerJsonBodyParser } from './json-body.js';
import { isLoopbackIp } from './loopback.js';
import type { PeerRegistry } from './peer-registry.js';
import type { FleetPort, ReplicationPort } from './ports.js';
import { openApiDocument, registerRoutes, route, type AnyRoute } from './route.js';
import { SocketOwners } from './socket-owner.js';
import { activityRoutes } from './routes/activity-routes.js';
import { fleetDataRoutes } from './routes/fleet-data-routes.js';
import { projectRoutes } from './routes/project-routes.js';
import { taskRoutes } from './routes/task-routes.js';
import { statusDoc } from './status-doc.js';
import { statusModel, syncStateModel } from '../protocol/status.js';

export interface AppDeps {
  readonly ctx: StoreContext;
  readonly config: ClareConfig;
  readonly log: Logger;
  readonly version: string;
  readonly startedAt: Date;
  readonly peers: PeerRegistry;
  readonly replication?: ReplicationPort;
  readonly fleet?: FleetPort;
  /** More routes (sync, fleet actions) from the services that own them. */
  readonly extraRoutes?: readonly AnyRoute[];
  /** Registers non-JSON routes (WebSockets, static files) before the app is ready. */
  readonly registerExtra?: (app: FastifyInstance) => Promise<void>;
  /** Called for every finished response, whatever route (metrics). */
  readonly onResponse?: (req: FastifyRequest, reply: FastifyReply) => void;
}

/**
 * Node takes a request off the HTTP parser when it has `Connection: upgrade` and an
 * `Upgrade` header; if it is answered instead of upgraded (refused, no such socket),
 * nothing of Node's will close its connection any more. Such an answer is the
 * connection's last: it says so, and once it is written the socket is ended and freed,
 * whether or not the client ever closes its side (a client that never did kept the
 * socket, half-closed, for as long as the daemon ran).
 */
const asksUpgrade = (h: IncomingHttpHeaders): boolean => h.upgrade !== undefined && /(^|,)\s*upgrade\s*(,|$)/i.test(h.connection ?? '');

const closing = new WeakSet<Socket>();

function lastAnswerOnUpgradeAsker(req: FastifyRequest, reply: FastifyReply): void {
  const socket = req.raw.socket;
  if (!asksUpgrade(req.headers) || closing.has(socket)) return;
  closing.add(socket);
  void reply.header('connection', 'close');
  reply.raw.once('finish', () => {
    socket.end();
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  });
}

/** fastify's own refusals before routing (bad percent-encoding, over-long parameter), as a coded error. */
function answerFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  // Routing never ran: no hook below sees this answer.
  lastAnswerOnUpgradeAsker(req, reply);
  void reply.code(400).send(new ClareError('CLARE_BAD_REQUEST', `${err.message} (${req.method} ${req.url.slice(0, 200)})`).toBody());
}

/** The answer of a WebSocket route to a request that is not an upgrade. */
const notUpgraded: RouteHandlerMethod = async (req, reply) => reply.code(400).send(new ClareError('CLARE_BAD_REQUEST',
  `${req.url.split('?')[0] ?? ''} is a WebSocket endpoint: connect with \`Connection: Upgrade\` and \`Upgrade: websocket\``).toBody());

export function buildApp(deps: AppDeps): FastifyInstance {
  // fastify logs through the daemon's own pino logger (same redaction); requests are
  // logged by the onResponse hook below, at debug, not by fastify at info.
  const pinoLog = pinoOf(deps.log);
  const httpLog: FastifyBaseLogger | null = pinoLog === null ? null : pinoLog.child({ part: 'http' });
  const app = Fastify({
    ...(httpLog === null ? { logger: false } : { loggerInstance: httpLog }),
    logController: new LogController({ disableRequestLogging: true }), bodyLimit: 32 * 1024 * 1024, forceCloseConnections: false,
    // Path parameters are checked by each route's zod schema (names and ids up to 200
    // characters); fastify's own limit of 100 would refuse some of them in its own shape.
    routerOptions: { maxParamLength: 1000 },
    // Errors fastify finds before routing (a bad percent-encoding, an over-long parameter)
    // answer in the catalog's shape like every other refusal.
    frameworkErrors: answerFrameworkError,
  });
  // A WebSocket route asked for without an upgrade gets a coded answer, not the plugin's
  // empty 404: the route's handler becomes its `wsHandler` before the plugin sees it
  // (this hook is added first, so it runs first).
  app.addHook('onRoute', (r) => {
    if (r.websocket !== true) return;
    r.wsHandler = r.handler as unknown as NonNullable<typeof r.wsHandler>;
    r.websocket = false;
    r.handler = notUpgraded;
  });
  // One WebSocket server for the app; the sync and live routes declare `websocket: true`.
  // maxPayload: the sync frame bound (a batch's 4 MiB plus room); live frames are far smaller.
  void app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });

  registerJsonBodyParser(app);

  // Who is on the other end of a loopback connection, read when it is accepted (while the
  // client socket surely exists) and kept for the connection's requests.
  const owners = new SocketOwners({ uid: process.getuid?.() ?? -1, log: deps.log });
  app.server.on('connection', (socket: Socket) => {
    if (isLoopbackIp(socket.remoteAddress)) void owners.isOwnUser(socket);
  });
  app.addHook('onRequest', accessGuard({
    token: deps.config.mesh.token,
    allowedHosts: deps.config.server.allowed_hosts,
    allowedOrigins: deps.config.server.allowed_origins,
    owners,
  }));
  // An upgrade request answered instead of upgraded: that answer is its connection's last
  // (an upgraded socket's reply is hijacked: this hook never runs for it).
  app.addHook('onSend', (req, reply, payload, done) => {
    lastAnswerOnUpgradeAsker(req, reply);
    done(null, payload);
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.log.debug('request', { method: req.method, url: redactUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
    deps.onResponse?.(req, reply);
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ClareError) {
      if (err.status >= 500) deps.log.error('request failed', { url: req.url, err });
      return reply.code(err.status).send(err.toBody());
    }
    const fe = err as { statusCode?: number; code?: string; message: string };
    if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
      const status = fe.statusCode === 413 ? 413 : 400;
      return reply.code(status).send({ error: { code: 'CLARE_BAD_REQUEST', message: `${fe.message}${fe.code === undefined ? '' : ` (${fe.code})`}` } });
    }
    deps.log.error('unexpected error', { url: req.url, err });
    return reply.code(500).send(new ClareError('CLARE_INTERNAL', 'internal error; see the daemon log').toBody());
  });

  app.setNotFoundHandler((req, reply) => {
    return reply.code(404).send(new ClareError('CLARE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}; see /api/v1/openapi.json`).toBody());
  });

  const routes: AnyRoute[] = [
    ...projectRoutes(deps.ctx),
    ...taskRoutes(deps.ctx),
    ...fleetDataRoutes(deps.ctx),
    ...activityRoutes(deps.ctx),
    route({
      method: 'GET', path: '/status', tag: 'status', summary: 'Machine, counts, fleet per host, peers, last pull',
      response: statusModel,
      handler: () => statusDoc(deps),
    }),
    route({
      method: 'GET', path: '/sync/state', tag: 'sync', access: 'mesh',
      summary: 'Watermarks, counts and digests per origin and the event-set digest (O(origins)); ?projections=1 adds the projection digest (reads every row)',
      query: z.object({ projections: z.enum(['0', '1']).optional() }),
      response: syncStateModel,
      handler: ({ query }) => getSyncState(deps.ctx, deps.config.machine_id, deps.config.name, query),
    }),
    route({
      method: 'GET', path: '/peers', tag: 'peers', summary: 'Configured peers with their live status', access: 'mesh',
      response: z.array(z.object({ url: z.string(), status: z.unknown() })),
      handler: () => {
        const live = deps.replication?.status() ?? [];
        return deps.peers.list().map((url) => ({ url, status: live.find((p) => p.url === url) ?? null }));
      },
    }),
    route({
      method: 'POST', path: '/peers', tag: 'peers', summary: 'Add a peer to clare.toml (takes effect at once)', status: 201, access: 'mesh',
      body: z.strictObject({ url: z.string().min(1).max(500) }), response: z.object({ url: z.string(), added: z.boolean() }),
      handler: ({ body }) => {
        const added = deps.peers.add(body.url);
        deps.replication?.reloadPeers();
        return { url: body.url.replace(/\/+$/, ''), added };
      },
    }),
    route({
      method: 'DELETE', path: '/peers', tag: 'peers', summary: 'Remove a peer from clare.toml', access: 'mesh',
      query: z.object({ url: z.string().min(1).max(500) }), response: z.object({ url: z.string(), removed: z.boolean() }),
      handler: ({ query }) => {
        deps.peers.remove(query.url);
        deps.replication?.reloadPeers();
        return { url: query.url, removed: true };
      },
    }),
    ...(deps.extraRoutes ?? []),
  ];
  registerRoutes(app, routes, new GroupCommit(deps.ctx.db, deps.ctx.feed));
  if (deps.registerExtra !== undefined) {
    const extra = deps.registerExtra;
    void app.register(async (scope) => extra(scope));
  }
  const doc = openApiDocument(routes, deps.version);
  app.get('/api/v1/openapi.json', () => doc);
  return app;
}
