/**
 * One sync connection, either side (the protocol is symmetric; docs/protocol.md).
 *
 * Life: both sides send `hello` as soon as the transport is ready; on the peer's
 * hello (version agreed, machine id not ours) the session is open. From then on
 * one loop, `pump`, sends whatever the peer lacks — `eventsAfterRaw` after what it
 * is known to hold or has been sent — in batches, at most `maxInflight`
 * unacknowledged. Catch-up and live push are the same loop: a commit (local, or
 * ingested from any peer) wakes it on a microtask, so a single new event leaves
 * at once, and a backlog leaves in full batches.
 *
 * Inbound batches are applied strictly in `seq` order (duplicates re-acked,
 * early ones held back), checked for per-origin continuity, and committed with
 * `commitRemote`; the ack states our watermarks after the commit.
 *
 * Anything bad from the peer (unparsable frame, bad event, skew, gap, version)
 * is answered with an `error` frame and a close; nothing is written and nothing
 * throws out of a transport callback.
 */
import { commitRemote, type StoreContext } from '../core/context.js';
import type { CommitNotice } from '../core/commit-feed.js';
import { ClareError, isErrorCode, type ErrorCode } from '../core/errors.js';
import type { MachineId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service-lifecycle.js';
import { eventsAfterRaw, originCounts, watermarks, type Watermarks } from '../core/store.js';
import { checkContinuity, encodeBatch } from './batch-codec.js';
import { CLOSE } from './close-codes.js';
import type { AckMsg } from './messages/ack.js';
import type { BatchMsg } from './messages/batch.js';
import { decodeFrame, describeIssues, encodeFrame, parseFrameValue } from './messages/frame.js';
import { helloSchema, helloVersionsSchema, type HelloMsg } from './messages/hello.js';
import type { LinksMsg } from './messages/links.js';
import type { PingMsg } from './messages/ping.js';
import type { PongMsg } from './messages/pong.js';
import { PeerKnowledge } from './peer-knowledge.js';
import { negotiateVersion, PROTOCOL_VERSIONS } from './protocol-version.js';
import type { Transport } from './transport.js';
import { newCounters, resolveTuning, type PeerCounters, type SyncTuning } from './tuning.js';

export type Direction = 'outbound' | 'inbound';

export interface SyncSessionOptions {
  readonly ctx: StoreContext;
  /** This machine (must be the clock's machine). */
  readonly machineId: MachineId;
  /** This machine's display name, sent in the hello. */
  readonly name: string;
  readonly transport: Transport;
  /** Whether we dialed (outbound) or accepted (inbound) the connection. */
  readonly direction: Direction;
  readonly log: Logger;
  /** Wall clock (ms), for clock offsets and timestamps. */
  readonly now?: () => number;
  readonly tuning?: Partial<SyncTuning>;
  /** Machines we are directly connected to now (advertised so peers need not relay their events to us). */
  readonly links?: () => readonly string[];
  /** Counters to add traffic to (the per-peer record's); a fresh set if omitted. */
  readonly counters?: PeerCounters;
  /** Called once, when the peer's hello has been accepted. May close this or another session. */
  readonly onOpen?: (session: SyncSession) => void;
  /** Called when the peer proved well-behaved (a batch ingested, a ping answered). */
  readonly onHealthy?: (session: SyncSession) => void;
}

/** Who the peer turned out to be (from its hello). */
export interface RemotePeer {
  readonly machineId: MachineId;
  readonly name: string;
  readonly protocolVersion: number;
}

/** How a session ended. */
export interface SessionEnd {
  /** True if the handshake had completed. */
  readonly established: boolean;
  readonly code: number;
  readonly reason: string;
  /** Why, when not a clean close: a refusal we sent, or one the peer sent us (`byPeer`). */
  readonly error: ClareError | null;
  /** The error was the peer's refusal of us (we did something it rejects). */
  readonly byPeer: boolean;
  /** The peer broke the rules (bad frame, bad event, skew, version): shown as faulty. */
  readonly faulty: boolean;
  /** Wall-clock ms of the end. */
  readonly at: number;
}

type State = 'new' | 'handshake' | 'open' | 'closed';

/** Inbound batches held back while an earlier seq is missing (a reordering link). */
const MAX_PENDING_BATCHES = 16;

/** Close code for each refusal. */
function closeCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'CLARE_PROTOCOL':
      return CLOSE.PROTOCOL_ERROR;
    case 'CLARE_INTERNAL':
    case 'CLARE_DB':
      return CLOSE.INTERNAL;
    default:
      return CLOSE.POLICY;
  }
}

