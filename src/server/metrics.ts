/**
 * The daemon's Prometheus metrics (prom-client, text format at `GET /metrics`).
 *
 * Figures come from where they are already kept — the replication and fleet
 * status ports, the watermarks table (one row per origin), the commit feed,
 * rclaude call notices on a diagnostics channel, the HTTP server's upgrades — and
 * are read at scrape time, so nothing here grows with the event log and no service
 * is reached into. Label values are bounded: origins and peers are machines of the
 * mesh, routes are fastify's route patterns (`unmatched` for a 404), verbs are
 * rclaude's.
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommitFeed, CommitNotice } from '../core/commit-feed.js';
import { cachedStatement as stmt, type Db } from '../core/db.js';
import { RCLAUDE_CALLS, type RclaudeCallNotice } from '../core/fleet/rclaude.js';
import type { DaemonPorts } from './daemon.js';
import { degradedReasons } from './health.js';

/** Latency buckets (seconds) for HTTP requests and rclaude calls: 1 ms … 30 s. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Which WebSocket an upgrade is for, from its path (a label, not an access decision). */
function socketKind(url: string | undefined): 'live' | 'sync' | 'other' {
  const path = (url ?? '').split('?')[0] ?? '';
  if (path.endsWith('/live')) return 'live';
  if (path.endsWith('/sync/ws')) return 'sync';
  return 'other';
}

export interface MetricsSources {
  readonly db: Db;
  readonly feed: CommitFeed;
  /** The other parts' status ports (filled in before the daemon listens). */
  readonly ports: () => DaemonPorts;
}

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly http: Histogram<'method' | 'route' | 'status'>;
  private readonly rclaudeSeconds: Histogram<'verb'>;
  private readonly rclaudeFailures: Counter<'verb' | 'reason'>;
  private readonly committed: Counter<'source'>;
  private readonly sockets: Gauge<'kind'>;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly src: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'clare_' });

    this.http = new Histogram({ name: 'clare_http_request_duration_seconds', help: 'HTTP request latency by route pattern, method and status class', labelNames: ['method', 'route', 'status'], buckets: BUCKETS, registers });
    this.rclaudeSeconds = new Histogram({ name: 'clare_rclaude_call_duration_seconds', help: 'rclaude calls by verb, successful or not', labelNames: ['verb'], buckets: BUCKETS, registers });
    this.rclaudeFailures = new Counter({ name: 'clare_rclaude_call_failures_total', help: 'rclaude calls that failed, by verb and reason (timeout, failed)', labelNames: ['verb', 'reason'], registers });
    this.committed = new Counter({ name: 'clare_events_committed_total', help: 'events written to the log since start, by source (local writes, remote ingest)', labelNames: ['source'], registers });
    this.sockets = new Gauge({ name: 'clare_websockets_open', help: 'open WebSocket connections by kind (live dashboard, sync link)', labelNames: ['kind'], registers });
    this.sockets.set({ kind: 'live' }, 0);
    this.sockets.set({ kind: 'sync' }, 0);

    const db = src.db;
    new Gauge({
      name: 'clare_events_held', help: 'events held per origin machine', labelNames: ['origin', 'name'], registers,
      collect() {
        this.reset();
        const rows = stmt(db, 'SELECT w.origin AS origin, w.count AS count, m.name AS name FROM watermarks w LEFT JOIN machines m ON m.machine_id = w.origin').all() as { origin: string; count: number; name: string | null }[];
        for (const r of rows) this.set({ origin: r.origin, name: r.name ?? '' }, r.count);
      },
    });
    const peerGauge = (name: string, help: string, value: (p: ReturnType<NonNullable<DaemonPorts['replication']>['status']>[number]) => number | null): void => {
      const ports = src.ports;
      new Gauge({
        name, help, labelNames: ['peer', 'url'], registers,
        collect() {
          this.reset();
          for (const p of ports().replication?.status() ?? []) {
            const v = value(p);
            if (v !== null) this.set({ peer: p.name ?? p.machine_id ?? '', url: p.url ?? 'inbound' }, v);
          }
        },
      });
    };
    peerGauge('clare_peer_connected', '1 while the link to the peer is up', (p) => (p.connected ? 1 : 0));
    peerGauge('clare_peer_faulty', '1 when the peer sent bad data and the link was stopped', (p) => (p.faulty ? 1 : 0));
    peerGauge('clare_peer_lag_they_lack_events', 'events we hold that the peer lacks', (p) => p.lag?.they_lack ?? null);
    peerGauge('clare_peer_lag_we_lack_events', 'events the peer holds that we lack', (p) => p.lag?.we_lack ?? null);
    peerGauge('clare_peer_clock_offset_seconds', "the peer's clock minus ours, as measured on the link", (p) => (p.clock_offset_ms === null ? null : p.clock_offset_ms / 1000));
    peerGauge('clare_peer_events_sent', 'events sent on the current link', (p) => p.events_sent);
    peerGauge('clare_peer_events_received', 'events received on the current link', (p) => p.events_received);
    const ports = src.ports;
    new Gauge({
      name: 'clare_fleet_sessions', help: "this host's sessions in rclaude's last listing", registers,
      collect() {
        const n = ports().fleet?.status().last_pull?.sessions;
        if (n !== undefined) this.set(n);
      },
    });
    new Gauge({
      name: 'clare_health_degraded', help: '1 while GET /api/v1/health answers degraded', registers,
      collect() {
        this.set(degradedReasons(db, ports()).length === 0 ? 0 : 1);
      },
    });
  }

  /** Starts listening to commits and rclaude calls. */
  start(): void {
    this.unsubscribe.push(this.src.feed.subscribe((n: CommitNotice) => this.committed.inc({ source: n.source === 'local' ? 'local' : 'remote' }, n.events.length)));
    const onCall = (m: unknown): void => {
      const c = m as RclaudeCallNotice;
      this.rclaudeSeconds.observe({ verb: c.verb }, c.seconds);
      if (c.outcome !== 'ok') this.rclaudeFailures.inc({ verb: c.verb, reason: c.outcome });
    };
    diagnostics.subscribe(RCLAUDE_CALLS, onCall);
    this.unsubscribe.push(() => diagnostics.unsubscribe(RCLAUDE_CALLS, onCall));
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** One finished HTTP response (not WebSocket upgrades: their "latency" is the socket's life). */
  observeResponse(req: FastifyRequest, reply: FastifyReply): void {
    if (req.raw.headers.upgrade !== undefined) return;
    const route = req.routeOptions.url ?? 'unmatched';
    this.http.observe({ method: req.method, route, status: `${Math.floor(reply.statusCode / 100)}xx` }, reply.elapsedTime / 1000);
  }

  /** Counts a WebSocket upgrade until its socket closes (refused upgrades close at once). */
  observeUpgrade(req: IncomingMessage, socket: Duplex): void {
    const kind = socketKind(req.url);
    this.sockets.inc({ kind });
    socket.once('close', () => this.sockets.dec({ kind }));
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
