/**
 * The live hub: every dashboard socket, fed from the commit feed. Frames for a
 * commit are built once, encoded once and the same buffers queued on every socket;
 * a socket joins with a snapshot built synchronously, so no commit falls between its
 * snapshot and its first change.
 *
 * What must stay true:
 * - A dashboard never silently misses a change. Whenever a frame cannot be built or
 *   delivered (an error, a commit too large, a socket with too much queued), the
 *   socket gets a fresh snapshot or is closed, and the page resyncs on reconnect.
 * - Memory is bounded per socket: frames that would take a socket's send buffer past
 *   `maxBufferedBytes` are not queued; the socket is owed a snapshot instead (at most
 *   SNAPSHOT_MAX_BYTES, shared), sent when it has drained. A socket that does not
 *   drain within `maxStallMs` is closed with CLARE_TOO_LARGE; one that misses a pong
 *   is cut. A socket that reads is never closed for being slow.
 * - Nothing is kept for a socket after it closes; the shared snapshot is dropped with
 *   the last socket.
 */
import type { CommitNotice } from '../core/commit-feed.js';
import type { StoreContext } from '../core/context.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service-lifecycle.js';
import { overviewCounts } from '../core/service/overview.js';
import { eventCount } from '../core/store.js';
import { changesOf, ConflictTracker } from './live-changes.js';
import { clientFrame, LIVE_CLOSE, MAX_CLIENT_FRAME_BYTES, type ErrorMessage, type ServerMessage } from '../protocol/live.js';
import { buildSnapshot } from './live-snapshot.js';
import type { FleetStatus, PeerStatus } from '../protocol/status.js';
import type { StatusDoc } from '../protocol/status.js';

/** What the hub needs of a WebSocket (the `ws` socket has all of it). */
export interface LiveSocket {
  readonly readyState: number;
  /** Bytes queued in user space and not yet taken by the kernel. */
  readonly bufferedAmount: number;
  send(data: Buffer, options: { binary: boolean }): void;
  close(code: number, reason: string): void;
  ping(): void;
  terminate(): void;
}

const OPEN = 1;

/** A status document older than this is re-read for a new dashboard (ms); also the snapshot cache's age. */
const STATUS_MAX_AGE_MS = 1000;
/** How often sockets owed a snapshot are checked for having drained (ms). */
const DRAIN_CHECK_MS = 50;
/** Counts are sent at most this often after commits (ms). */
const COUNTS_DELAY_MS = 100;
/** A socket closed for not reading gets this long to take the close frame before it is cut (ms). */
const CLOSE_GRACE_MS = 2000;

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
  /**
   * A socket's send-buffer bound for change frames (bytes; default 2 MiB). Frames that
   * would take it past this are not queued: the socket is owed a snapshot instead.
   */
  readonly maxBufferedBytes?: number;
  /**
   * Snapshots go only to a socket with at most this much queued (default 64 KiB). So a
   * socket holds at most max(maxBufferedBytes, lowWaterBytes + SNAPSHOT_MAX_BYTES).
   */
  readonly lowWaterBytes?: number;
  /** A socket owed a snapshot that has not drained for this long is closed, CLARE_TOO_LARGE (ms). */
  readonly maxStallMs?: number;
  /** At most this many dashboards at once; more are refused, CLARE_TOO_LARGE. */
  readonly maxClients?: number;
}

interface ClientState {
  alive: boolean;
  /**
   * Since when the socket is owed a snapshot (it read too slowly for its frames, or a
   * commit was too large for frames); meanwhile it gets no frames.
   */
  owedSince: number | null;
}

const frameOf = (m: ServerMessage): Buffer => Buffer.from(JSON.stringify(m), 'utf8');

export class LiveHub implements Service {
  readonly name = 'live';
  private readonly clients = new Map<LiveSocket, ClientState>();
  private readonly conflicts = new ConflictTracker();
  private status: StatusDoc | null = null;
  private statusAt = 0;
  /** The last snapshot built, shared by every socket that needs one at the same cursor. */
  private snapshot: { cursor: number; at: number; frame: Buffer } | null = null;
  private sentPeers = '';
  private sentFleet = '';
  private sentCounts = '';
  private unsubscribe: (() => void) | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private countsTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly pollMs: number;
  private readonly heartbeatMs: number;
  private readonly maxBuffered: number;
  private readonly lowWater: number;
  private readonly maxStallMs: number;
  private readonly maxClients: number;

