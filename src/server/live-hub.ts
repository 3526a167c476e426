/**
 * The live hub: every dashboard socket, fed from the commit feed. Frames for a
 * commit are built once and sent to every socket; a socket joins with a snapshot
 * built synchronously, so no commit falls between its snapshot and its first change.
 *
 * What must stay true: a dashboard never silently misses a change. Whenever a frame
 * cannot be built or delivered (an error, a commit too large, a slow reader), the
 * socket gets a fresh snapshot or is closed, and the page resyncs on reconnect.
 */
import type { CommitNotice } from '../core/commit-feed.js';
import type { StoreContext } from '../core/context.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service-lifecycle.js';
import { eventCount } from '../core/store.js';
import { changesOf, ConflictTracker } from './live-changes.js';
import { clientFrame, LIVE_CLOSE, MAX_CLIENT_FRAME_BYTES, type ErrorMessage, type ServerMessage } from './live-protocol.js';
import { buildSnapshot } from './live-snapshot.js';
import type { FleetStatus, PeerStatus } from './ports.js';
import type { StatusDoc } from './status-models.js';

/** What the hub needs of a WebSocket (the `ws` socket has all of it). */
export interface LiveSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  ping(): void;
  terminate(): void;
}

const OPEN = 1;

/** A status document older than this is re-read for a new dashboard (ms). */
const STATUS_MAX_AGE_MS = 1000;

export interface LiveHubOptions {
  readonly ctx: StoreContext;
  readonly log: Logger;
  /** Reads the status document (GET /api/v1/status) for a snapshot. */
  readonly readStatus: () => Promise<StatusDoc>;
  /** Reads replication and fleet status from their ports: cheap, polled. */
  readonly readLinks: () => { readonly peers: PeerStatus[]; readonly fleet: FleetStatus | null };
  /** How often replication and fleet status are polled while a dashboard is open (ms). */
  readonly pollMs?: number;
  /** How often sockets are pinged; one missed pong closes the socket (ms). */
  readonly heartbeatMs?: number;
  /** A socket with more unsent bytes than this is closed (it reconnects and resyncs). */
  readonly maxBufferedBytes?: number;
}

interface ClientState {
  alive: boolean;
}

export class LiveHub implements Service {
  readonly name = 'live';
  private readonly clients = new Map<LiveSocket, ClientState>();
  private readonly conflicts = new ConflictTracker();
  private status: StatusDoc | null = null;
  private statusAt = 0;
  private sentPeers = '';
  private sentFleet = '';
  private unsubscribe: (() => void) | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly pollMs: number;
  private readonly heartbeatMs: number;
  private readonly maxBuffered: number;

  constructor(private readonly opts: LiveHubOptions) {
    this.pollMs = opts.pollMs ?? 1000;
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
    this.maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
  }

  /** Subscribes to the feed. Also done by the first `attach`, which may come before `run`. */
  run(): Promise<void> {
    this.subscribe();
    return Promise.resolve();
  }

  /** Closes every dashboard socket with "going away": pages reconnect to the next daemon. */
  drain(): Promise<void> {
    this.stopped = true;
    for (const s of [...this.clients.keys()]) this.close(s, LIVE_CLOSE.goingAway, 'daemon stopping');
    this.stopTimers();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.drain();
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  get size(): number {
    return this.clients.size;
  }

  /** A new socket: snapshot now, then every change. Never throws; a failure closes the socket. */
  async attach(socket: LiveSocket): Promise<void> {
    if (this.stopped) {
      socket.close(LIVE_CLOSE.goingAway, 'daemon stopping');
      return;
    }
    this.subscribe();
    try {
      // The status document costs a full overview: read it per connection, not per poll.
      if (this.status === null || Date.now() - this.statusAt > STATUS_MAX_AGE_MS) this.setStatus(await this.opts.readStatus());
      if (socket.readyState !== OPEN || this.stopped) return;
      // From here to clients.set no await: the snapshot and the subscription are one step.
      this.sendSnapshot(socket);
      this.clients.set(socket, { alive: true });
      this.startTimers();
    } catch (e) {
      this.opts.log.error('live: snapshot failed', { err: e });
      this.fail(socket, { type: 'error', code: 'CLARE_INTERNAL', message: 'the daemon could not read the snapshot; see its log' }, LIVE_CLOSE.internalError);
    }
  }

  /** The socket closed (either side). */
  detach(socket: LiveSocket): void {
    this.clients.delete(socket);
    if (this.clients.size === 0) this.stopTimers();
  }

  pong(socket: LiveSocket): void {
    const c = this.clients.get(socket);
    if (c !== undefined) c.alive = true;
  }

  /** An inbound frame: parsed, answered; a bad one gets a coded error and the socket is closed. */
  onFrame(socket: LiveSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    try {
      const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
      if (isBinary || bytes > MAX_CLIENT_FRAME_BYTES) {
        this.fail(socket, { type: 'error', code: 'CLARE_PROTOCOL', message: isBinary ? 'live frames are JSON text' : `frame of ${bytes} bytes is over the ${MAX_CLIENT_FRAME_BYTES}-byte limit` }, LIVE_CLOSE.protocolError);
        return;
      }
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        this.fail(socket, { type: 'error', code: 'CLARE_PROTOCOL', message: 'frame is not JSON' }, LIVE_CLOSE.protocolError);
        return;
      }
      const r = clientFrame.safeParse(json);
      if (!r.success) {
        const why = r.error.issues.map((i) => `${i.path.join('.') || '(frame)'}: ${i.message}`).join('; ');
        this.fail(socket, { type: 'error', code: 'CLARE_PROTOCOL', message: `bad frame: ${why}; expected {"type":"resync"} or {"type":"ping","t":<number>}` }, LIVE_CLOSE.protocolError);
        return;
      }
      const c = this.clients.get(socket);
      if (c !== undefined) c.alive = true;
      switch (r.data.type) {
        case 'ping':
          this.send(socket, JSON.stringify({ type: 'pong', t: r.data.t } satisfies ServerMessage));
          break;
        case 'resync':
          // Before attach has finished the snapshot is on its way anyway.
          if (c !== undefined) this.sendSnapshot(socket);
          break;
      }
    } catch (e) {
      this.opts.log.error('live: handling a frame failed', { err: e });
      this.fail(socket, { type: 'error', code: 'CLARE_INTERNAL', message: 'internal error; see the daemon log' }, LIVE_CLOSE.internalError);
    }
  }

