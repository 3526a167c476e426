/**
 * `clare serve`: the always-on daemon. Loads and checks everything before it
 * listens (config, rclaude, bind safety, database), then runs the services; on
 * SIGTERM it stops taking requests, drains in-flight ones, stops the services in
 * reverse order and closes the database cleanly.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { loadConfig, type ClareConfig } from '../core/config.js';
import type { StoreContext } from '../core/context.js';
import { openDb } from '../core/db.js';
import { ClareError } from '../core/errors.js';
import { locateRclaude, rclaudeVersion } from '../core/fleet/rclaude.js';
import { RemoteCalls } from '../replication/remote-calls.js';
import type { Logger } from '../core/log.js';
import { clarePaths } from '../core/paths.js';
import { ownStampFile, OwnStamp } from '../core/own-stamp.js';
import { detectRecovery, Recovery } from '../core/recovery.js';
import { applicableSkipped, rebuild } from '../core/rebuild.js';
import type { Service } from '../core/service-lifecycle.js';
import { announceName, GROUPS_DRIFT_ADVICE, importLegacyGroups, legacyGroupsDrift, openContext } from '../core/setup.js';
import { packageVersion } from '../core/version.js';
import { buildApp } from './app.js';
import { checkBind } from './bind-check.js';
import { PeerRegistry } from './peer-registry.js';
import type { AnyRoute } from './route.js';
import type { FleetPort, ReplicationPort } from './ports.js';

/** How long stopping waits for open HTTP connections before closing them (ms). */
const CLOSE_GRACE_MS = 2000;

/** What a plugged-in part of the daemon (fleet, replication, live) contributes. */
export interface DaemonPart {
  readonly service?: Service;
  readonly routes?: readonly AnyRoute[];
  readonly replication?: ReplicationPort;
  readonly fleet?: FleetPort;
  /**
   * Registers non-JSON routes (WebSockets, static files) on the app before it listens;
   * `ports` are the status ports the other parts provide (the live dashboard polls them).
   */
  readonly register?: (app: FastifyInstance, ports: DaemonPorts) => Promise<void>;
  /**
   * The service appends local events on its own (session polls, delivery receipts):
   * while the machine recovers its own events it must not run, so it starts once
   * recovery is done.
   */
  readonly writesOnItsOwn?: boolean;
  /** Sees every finished HTTP response, of every route (metrics); must not throw. */
  readonly onResponse?: (req: FastifyRequest, reply: FastifyReply) => void;
}

/** The status ports of the parts, for parts that report on the others. */
export interface DaemonPorts {
  readonly replication?: ReplicationPort;
  readonly fleet?: FleetPort;
}

/** Everything a part may need to build itself. */
export interface DaemonEnv {
  readonly ctx: StoreContext;
  readonly config: ClareConfig;
  readonly log: Logger;
  readonly peers: PeerRegistry;
  readonly rclaude: { readonly path: string; readonly version: string; readonly timeoutMs: number };
  /** Set when the daemon started recovering this machine's own events (recovery.ts); null otherwise. */
  readonly recovery?: Recovery | null;
  /** Remote fleet calls over the peer links: replication carries them, the fleet part runs and asks them. */
  readonly calls?: RemoteCalls;
  /** Clare's version (package.json) and when this daemon started: the status document's machine line. */
  readonly version: string;
  readonly startedAt: Date;
}

export type PartFactory = (env: DaemonEnv) => DaemonPart | Promise<DaemonPart>;