  constructor(private readonly opts: LiveHubOptions) {
    this.pollMs = opts.pollMs ?? 1000;
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
    this.maxBuffered = opts.maxBufferedBytes ?? 2 * 1024 * 1024;
    this.lowWater = opts.lowWaterBytes ?? 64 * 1024;
    this.maxStallMs = opts.maxStallMs ?? 30_000;
    this.maxClients = opts.maxClients ?? 64;
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
    if (this.clients.size >= this.maxClients) {
      this.fail(socket, { type: 'error', code: 'CLARE_TOO_LARGE', message: `this daemon already serves ${this.maxClients} dashboards; close one and reconnect` }, LIVE_CLOSE.tooSlow);
      return;
    }
    this.subscribe();
    try {
      if (this.status === null || Date.now() - this.statusAt > STATUS_MAX_AGE_MS) this.setStatus(await this.opts.readStatus());
      if (socket.readyState !== OPEN || this.stopped) return;
      // From here to clients.set no await: the snapshot and the subscription are one step.
      const c: ClientState = { alive: true, owedSince: null };
      this.clients.set(socket, c);
      this.startTimers();
      this.deliverSnapshot(socket, c);
    } catch (e) {
      this.detach(socket);
      this.opts.log.error('live: snapshot failed', { err: e });
      this.fail(socket, { type: 'error', code: 'CLARE_INTERNAL', message: 'the daemon could not read the snapshot; see its log' }, LIVE_CLOSE.internalError);
    }
  }