  private subscribe(): void {
    if (this.unsubscribe === null && !this.stopped) this.unsubscribe = this.opts.ctx.feed.subscribe((n) => this.onCommit(n));
  }

  private onCommit(notice: CommitNotice): void {
    if (this.clients.size === 0) return;
    try {
      const cursor = eventCount(this.opts.ctx.db);
      const set = changesOf(this.opts.ctx.db, notice, cursor, this.conflicts);
      if (set.kind === 'too-many') {
        this.opts.log.debug('live: large commit, sending snapshots instead of changes', { entities: set.count });
        for (const s of [...this.clients.keys()]) this.sendSnapshot(s);
        return;
      }
      const frames = set.messages.map((m) => JSON.stringify(m));
      for (const s of [...this.clients.keys()]) for (const f of frames) if (!this.send(s, f)) break;
    } catch (e) {
      // Listeners must not throw into the writer; the pages resync on reconnect instead.
      this.opts.log.error('live: building change frames failed; closing dashboards so they resync', { err: e });
      for (const s of [...this.clients.keys()]) {
        this.fail(s, { type: 'error', code: 'CLARE_INTERNAL', message: 'the daemon could not build a change; reconnecting resyncs' }, LIVE_CLOSE.internalError);
      }
    }
  }

  private sendSnapshot(socket: LiveSocket): void {
    if (this.status === null) return; // attach reads the status before the first snapshot
    // Peers and fleet as of the last poll, newer than the cached document's.
    const links = this.opts.readLinks();
    const status: StatusDoc = { ...this.status, peers: links.peers, fleet: links.fleet };
    const snap = buildSnapshot(this.opts.ctx.db, status, eventCount(this.opts.ctx.db), this.conflicts);
    this.send(socket, JSON.stringify(snap));
  }

  /** Sends a frame; false (and the socket closed) if it is gone or too far behind. */
  private send(socket: LiveSocket, frame: string): boolean {
    if (socket.readyState !== OPEN) {
      this.detach(socket);
      return false;
    }
    if (socket.bufferedAmount > this.maxBuffered) {
      this.opts.log.warn('live: dashboard reads too slowly, closing it (it resyncs on reconnect)', { buffered: socket.bufferedAmount });
      this.close(socket, LIVE_CLOSE.tooSlow, 'too slow; reconnect to resync');
      return false;
    }
    try {
      socket.send(frame);
      return true;
    } catch (e) {
      this.opts.log.debug('live: send failed', { err: e });
      this.close(socket, LIVE_CLOSE.internalError, 'send failed');
      return false;
    }
  }

  private fail(socket: LiveSocket, err: ErrorMessage, code: number): void {
    if (socket.readyState === OPEN) {
      try {
        socket.send(JSON.stringify(err));
      } catch {
        // closing anyway
      }
    }
    this.close(socket, code, err.code);
  }

  private close(socket: LiveSocket, code: number, reason: string): void {
    this.detach(socket);
    try {
      socket.close(code, reason);
    } catch {
      socket.terminate();
    }
  }

  private startTimers(): void {
    if (this.pollTimer === null) {
      this.pollTimer = setInterval(() => this.poll(), this.pollMs);
      this.pollTimer.unref();
    }
    if (this.heartbeatTimer === null) {
      this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatMs);
      this.heartbeatTimer.unref();
    }
  }

  private stopTimers(): void {
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.pollTimer = null;
    this.heartbeatTimer = null;
  }

  /** Sends peers and fleet status when they differ from what was sent last. */
  private poll(): void {
    let links: ReturnType<LiveHubOptions['readLinks']>;
    try {
      links = this.opts.readLinks();
    } catch (e) {
      this.opts.log.error('live: reading replication/fleet status failed', { err: e });
      return;
    }
    const peers = JSON.stringify({ type: 'peers', peers: links.peers } satisfies ServerMessage);
    if (peers !== this.sentPeers) {
      this.sentPeers = peers;
      for (const s of [...this.clients.keys()]) this.send(s, peers);
    }
    const fleet = JSON.stringify({ type: 'fleet', fleet: links.fleet } satisfies ServerMessage);
    if (fleet !== this.sentFleet) {
      this.sentFleet = fleet;
      for (const s of [...this.clients.keys()]) this.send(s, fleet);
    }
  }

  private setStatus(s: StatusDoc): void {
    this.status = s;
    this.statusAt = Date.now();
  }

  private heartbeat(): void {
    for (const [s, c] of [...this.clients]) {
      if (!c.alive) {
        this.opts.log.debug('live: dashboard missed a pong, dropping it');
        this.detach(s);
        s.terminate();
        continue;
      }
      c.alive = false;
      try {
        s.ping();
      } catch {
        this.detach(s);
      }
    }
  }
}
