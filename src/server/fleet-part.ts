/**
 * The fleet part of the daemon: session discovery (the poller), delivery of
 * assignments and broadcasts, and the fleet-action routes (pull, peek, spawn).
 * Everything it does to sessions goes through src/core/fleet/rclaude.ts.
 *
 * Peek and spawn for another host's session go over the peer links to that
 * host's daemon (src/replication/remote-calls.ts), which runs them with the very
 * same checks as its own routes (`captureHere`, `spawnHere`). Sends are not calls:
 * assignments and broadcasts are events, and each owner delivers its own sessions'
 * copies exactly once when the events reach it (delivery-service.ts) — offline
 * owners included, when they come back.
 */
import { z } from 'zod';
import { hostNameSchema, pathSchema, sessionNameSchema } from '../core/domain.js';
import { ClareError } from '../core/errors.js';
import { DeliveryService } from '../core/fleet/delivery-service.js';
import { captureScreen, spawnSession, type RclaudeOptions } from '../core/fleet/rclaude.js';
import { SessionPoller } from '../core/fleet/session-poller.js';
import { sessionModel, type Session } from '../protocol/models.js';
import { getSession } from '../core/queries.js';
import type { Service } from '../core/service-lifecycle.js';
import type { CallOp } from '../replication/index.js';
import type { DaemonPart, PartFactory } from './daemon.js';
import type { FleetPort } from './ports.js';
import { route, type AnyRoute } from './route.js';
import { pullResultModel } from '../protocol/status.js';

/** How often delivery rescans for work besides start-up and every commit (ms). */
const RESCAN_MS = 30_000;
const DEFAULT_PEEK_LINES = 40;

import { screenModel } from '../protocol/screen.js';

/** How long a remote spawn's answer waits for the new session's listing to replicate here (ms). */
const SPAWN_ARRIVAL_MS = 10_000;

const sessionParams = z.object({ host: hostNameSchema, session: sessionNameSchema });
const spawnInput = z.strictObject({
  host: hostNameSchema.describe('the host to start it on: this daemon runs rclaude for its own host, and asks the owning daemon over the mesh for another'),
  session: sessionNameSchema,
  cwd: pathSchema.describe('absolute working directory of the new session'),
});

