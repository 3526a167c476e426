/**
 * The fleet part of the daemon: session discovery (the poller), delivery of
 * assignments and broadcasts, and the fleet-action routes (pull, peek, spawn).
 * Everything it does to sessions goes through src/core/fleet/rclaude.ts.
 */
import { z } from 'zod';
import { hostNameSchema, pathSchema, sessionNameSchema } from '../core/domain.js';
import { ClareError } from '../core/errors.js';
import { DeliveryService } from '../core/fleet/delivery-service.js';
import { captureScreen, spawnSession, type RclaudeOptions } from '../core/fleet/rclaude.js';
import { SessionPoller } from '../core/fleet/session-poller.js';
import { sessionModel } from '../protocol/models.js';
import { getSession } from '../core/queries.js';
import type { Service } from '../core/service-lifecycle.js';
import type { DaemonPart, PartFactory } from './daemon.js';
import type { FleetPort } from './ports.js';
import { route, type AnyRoute } from './route.js';
import { pullResultModel } from '../protocol/status.js';

/** How often delivery rescans for work besides start-up and every commit (ms). */
const RESCAN_MS = 30_000;
const DEFAULT_PEEK_LINES = 40;

export const screenModel = z.object({
  host: z.string(),
  session: z.string(),
  lines: z.number().int(),
  text: z.string().describe('the last `lines` lines of the screen, trailing blank lines trimmed'),
});

const sessionParams = z.object({ host: hostNameSchema, session: sessionNameSchema });
const spawnInput = z.strictObject({
  host: hostNameSchema.describe("this daemon's host name (sessions are spawned by their own host)"),
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

  /** Refuses sessions of other hosts: only a host's own daemon runs rclaude for it. */
  const ownHost = (h: string, s: string, what: string): void => {
    if (h !== host) {
      throw new ClareError('CLARE_CONFLICT', `${h}:${s} is on host ${h}, and this daemon is ${host}: only ${h}'s own daemon can ${what} its sessions; run the command there (or point CLARE_URL at ${h}'s daemon)`, { host: h, session: s });
    }
  };

  const fleet: FleetPort = {
    pull: () => poller.pull(),
    async capture(h, s, lines) {
      ownHost(h, s, 'read the screens of');
      const known = (): boolean => {
        const x = getSession(ctx.db, h, s);
        return x !== null && !x.gone;
      };
      // A session spawned since the last poll is not in the projections yet: pull once.
      if (!known()) await poller.pull();
      if (!known()) throw new ClareError('CLARE_NOT_FOUND', `no session ${h}:${s} on this host; \`clare status\` lists the sessions`, { kind: 'session', ref: `${h}:${s}` });
      return captureScreen(rclaude, h, s, lines);
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
      method: 'GET', path: '/sessions/:host/:session/screen', tag: 'sessions', summary: "The last lines of a session's screen (this host's sessions only)",
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
      method: 'POST', path: '/sessions', tag: 'sessions', summary: 'Start a new agent session on this host (rclaude spawn)', status: 201,
      body: spawnInput, response: sessionModel,
      handler: async ({ body }) => {
        ownHost(body.host, body.session, 'spawn');
        await spawnSession(rclaude, body.host, body.session, body.cwd);
        await poller.pull();
        const s = getSession(ctx.db, body.host, body.session);
        if (s === null) throw new ClareError('CLARE_RCLAUDE_OUTPUT', `rclaude spawned ${body.host}:${body.session}, but its listing does not show it`, { host: body.host, session: body.session });
        return s;
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