/** Errors that mean the peer sent something wrong (as opposed to our own failure). */
const PEER_FAULTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CLARE_PROTOCOL', 'CLARE_PROTOCOL_VERSION', 'CLARE_BAD_EVENT', 'CLARE_HLC_SKEW', 'CLARE_HLC_FORMAT', 'CLARE_VALIDATION', 'CLARE_BAD_REQUEST',
]);

export class SyncSession implements Service {
  readonly name = 'sync-session';
  readonly direction: Direction;
  /** Wall-clock ms when the session opened (handshake done), or null. */
  openedAt: number | null = null;
  /** Our estimate of (peer clock − our clock), ms; null before the hello. */
  clockOffsetMs: number | null = null;
  /** Resolves when the transport has closed; never rejects. */
  readonly done: Promise<SessionEnd>;

  private readonly opts: SyncSessionOptions;
  private readonly tuning: SyncTuning;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly knowledge = new PeerKnowledge();
  private counterSink: PeerCounters;
  private state: State = 'new';
  private remoteInfo: RemotePeer | null = null;
  private helloSent = false;
  private theirLinks: ReadonlySet<string> = new Set();
  private theirLinksRev = 0;
  private ourLinksRev = 0;
  private sendSeq = 0;
  private readonly inflight = new Map<number, number>();
  private recvSeq = 1;
  private readonly pending = new Map<number, BatchMsg>();
  private pumpScheduled = false;
  private lastRecvAt: number;
  /** The handshake completed at some point (kept after the close, for the report). */
  private established = false;
  private finished = false;
  private endCause: { error: ClareError; byPeer: boolean; faulty: boolean } | null = null;
  private resolveDone: (end: SessionEnd) => void = () => undefined;
  private readonly openWaiters: { resolve: () => void; reject: (e: ClareError) => void }[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly cleanups: (() => void)[] = [];

  constructor(opts: SyncSessionOptions) {
    this.opts = opts;
    this.direction = opts.direction;
    this.tuning = resolveTuning(opts.tuning);
    this.now = opts.now ?? Date.now;
    this.log = opts.log.child({ direction: opts.direction });
    this.counterSink = opts.counters ?? newCounters();
    this.lastRecvAt = this.now();
    this.done = new Promise<SessionEnd>((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** Traffic counters this session adds to. */
  get counters(): PeerCounters {
    return this.counterSink;
  }

  /**
   * Redirects traffic counting to `c` (the per-peer record, once the hello said
   * who the peer is). Only counts from then on go there; call it from `onOpen`.
   */
  useCounters(c: PeerCounters): void {
    this.counterSink = c;
  }

  /** The peer, once its hello was accepted. */
  get remote(): RemotePeer | null {
    return this.remoteInfo;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Batches sent and not yet acknowledged. */
  get inflightBatches(): number {
    return this.inflight.size;
  }

  /** What the peer is known to hold (its statements and what it sent us). */
  peerWatermarks(): Watermarks {
    return this.knowledge.heldWatermarks();
  }

  /** The peer's last stated per-origin event counts. */
  peerCounts(): Readonly<Record<string, number>> {
    return this.knowledge.heldCounts();
  }

  /**
   * Starts the session: listens, sends the hello once the transport is ready, and
   * resolves when the handshake is done (rejects with the reason if it ends first).
   */
  run(): Promise<void> {
    this.start();
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(this.endCause?.error ?? new ClareError('CLARE_PEER', 'connection closed before the handshake'));
    return new Promise<void>((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  /** Starts the session without waiting for the handshake (see `done`). Idempotent. */
  start(): void {
    if (this.state !== 'new') return;
    this.state = 'handshake';
    const t = this.opts.transport;
    this.cleanups.push(
      t.onMessage((frame) => this.onFrame(frame)),
      t.onClose((info) => this.onTransportClose(info.code, info.reason)),
    );
    const hs = setTimeout(() => {
      if (this.state === 'handshake') this.refuse(new ClareError('CLARE_PROTOCOL', `no hello within ${this.tuning.handshakeTimeoutMs} ms`), false);
    }, this.tuning.handshakeTimeoutMs);
    hs.unref();
    this.cleanups.push(() => clearTimeout(hs));
    t.whenReady.then(
      () => this.guard(() => this.sendHello()),
      (e: unknown) => {
        this.endCause ??= { error: e instanceof ClareError ? e : new ClareError('CLARE_PEER', String(e)), byPeer: false, faulty: false };
        this.shutdown(CLOSE.INTERNAL, 'connect failed');
      },
    );
  }

  /**
   * Sends what is still pending, then resolves once the peer has acknowledged
   * everything (or the session ended). Commits made meanwhile are sent too.
   */
  drain(): Promise<void> {
    if (this.state === 'open') this.guard(() => this.pump());
    if (this.inflight.size === 0 || this.state !== 'open') return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Closes the session (service stopping) and waits for the transport to close. */
  async stop(): Promise<void> {
    this.close(CLOSE.GOING_AWAY, 'shutting down');
    await this.done;
  }

  /** Closes without an error frame (e.g. a redundant connection, or shutdown). */
  close(code: number, reason: string): void {
    this.shutdown(code, reason);
  }

  /** Tells the peer which machines we are directly connected to now. */
  sendLinks(links: readonly string[]): void {
    if (this.state !== 'open') return;
    this.ourLinksRev += 1;
    const msg: LinksMsg = { type: 'links', rev: this.ourLinksRev, links: [...links] };
    this.opts.transport.send(encodeFrame(msg));
  }

  // ---- inbound ----------------------------------------------------------

  private onFrame(text: string): void {
    this.guard(() => {
      if (this.state === 'closed') return;
      this.lastRecvAt = this.now();
      const d = decodeFrame(text);
      if (!d.ok) return this.refuse(d.error, true);
      if (d.value.type === 'error') return this.onErrorFrame(d.value);
      if (this.state !== 'open') return this.onHello(d.value);
      const p = parseFrameValue(d.value);
      if (!p.ok) return this.refuse(p.error, true);
      const f = p.value;
      switch (f.type) {
        case 'batch':
          return this.onBatch(f);
        case 'ack':
          return this.onAck(f);
        case 'ping':
          return this.onPing(f);
        case 'pong':
          return this.onPong(f);
        case 'links':
          return this.onLinks(f);
        case 'hello':
          // A repeated hello from the same machine is harmless (a duplicating link); another machine is not.
          if (f.machine_id !== this.remoteInfo?.machineId) this.refuse(new ClareError('CLARE_PROTOCOL', 'a second hello from a different machine'), true);
          return undefined;
        case 'error':
          return this.onErrorFrame(f);
      }
    });
  }

  private onHello(value: { readonly type: string }): void {
    if (value.type !== 'hello') return this.refuse(new ClareError('CLARE_PROTOCOL', `expected hello as the first frame, got ${value.type.slice(0, 40)}`), true);
    const v = helloVersionsSchema.safeParse(value);
    if (!v.success) return this.refuse(new ClareError('CLARE_PROTOCOL', `bad hello: ${describeIssues(v.error)}`), true);
    const version = negotiateVersion(v.data.versions);
    if (version === null) {
      return this.refuse(new ClareError('CLARE_PROTOCOL_VERSION',
        `peer speaks sync protocol version(s) ${v.data.versions.join(', ')}; this Clare speaks ${PROTOCOL_VERSIONS.join(', ')}; upgrade the older one`,
        { theirs: v.data.versions, ours: [...PROTOCOL_VERSIONS] }), true);
    }
    const h = helloSchema.safeParse(value);
    if (!h.success) return this.refuse(new ClareError('CLARE_PROTOCOL', `bad hello: ${describeIssues(h.error)}`), true);
    const hello: HelloMsg = h.data;
    if (hello.machine_id === this.opts.machineId) {
      return this.refuse(new ClareError('CLARE_PROTOCOL', `the peer is this machine itself (${hello.machine_id}); remove it from the peer list`), true);
    }
    this.remoteInfo = { machineId: hello.machine_id, name: hello.name, protocolVersion: version };
    this.knowledge.learnHeld(hello.watermarks);
    this.knowledge.learnCounts(hello.counts);
    this.theirLinks = new Set(hello.links);
    this.clockOffsetMs = hello.now_ms - this.now();
    this.sendHello();
    this.state = 'open';
    this.openedAt = this.now();
    this.cleanups.push(this.opts.ctx.feed.subscribe((n) => this.onCommit(n)));
    const ka = setInterval(() => this.guard(() => this.keepalive()), this.tuning.keepaliveMs);
    ka.unref();
    this.cleanups.push(() => clearInterval(ka));
    this.log.debug('sync session open', { peer: hello.machine_id, peer_name: hello.name, version });
    for (const w of this.openWaiters.splice(0)) w.resolve();
    this.opts.onOpen?.(this);
    this.schedulePump();
    return undefined;
  }

  private onBatch(msg: BatchMsg): void {
    if (msg.seq < this.recvSeq) {
      // Already applied (a duplicated frame): answering again is harmless.
      this.sendAck(msg.seq, 0, msg.events.length);
      return;
    }
    if (msg.seq > this.recvSeq) {
      if (this.pending.size >= MAX_PENDING_BATCHES) return this.refuse(new ClareError('CLARE_PROTOCOL', `batch ${this.recvSeq} missing while ${this.pending.size} later ones wait`), true);
      this.pending.set(msg.seq, msg);
      return;
    }
    let next: BatchMsg | undefined = msg;
    while (next !== undefined && this.state === 'open') {
      this.pending.delete(next.seq);
      this.applyBatch(next);
      this.recvSeq += 1;
      next = this.pending.get(this.recvSeq);
    }
  }

  private applyBatch(msg: BatchMsg): void {
    const remote = this.remoteInfo!;
    const cont = checkContinuity(watermarks(this.opts.ctx.db), msg.base, msg.events);
    if (!cont.ok) return this.refuse(cont.error, true);
    let accepted: number;
    let known: number;
    try {
      const r = commitRemote(this.opts.ctx, msg.events, remote.machineId);
      accepted = r.events.length;
      known = r.duplicates;
    } catch (e) {
      if (e instanceof ClareError) return this.refuse(e, PEER_FAULTS.has(e.code));
      throw e;
    }
    // It holds what it sent (and, a prefix, all before): never send those back.
    this.knowledge.learnHeld(cont.tops);
    this.counterSink.events_received += msg.events.length;
    this.counterSink.duplicates_received += known;
    this.sendAck(msg.seq, accepted, known);
    this.opts.onHealthy?.(this);
    return undefined;
  }

  private sendAck(seq: number, accepted: number, known: number): void {
    const db = this.opts.ctx.db;
    const ack: AckMsg = { type: 'ack', seq, watermarks: watermarks(db), counts: originCounts(db), accepted, known };
    this.opts.transport.send(encodeFrame(ack));
  }

  private onAck(msg: AckMsg): void {
    if (msg.seq > this.sendSeq) return this.refuse(new ClareError('CLARE_PROTOCOL', `ack of batch ${msg.seq}, which was never sent`), true);
    this.knowledge.learnHeld(msg.watermarks);
    this.knowledge.learnCounts(msg.counts);
    this.inflight.delete(msg.seq);
    this.pump();
    return undefined;
  }

  private onPing(msg: PingMsg): void {
    this.knowledge.learnHeld(msg.watermarks);
    this.knowledge.learnCounts(msg.counts);
    const db = this.opts.ctx.db;
    const pong: PongMsg = { type: 'pong', t: msg.t, now_ms: this.now(), watermarks: watermarks(db), counts: originCounts(db) };
    this.opts.transport.send(encodeFrame(pong));
    this.opts.onHealthy?.(this);
  }

  private onPong(msg: PongMsg): void {
    this.knowledge.learnHeld(msg.watermarks);
    this.knowledge.learnCounts(msg.counts);
    const arrived = this.now();
    // NTP-style: the answer was stamped about half a round trip after the ping left.
    if (msg.t <= arrived) this.clockOffsetMs = Math.round(msg.now_ms - (msg.t + arrived) / 2);
    this.opts.onHealthy?.(this);
    this.schedulePump();
  }

  private onLinks(msg: LinksMsg): void {
    if (msg.rev <= this.theirLinksRev) return; // an older frame overtaken by a newer one
    this.theirLinksRev = msg.rev;
    this.theirLinks = new Set(msg.links);
    // An origin no longer linked to the peer may now be ours to relay.
    this.schedulePump();
  }

  private onErrorFrame(value: { readonly type: string } & Record<string, unknown>): void {
    const code = typeof value.code === 'string' && isErrorCode(value.code) ? value.code : 'CLARE_PEER';
    const message = typeof value.message === 'string' ? value.message.slice(0, 2000) : 'no message';
    this.endCause ??= { error: new ClareError(code, `peer refused the connection: ${message}`, { peer_code: value.code }), byPeer: true, faulty: false };
    this.log.warn('peer refused sync', { peer: this.remoteInfo?.machineId, code, message });
    this.shutdown(CLOSE.NORMAL, 'peer refused');
  }

  // ---- outbound ---------------------------------------------------------

  private sendHello(): void {
    if (this.helloSent || this.state === 'closed') return;
    this.helloSent = true;
    const db = this.opts.ctx.db;
    const hello: HelloMsg = {
      type: 'hello',
      versions: [...PROTOCOL_VERSIONS],
      machine_id: this.opts.machineId,
      name: this.opts.name,
      now_ms: this.now(),
      watermarks: watermarks(db),
      counts: originCounts(db),
      links: [...(this.opts.links?.() ?? [])],
    };
    this.opts.transport.send(encodeFrame(hello));
  }

  /** Events of `origin` need not go to this peer: it is linked to the origin, which sends them itself. */
  private suppressed(origin: string): boolean {
    return origin !== this.opts.machineId && this.theirLinks.has(origin);
  }

  private onCommit(n: CommitNotice): void {
    if (this.state !== 'open' || this.pumpScheduled) return;
    for (const e of n.events) {
      if (!this.suppressed(e.origin) && !this.knowledge.covers(e.origin, e.hlc)) {
        this.schedulePump();
        return;
      }
    }
  }

  // A microtask, not a timer: the commit's caller finishes first, bursts coalesce, and nothing waits.
  private schedulePump(): void {
    if (this.pumpScheduled || this.state !== 'open') return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.guard(() => this.pump());
    });
  }

  private pump(): void {
    const db = this.opts.ctx.db;
    while (this.state === 'open' && this.inflight.size < this.tuning.maxInflight) {
      const assumed = this.knowledge.view();
      const rows = eventsAfterRaw(db, assumed, this.tuning.batchSize, (o) => !this.suppressed(o));
      if (rows.length === 0) break;
      this.sendSeq += 1;
      const b = encodeBatch(this.sendSeq, assumed, rows, this.tuning.maxBatchBytes);
      this.knowledge.markSent(b.tops);
      this.inflight.set(this.sendSeq, b.count);
      this.counterSink.events_sent += b.count;
      this.opts.transport.send(b.frame);
    }
    if (this.inflight.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private keepalive(): void {
    if (this.state !== 'open') return;
    const silent = this.now() - this.lastRecvAt;
    if (silent > this.tuning.deadAfterMs) {
      this.endCause ??= { error: new ClareError('CLARE_PEER', `no frame from the peer for ${silent} ms; link presumed dead`), byPeer: false, faulty: false };
      this.shutdown(CLOSE.KEEPALIVE_TIMEOUT, 'keepalive timeout');
      return;
    }
    const db = this.opts.ctx.db;
    const ping: PingMsg = { type: 'ping', t: this.now(), watermarks: watermarks(db), counts: originCounts(db) };
    this.opts.transport.send(encodeFrame(ping));
  }

  // ---- ending -----------------------------------------------------------

  /** Answers a refusal with an error frame, then closes. `faulty`: the peer broke the rules. */
  private refuse(err: ClareError, faulty: boolean): void {
    if (this.state === 'closed') return;
    this.endCause ??= { error: err, byPeer: false, faulty };
    const log = faulty ? this.log.warn.bind(this.log) : this.log.error.bind(this.log);
    log('sync peer refused', { peer: this.remoteInfo?.machineId, code: err.code, message: err.message });
    this.opts.transport.send(encodeFrame({ type: 'error', code: err.code, message: err.message.slice(0, 4000) }));
    this.shutdown(closeCodeFor(err.code), err.code);
  }

  /** Stops all work at once; `done` resolves when the transport reports the close. */
  private shutdown(code: number, reason: string): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.established = wasOpen || this.established;
    for (const c of this.cleanups.splice(0)) c();
    // The close listener was just removed with the rest: re-attach it for the final report.
    this.opts.transport.onClose((info) => this.finish(info.code, info.reason));
    this.opts.transport.close(code, reason);
    const err = this.endCause?.error ?? new ClareError('CLARE_PEER', `connection closed (${code} ${reason})`);
    for (const w of this.openWaiters.splice(0)) w.reject(err);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private onTransportClose(code: number, reason: string): void {
    if (this.state !== 'closed') {
      if (code === CLOSE.DUPLICATE) this.log.debug('sync link closed as redundant', { peer: this.remoteInfo?.machineId });
      this.endCause ??= code === CLOSE.NORMAL || code === CLOSE.GOING_AWAY || code === CLOSE.DUPLICATE
        ? null
        : { error: new ClareError('CLARE_PEER', `connection lost (${code}${reason === '' ? '' : ` ${reason}`})`), byPeer: false, faulty: false };
      this.shutdown(code, reason);
    }
    this.finish(code, reason);
  }

  private finish(code: number, reason: string): void {
    if (this.finished) return;
    this.finished = true;
    const c = this.endCause;
    this.resolveDone({
      established: this.established,
      code,
      reason,
      error: c?.error ?? null,
      byPeer: c?.byPeer ?? false,
      faulty: c?.faulty ?? false,
      at: this.now(),
    });
  }

  /** Runs a callback body; an unexpected throw ends the session as our internal error, never escapes. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error('sync session internal error', { err: e });
      this.endCause ??= { error: new ClareError('CLARE_INTERNAL', `internal error: ${(e as Error).message}`), byPeer: false, faulty: false };
      if (this.state !== 'closed') {
        this.opts.transport.send(encodeFrame({ type: 'error', code: 'CLARE_INTERNAL', message: 'internal error on the receiving side' }));
        this.shutdown(CLOSE.INTERNAL, 'internal error');
      }
    }
  }
}