export const fleetPart: PartFactory = (env): DaemonPart => {
  const { ctx, config, log } = env;
  const host = config.name;
  const rclaude: RclaudeOptions = { path: env.rclaude.path, timeoutMs: env.rclaude.timeoutMs };
  const intervalMs = config.rclaude.poll_interval_s * 1000;
  const poller = new SessionPoller({ ctx, host, rclaude, intervalMs, log: log.child({ part: 'sessions' }) });
  const delivery = new DeliveryService({
    ctx, host, rclaude, log: log.child({ part: 'delivery' }),
    broadcastGraceMs: config.mesh.max_clock_skew_ms + intervalMs,
    rescanMs: RESCAN_MS,
    ready: poller.firstPull,
  });

  const calls = env.calls;

  /** A session of this host, pulling once if it is not known yet (spawned since the last poll). */
  const knownHere = async (s: string): Promise<void> => {
    const known = (): boolean => {
      const x = getSession(ctx.db, host, s);
      return x !== null && !x.gone;
    };
    if (!known()) await poller.pull();
    if (!known()) throw new ClareError('CLARE_NOT_FOUND', `no session ${host}:${s} on this host; \`clare status\` lists the sessions`, { kind: 'session', ref: `${host}:${s}` });
  };

  /** Peek on this host: the one rule for the route and for calls from the mesh. */
  const captureHere = async (s: string, lines: number): Promise<string> => {
    await knownHere(s);
    return captureScreen(rclaude, host, s, lines);
  };

  /** Spawn on this host: the one rule for the route and for calls from the mesh. */
  const spawnHere = async (s: string, cwd: string): Promise<void> => {
    await spawnSession(rclaude, host, s, cwd);
    await poller.pull();
    if (getSession(ctx.db, host, s) === null) throw new ClareError('CLARE_RCLAUDE_OUTPUT', `rclaude spawned ${host}:${s}, but its listing does not show it`, { host, session: s });
  };

  calls?.serve({
    run: async (op: CallOp) => {
      if (op.verb === 'capture') return captureHere(op.session, op.lines);
      await spawnHere(op.session, op.cwd);
      return undefined;
    },
  });

  /** Another host's session: asked of its own daemon over the mesh. */
  const remote = async (h: string, op: CallOp): Promise<string | undefined> => {
    if (calls === undefined) throw new ClareError('CLARE_HOST_UNREACHABLE', `${h} is another host, and this daemon has no mesh to reach it`, { host: h });
    return calls.call(h, op);
  };

  /** Waits (bounded) for a session's row to arrive here by replication. */
  const arrival = (h: string, s: string): Promise<Session> => new Promise<Session>((resolve, reject) => {
    const now = getSession(ctx.db, h, s);
    if (now !== null) return resolve(now);
    const stop = (): void => {
      clearTimeout(timer);
      off();
    };
    const timer = setTimeout(() => {
      stop();
      reject(new ClareError('CLARE_TIMEOUT', `${h} spawned ${h}:${s}, but its listing has not reached this host within ${SPAWN_ARRIVAL_MS} ms; \`clare status\` will show it once it does`, { host: h, session: s }));
    }, SPAWN_ARRIVAL_MS);
    const off = ctx.feed.subscribe(() => {
      const x = getSession(ctx.db, h, s);
      if (x === null) return;
      stop();
      resolve(x);
    });
    return undefined;
  });

  const fleet: FleetPort = {
    pull: () => poller.pull(),
    async capture(h, s, lines) {
      if (h === host) return captureHere(s, lines);
      return (await remote(h, { verb: 'capture', session: s, lines })) ?? '';
    },
    status: () => {
      const s = poller.status();
      return { last_pull: s.lastPull, last_error: s.lastError, rclaude_version: env.rclaude.version };
    },
  };

  const routes: AnyRoute[] = [
    route({
      method: 'POST', path: '/sessions/pull', tag: 'sessions', summary: "List this host's sessions through rclaude now and record what changed",
      response: pullResultModel,
      handler: () => fleet.pull(),
    }),
    route({
      method: 'GET', path: '/sessions/:host/:session/screen', tag: 'sessions', summary: "The last lines of a session's screen (another host's through its daemon, over the mesh)",
      params: sessionParams,
      query: z.object({ lines: z.coerce.number().int().min(1).max(2000).optional() }),
      response: screenModel,
      handler: async ({ params, query }) => {
        const lines = query.lines ?? DEFAULT_PEEK_LINES;
        const text = await fleet.capture(params.host, params.session, lines);
        return { host: params.host, session: params.session, lines, text };
      },
    }),
    route({
      method: 'POST', path: '/sessions', tag: 'sessions', summary: 'Start a new agent session (rclaude spawn on its host; another host through its daemon, over the mesh)', status: 201,
      body: spawnInput, response: sessionModel,
      handler: async ({ body }) => {
        if (body.host === host) await spawnHere(body.session, body.cwd);
        else await remote(body.host, { verb: 'spawn', session: body.session, cwd: body.cwd });
        return arrival(body.host, body.session);
      },
    }),
  ];

  // Poller first: delivery's first scan waits for the first pull (poller.firstPull),
  // and on stop delivery drains first, so receipts land before the poller stops.
  const service: Service = {
    name: 'fleet',
    run: async () => {
      await poller.run();
      await delivery.run();
    },
    drain: async () => {
      await delivery.drain();
      await poller.drain();
    },
    stop: async () => {
      await delivery.stop();
      await poller.stop();
    },
  };
  // The poller and delivery append on their own: they wait while the machine recovers its events.
  return { service, routes, fleet, writesOnItsOwn: true };
};