export interface Daemon {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly config: ClareConfig;
  /** Drains and stops everything; resolves when the database is closed. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly parts?: readonly PartFactory[];
}

/** Starts the daemon; throws a ClareError (config, rclaude, bind, port) before listening. */
export async function startDaemon(opts: StartOptions): Promise<Daemon> {
  const env = opts.env ?? process.env;
  const paths = clarePaths(env);
  const config = loadConfig(paths.configFile);
  const log = opts.log.child({ machine: config.name });

  await checkBind(config.server.host, config.mesh.token, config.file);
  const rclaudePath = locateRclaude(config.rclaude.path, env);
  const version = await rclaudeVersion({ path: rclaudePath, timeoutMs: config.rclaude.timeout_ms });

  const db = openDb(paths.dbFile);
  const started: Service[] = [];
  let app: FastifyInstance | null = null;
  try {
    const ctx = openContext(db, config, log);
    // After an upgrade: events stored unapplied that this build knows are applied now.
    const taught = applicableSkipped(db);
    if (taught > 0) {
      log.info('this build applies events an earlier one stored unapplied: rebuilding the projections', { events: taught });
      const r = rebuild(db);
      log.info('projections rebuilt', { events: r.events, applied: r.applied, skipped: r.skipped, ms: Math.round(r.ms) });
    }
    // Nothing is appended under our id before our own events are back (recovery.ts):
    // the start-up announcements wait for recovery, as do services that write on their own.
    const stampFile = ownStampFile(paths.dbFile);
    const recoveryReason = detectRecovery(db, config.machine_id, stampFile);
    const recovery = recoveryReason === null || ctx.gate === undefined ? null : new Recovery(db, ctx.gate, recoveryReason, log.child({ part: 'recovery' }));
    // Started first and stopped last: it notes every own event committed (own-stamp.ts).
    const stamp = new OwnStamp(ctx, stampFile, log.child({ part: 'recovery' }));
    await stamp.run();
    started.push(stamp);
    void recovery?.done.then(() => stamp.settle());
    const announce = (): void => {
      announceName(ctx, config);
      const imported = importLegacyGroups(ctx, config);
      if (imported.length > 0) log.info('imported groups from the [groups] table of clare.toml once; manage them with `clare group` from now on', { groups: imported });
      // Once per start: a [groups] table edited after that import does nothing, and a person should know.
      const drift = config.groups === undefined ? [] : legacyGroupsDrift(db, config.groups);
      if (drift.length > 0) log.warn(`[groups] in clare.toml differs from the replicated groups; ${GROUPS_DRIFT_ADVICE}`, { drift, config: config.file });
    };
    if (recovery === null) announce();

    const peers = new PeerRegistry(config.file, config.peers);
    // Links are authenticated only with a mesh token: without one, remote calls are refused (remote-calls.ts).
    const calls = new RemoteCalls({ machineId: config.machine_id, host: config.name, log: log.child({ part: 'calls' }), trusted: config.mesh.token !== undefined });
    const denv: DaemonEnv = {
      ctx, config, log, peers, rclaude: { path: rclaudePath, version, timeoutMs: config.rclaude.timeout_ms }, recovery, version: packageVersion(), startedAt: new Date(), calls,
    };
    const parts: DaemonPart[] = [];
    for (const f of opts.parts ?? []) parts.push(await f(denv));

    const replication = parts.find((p) => p.replication !== undefined)?.replication;
    const fleet = parts.find((p) => p.fleet !== undefined)?.fleet;
    app = buildApp({
      ctx, config, log, version: denv.version, startedAt: denv.startedAt, peers,
      ...(replication === undefined ? {} : { replication }),
      ...(fleet === undefined ? {} : { fleet }),
      extraRoutes: parts.flatMap((p) => p.routes ?? []),
      onResponse: (req, reply) => {
        for (const p of parts) p.onResponse?.(req, reply);
      },
      registerExtra: async (a: FastifyInstance) => {
        const ports: DaemonPorts = { ...(replication === undefined ? {} : { replication }), ...(fleet === undefined ? {} : { fleet }) };
        for (const p of parts) if (p.register !== undefined) await p.register(a, ports);
      },
    });
    await app.ready();
    // Every connection, for the end of the stop grace: closeAllConnections reaches only
    // those Node's HTTP parser still holds, not upgraded or upgrade-asking ones.
    const sockets = new Set<Socket>();
    app.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    try {
      await app.listen({ host: config.server.host, port: config.server.port });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new ClareError('CLARE_PORT_IN_USE', `port ${config.server.port} on ${config.server.host} is taken (another clare serve?); stop it or set [server] port in ${config.file}`, { port: config.server.port });
      }
      throw e;
    }
    const deferred: Service[] = [];
    for (const p of parts) {
      if (p.service === undefined) continue;
      if (recovery !== null && p.writesOnItsOwn === true) {
        deferred.push(p.service);
        continue;
      }
      await p.service.run();
      started.push(p.service);
    }
    const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${config.server.port}`;
    log.info('daemon listening', { url, rclaude: version, db: paths.dbFile, ...(recovery === null ? {} : { recovering: true }) });
    const liveApp = app;
    let stopping: Promise<void> | null = null;
    if (recovery !== null) {
      void recovery.done.then(async () => {
        if (stopping !== null) return;
        announce();
        for (const s of deferred) {
          await s.run();
          started.push(s);
        }
      }).catch((e: unknown) => log.error('starting services after recovery failed', { err: e }));
    }
    return {
      app: liveApp,
      url,
      config,
      stop: () => {
        stopping ??= (async () => {
          log.info('daemon stopping: draining');
          for (const s of [...started].reverse()) await s.drain?.();
          // Browsers keep spare sockets open that never carry a request; close() would wait
          // for their headers timeout (~100 s, past systemd's stop timeout). In-flight requests
          // get a grace period, then whatever is left is cut.
          const grace = setTimeout(() => {
            liveApp.server.closeAllConnections();
            for (const socket of sockets) socket.destroy();
          }, CLOSE_GRACE_MS);
          await liveApp.close();
          clearTimeout(grace);
          for (const s of [...started].reverse()) await s.stop();
          db.close();
          log.info('daemon stopped');
        })();
        return stopping;
      },
    };
  } catch (e) {
    for (const s of [...started].reverse()) await s.stop().catch(() => undefined);
    if (app !== null) await app.close().catch(() => undefined);
    db.close();
    throw e;
  }
}