  /** The socket closed (either side). */
  detach(socket: LiveSocket): void {
    this.clients.delete(socket);
    if (this.clients.size === 0) {
      this.stopTimers();
      // Nothing to share it with: let it go with the last socket.
      this.snapshot = null;
    }
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
          if (c !== undefined) this.deliver(socket, c, [frameOf({ type: 'pong', t: r.data.t })]);
          break;
        case 'resync':
          // Before attach has finished the snapshot is on its way anyway.
          if (c !== undefined) this.deliverSnapshot(socket, c);
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
        // Owed, not built here: a burst of large commits (a catch-up) makes one snapshot
        // per drain check, outside the writer's path, not one per commit.
        this.opts.log.debug('live: large commit, sending snapshots instead of changes', { entities: set.count });
        for (const c of this.clients.values()) this.owe(c);
      } else {
        // Encoded once; every socket queues the same buffers.
        const frames = set.messages.map(frameOf);
        for (const [s, c] of [...this.clients]) this.deliver(s, c, frames);
      }
      this.scheduleCounts();
    } catch (e) {
      // Listeners must not throw into the writer; the pages resync on reconnect instead.
      this.opts.log.error('live: building change frames failed; closing dashboards so they resync', { err: e });
      for (const s of [...this.clients.keys()]) {
        this.fail(s, { type: 'error', code: 'CLARE_INTERNAL', message: 'the daemon could not build a change; reconnecting resyncs' }, LIVE_CLOSE.internalError);
      }
    }
  }

  /** The snapshot frame at the current cursor: built once, shared by every socket that needs it. */
  private snapshotFrame(): Buffer | null {
    if (this.status === null) return null; // attach reads the status before the first snapshot
    const cursor = eventCount(this.opts.ctx.db);
    const now = Date.now();
    if (this.snapshot !== null && this.snapshot.cursor === cursor && now - this.snapshot.at <= STATUS_MAX_AGE_MS) return this.snapshot.frame;
    // Peers and fleet as of the last poll, newer than the cached document's.
    const links = this.opts.readLinks();
    const status: StatusDoc = { ...this.status, peers: links.peers, fleet: links.fleet };
    const frame = frameOf(buildSnapshot(this.opts.ctx, status, cursor, this.conflicts));
    this.snapshot = { cursor, at: now, frame };
    return frame;
  }

  /**
   * Sends a snapshot now if the socket has drained (at most `lowWaterBytes` queued),
   * else once it has. A snapshot is at most SNAPSHOT_MAX_BYTES, so a socket never
   * holds more than that beyond the low-water mark for one.
   */
  private deliverSnapshot(socket: LiveSocket, c: ClientState): void {
    if (c.owedSince !== null) return; // the drain check sends it
    if (socket.bufferedAmount > this.lowWater) {
      this.owe(c);
      return;
    }
    const frame = this.snapshotFrame();
    if (frame !== null) this.send(socket, frame);
  }

  /**
   * Queues `frames` on a socket unless that would take its buffer past the bound: then
   * it gets none of them and is owed a snapshot (which holds their effect).
   */
  private deliver(socket: LiveSocket, c: ClientState, frames: readonly Buffer[]): void {
    if (c.owedSince !== null) return;
    const bytes = frames.reduce((n, f) => n + f.length, 0);
    if (socket.bufferedAmount + bytes > this.maxBuffered) {
      this.owe(c);
      return;
    }
    for (const f of frames) if (!this.send(socket, f)) return;
  }

  /** The socket gets no more frames until a snapshot, sent by the drain check once it has drained. */
  private owe(c: ClientState): void {
    c.owedSince ??= Date.now();
    if (this.drainTimer === null) {
      this.drainTimer = setInterval(() => this.drainCheck(), DRAIN_CHECK_MS);
      this.drainTimer.unref();
    }
  }

  /** Resyncs sockets owed a snapshot once they have drained; closes those that stall. */
  private drainCheck(): void {
    let waiting = 0;
    const now = Date.now();
    for (const [s, c] of [...this.clients]) {
      if (c.owedSince === null) continue;
      if (s.readyState !== OPEN) {
        this.detach(s);
      } else if (s.bufferedAmount <= this.lowWater) {
        c.owedSince = null;
        this.deliverSnapshot(s, c);
        if (c.owedSince !== null) waiting++;
      } else if (now - c.owedSince > this.maxStallMs) {
        this.opts.log.warn('live: a dashboard stopped reading, closing it', { buffered: s.bufferedAmount, stalled_ms: now - c.owedSince });
        this.fail(s, {
          type: 'error', code: 'CLARE_TOO_LARGE',
          message: `over ${this.maxBuffered} bytes waited to be read for ${Math.round(this.maxStallMs / 1000)} s; reconnect to resync`,
        }, LIVE_CLOSE.tooSlow, CLOSE_GRACE_MS);
      } else {
        waiting++;
      }
    }
    if (waiting === 0 && this.drainTimer !== null) {
      clearInterval(this.drainTimer);
      this.drainTimer = null;
    }
  }

  /** Sends a frame; false (and the socket closed) if it is gone or the send fails. */
  private send(socket: LiveSocket, frame: Buffer): boolean {
    if (socket.readyState !== OPEN) {
      this.detach(socket);
      return false;
    }
    try {
      socket.send(frame, { binary: false });
      return true;
    } catch (e) {
      this.opts.log.debug('live: send failed', { err: e });
      this.close(socket, LIVE_CLOSE.internalError, 'send failed');
      return false;
    }
  }

  /** Sends a coded error frame, then closes; a socket that will not read is cut after `graceMs`. */
  private fail(socket: LiveSocket, err: ErrorMessage, code: number, graceMs?: number): void {
    if (socket.readyState === OPEN) {
      try {
        socket.send(frameOf(err), { binary: false });
      } catch {
        // closing anyway
      }
    }
    this.close(socket, code, err.code);
    if (graceMs !== undefined) setTimeout(() => socket.terminate(), graceMs).unref();
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
    for (const t of [this.pollTimer, this.heartbeatTimer, this.drainTimer, this.countsTimer]) if (t !== null) clearInterval(t);
    this.pollTimer = null;
    this.heartbeatTimer = null;
    this.drainTimer = null;
    this.countsTimer = null;
  }

  /** Sends the counts a little after commits, when they changed (one read of counters, not of rows). */
  private scheduleCounts(): void {
    if (this.countsTimer !== null) return;
    this.countsTimer = setTimeout(() => {
      this.countsTimer = null;
      if (this.clients.size === 0) return;
      try {
        const counts = overviewCounts(this.opts.ctx);
        const key = JSON.stringify(counts);
        if (key === this.sentCounts) return;
        this.sentCounts = key;
        const frame = frameOf({ type: 'counts', cursor: eventCount(this.opts.ctx.db), ...counts });
        for (const [s, c] of [...this.clients]) this.deliver(s, c, [frame]);
      } catch (e) {
        this.opts.log.error('live: reading counts failed', { err: e });
      }
    }, COUNTS_DELAY_MS);
    this.countsTimer.unref();
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
      const frame = Buffer.from(peers, 'utf8');
      for (const [s, c] of [...this.clients]) this.deliver(s, c, [frame]);
    }
    const fleet = JSON.stringify({ type: 'fleet', fleet: links.fleet } satisfies ServerMessage);
    if (fleet !== this.sentFleet) {
      this.sentFleet = fleet;
      const frame = Buffer.from(fleet, 'utf8');
      for (const [s, c] of [...this.clients]) this.deliver(s, c, [frame]);
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
