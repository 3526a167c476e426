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
 * Protocol 2 adds anti-entropy: every statement of what the peer holds (hello,
 * ack, ping, pong) is compared with our per-origin counts and digests; an origin
 * held differently below equal watermarks is reconciled (anti-entropy.ts) — we
 * fetch what we lack, the peer does the same from its side — and shown in status
 * until it agrees.
 *
 * Anything bad from the peer (unparsable, oversized or too deep frame, bad event,
 * identity conflict, skew, gap, version) is answered with an `error` frame and a
 * close; nothing is written and nothing throws out of a transport callback. Every
 * buffer has a byte bound: inbound frames (`maxFrameBytes`), early batches held
 * back (`maxPendingBytes`), and what waits to be written to a peer that stops
 * reading (`maxSendBufferBytes`).
 */
import { commitRemote, type StoreContext } from '../core/context.js';
import type { CommitNotice } from '../core/commit-feed.js';
import { ClareError, isErrorCode } from '../core/errors.js';
import { originDigests } from '../core/event-digest.js';
import type { Hlc } from '../core/hlc.js';
import type { MachineId } from '../core/ids.js';
import { jsonTextDepth, MAX_JSON_DEPTH, tooDeep } from '../core/json-bounds.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service-lifecycle.js';
import { eventsAfterRaw, originCounts, watermarks, type Watermarks } from '../core/store.js';
import { answerRange, answerSums } from './anti-entropy.js';
import { checkContinuity, encodeBatch, heldInStore } from './batch-codec.js';
import { CLOSE } from './close-codes.js';
import type { AckMsg } from '../protocol/sync/ack.js';
import type { BatchMsg } from '../protocol/sync/batch.js';
import type { CallResultMsg } from '../protocol/sync/call-result.js';
import type { CallMsg } from '../protocol/sync/call.js';
import { decodeFrame, encodeFrame, frameVersion, parseFrameValue } from '../protocol/sync/frame.js';
import type { LinksMsg } from '../protocol/sync/links.js';
import type { PingMsg } from '../protocol/sync/ping.js';
import type { PongMsg } from '../protocol/sync/pong.js';
import { acceptHello, ourHello } from './handshake.js';
import { PeerKnowledge, statementOf, type Statement } from './peer-knowledge.js';
import { PROTOCOL_VERSIONS } from './protocol-version.js';
import { SessionReconciler, type Divergence } from './session-reconciler.js';
import { Keepalive } from './keepalive.js';
import { PeerLinks } from './peer-links.js';
import { ReorderBuffer } from './reorder-buffer.js';
import { closeCodeFor, PEER_FAULTS, type EndCause, type SessionEnd } from './session-end.js';
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
  /** Called whenever what we know of the peer's holdings, or our own, moved (its statements, events it sent). */
  readonly onPeerState?: (session: SyncSession) => void;
  /** Protocol versions this side offers (default: every version this build speaks; tests pin older ones). */
  readonly versions?: readonly number[];
  /**
   * Protocol 3: a `call` or `call_result` frame arrived (validated). The owner answers
   * through `sendCall`; it must not throw. Without it, calls are answered CLARE_FORBIDDEN.
   */
  readonly onCall?: (session: SyncSession, frame: CallMsg | CallResultMsg) => void;
}


/** Who the peer turned out to be (from its hello). */
export interface RemotePeer {
  readonly machineId: MachineId;
  readonly name: string;
  readonly protocolVersion: number;
}

type State = 'new' | 'handshake' | 'open' | 'closed';

/** Deepest nesting of a frame: the bound of every door (a payload at its 61, inside an event, the events array and the frame). */
const MAX_FRAME_DEPTH = MAX_JSON_DEPTH;

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
  private readonly theirLinks = new PeerLinks();
  private ourLinksRev = 0;
  private sendSeq = 0;
  private readonly inflight = new Map<number, number>();
  private recvSeq = 1;
  private readonly pending: ReorderBuffer;
  private readonly versions: readonly number[];
  private readonly reconciler: SessionReconciler;
  private pumpScheduled = false;
  private readonly liveness: Keepalive;
  /** The handshake completed at some point (kept after the close, for the report). */
  private established = false;
  private finished = false;
  private endCause: EndCause | null = null;
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
    this.liveness = new Keepalive(this.now(), this.tuning.keepaliveMs, this.tuning.deadAfterMs);
    this.pending = new ReorderBuffer(this.tuning.maxPendingBytes);
    this.versions = opts.versions ?? PROTOCOL_VERSIONS;
    this.reconciler = new SessionReconciler({
      ctx: opts.ctx,
      log: this.log,
      tuning: this.tuning,
      isOpen: () => this.state === 'open',
      peer: () => this.openPeer,
      statement: () => this.knowledge.statement(),
      send: (f) => this.send(f),
      ping: () => this.sendPing(),
      refuse: (err, faulty) => this.refuse(err, faulty),
      received: (events, duplicates) => {
        this.counterSink.events_received += events;
        this.counterSink.duplicates_received += duplicates;
      },
      changed: () => this.opts.onPeerState?.(this),
    }, (err) => PEER_FAULTS.has(err.code));
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

  /**
   * The peer, where the session is open: frames other than hello and error reach
   * their handlers only then. Called earlier, it is our bug: `guard` ends the session.
   */
  private get openPeer(): RemotePeer {
    if (this.remoteInfo === null) throw new ClareError('CLARE_INTERNAL', 'the peer is not known before its hello');
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

  /** The peer's latest statement of what it holds (watermarks, counts, digests of one frame). */
  peerStatement(): Statement | null {
    return this.knowledge.statement();
  }

  /** Origins held differently below equal watermarks, or null when the two sides agree. */
  divergence(): Divergence | null {
    return this.reconciler.divergence(this.remoteInfo?.protocolVersion ?? 1);
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
      t.onClose((info) => this.onTransportClose(info.code, info.reason, info.error)),
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

  /** How many machines the peer said it is directly connected to (its hello and latest `links`). */
  get peerLinkCount(): number {
    return this.theirLinks.size;
  }

  /** The machines the peer said it is directly connected to (liveness: those are reachable through it). */
  get peerLinks(): string[] {
    return this.theirLinks.list();
  }

  /** When any frame (batch, ack, ping, pong, links…) last arrived from the peer (wall-clock ms). */
  get lastHeardAt(): number {
    return this.liveness.lastHeardAt;
  }

  /**
   * Sends a remote-call frame (protocol 3). False when the session is not open or
   * the peer speaks an older protocol: the caller then picks another link or fails.
   */
  sendCall(frame: CallMsg | CallResultMsg): boolean {
    if (this.state !== 'open' || (this.remoteInfo?.protocolVersion ?? 0) < 3) return false;
    this.send(encodeFrame(frame));
    return this.state === 'open';
  }

  /** Tells the peer which machines we are directly connected to now. */
  sendLinks(links: readonly string[]): void {
    if (this.state !== 'open') return;
    this.ourLinksRev += 1;
    const msg: LinksMsg = { type: 'links', rev: this.ourLinksRev, links: [...links] };
    this.send(encodeFrame(msg));
  }

  // ---- inbound ----------------------------------------------------------

  private onFrame(text: string): void {
    this.guard(() => {
      if (this.state === 'closed') return;
      this.liveness.heard(this.now());
      // Bounds first, on the text: JSON.parse and every later walk are then bounded too.
      const bytes = Buffer.byteLength(text);
      if (bytes > this.tuning.maxFrameBytes) {
        return this.refuse(new ClareError('CLARE_TOO_LARGE', `sync frame of ${bytes} bytes is over the ${this.tuning.maxFrameBytes}-byte limit`, { bytes, limit: this.tuning.maxFrameBytes }), true);
      }
      if (jsonTextDepth(text, MAX_FRAME_DEPTH) > MAX_FRAME_DEPTH) return this.refuse(tooDeep('sync frame', MAX_FRAME_DEPTH), true);
      const d = decodeFrame(text);
      if (!d.ok) return this.refuse(new ClareError('CLARE_PROTOCOL', d.reason), true);
      if (d.value.type === 'error') return this.onErrorFrame(d.value);
      if (this.state !== 'open') return this.onHello(d.value);
      const p = parseFrameValue(d.value);
      if (!p.ok) return this.refuse(new ClareError('CLARE_PROTOCOL', p.reason), true);
      const f = p.value;
      const needs = frameVersion(f.type);
      const speaks = this.openPeer.protocolVersion;
      if (speaks < needs) {
        return this.refuse(new ClareError('CLARE_PROTOCOL', `${f.type} frames need protocol ${needs}; this session speaks ${speaks}`), true);
      }
      switch (f.type) {
        case 'batch':
          return this.onBatch(f, text, bytes);
        case 'sum_req':
          return this.send(encodeFrame(answerSums(this.opts.ctx.db, f)));
        case 'range_req':
          return this.send(answerRange(this.opts.ctx.db, f, this.tuning.batchSize, this.tuning.maxBatchBytes));
        case 'sum':
        case 'range':
          if (!this.reconciler.answer(f)) this.refuse(new ClareError('CLARE_PROTOCOL', `${f.type} answer ${f.id} to no open request`), true);
          return undefined;
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
        case 'call':
          if (this.opts.onCall === undefined) {
            this.sendCall({ type: 'call_result', id: f.id, ok: false, code: 'CLARE_FORBIDDEN', message: 'this daemon takes no remote calls' });
            return undefined;
          }
          return this.opts.onCall(this, f);
        case 'call_result':
          return this.opts.onCall?.(this, f);
      }
    });
  }

  private onHello(value: { readonly type: string }): void {
    const verdict = acceptHello(value, this.versions, this.opts.machineId);
    if (!verdict.ok) return this.refuse(verdict.error, true);
    const { hello, version } = verdict;
    this.remoteInfo = { machineId: hello.machine_id, name: hello.name, protocolVersion: version };
    this.knowledge.learnStatement(statementOf(hello, version));
    this.theirLinks.reset(hello.links);
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
    this.afterStatement();
    this.schedulePump();
    return undefined;
  }

  private onBatch(msg: BatchMsg, text: string, bytes: number): void {
    if (msg.seq < this.recvSeq) {
      // Already applied (a duplicated frame): answering again is harmless.
      this.sendAck(msg.seq, 0, msg.events.length);
      return;
    }
    if (msg.seq > this.recvSeq) {
      const refusal = this.pending.hold(msg.seq, text, bytes, this.recvSeq);
      if (refusal !== null) this.refuse(refusal, true);
      return;
    }
    let next: BatchMsg | undefined = msg;
    while (next !== undefined && this.state === 'open') {
      this.applyBatch(next);
      this.recvSeq += 1;
      next = this.pending.take(this.recvSeq);
    }
  }

  private applyBatch(msg: BatchMsg): void {
    const remote = this.openPeer;
    const ours = watermarks(this.opts.ctx.db);
    const cont = checkContinuity(ours, msg.base, msg.events, heldInStore(this.opts.ctx.db, ours));
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
    this.opts.onPeerState?.(this);
    return undefined;
  }

  /** Our watermarks and counts, and with protocol 2 our digests: what every statement frame carries. */
  private holdings(): { watermarks: Record<string, Hlc>; counts: Record<string, number>; digests?: Record<string, string> } {
    const db = this.opts.ctx.db;
    const base = { watermarks: watermarks(db), counts: originCounts(db) };
    return (this.remoteInfo?.protocolVersion ?? 1) >= 2 ? { ...base, digests: originDigests(db) } : base;
  }

  private sendAck(seq: number, accepted: number, known: number): void {
    const ack: AckMsg = { type: 'ack', seq, ...this.holdings(), accepted, known };
    this.send(encodeFrame(ack));
  }

  private onAck(msg: AckMsg): void {
    if (msg.seq > this.sendSeq) return this.refuse(new ClareError('CLARE_PROTOCOL', `ack of batch ${msg.seq}, which was never sent`), true);
    this.knowledge.learnStatement(statementOf(msg, this.openPeer.protocolVersion));
    this.inflight.delete(msg.seq);
    this.pump();
    this.afterStatement();
    return undefined;
  }

  private onPing(msg: PingMsg): void {
    this.knowledge.learnStatement(statementOf(msg, this.openPeer.protocolVersion));
    const pong: PongMsg = { type: 'pong', t: msg.t, now_ms: this.now(), ...this.holdings() };
    this.send(encodeFrame(pong));
    this.opts.onHealthy?.(this);
    this.afterStatement();
  }

  private onPong(msg: PongMsg): void {
    this.knowledge.learnStatement(statementOf(msg, this.openPeer.protocolVersion));
    this.afterStatement();
    const arrived = this.now();
    // NTP-style: the answer was stamped about half a round trip after the ping left.
    if (msg.t <= arrived) this.clockOffsetMs = Math.round(msg.now_ms - (msg.t + arrived) / 2);
    this.opts.onHealthy?.(this);
    this.schedulePump();
  }

  private onLinks(msg: LinksMsg): void {
    if (!this.theirLinks.update(msg)) return; // an older frame overtaken by a newer one
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
    const hello = ourHello(this.opts.ctx.db, {
      machineId: this.opts.machineId, name: this.opts.name, versions: this.versions, links: this.opts.links?.() ?? [], nowMs: this.now(),
    });
    this.send(encodeFrame(hello));
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
      this.send(b.frame);
    }
    if (this.inflight.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private keepalive(): void {
    if (this.state !== 'open') return;
    const verdict = this.liveness.tick(this.now());
    if (verdict.kind === 'dead') {
      this.endCause ??= { error: new ClareError('CLARE_PEER', `no frame from the peer for ${verdict.silentMs} ms; link presumed dead`), byPeer: false, faulty: false };
      this.shutdown(CLOSE.KEEPALIVE_TIMEOUT, 'keepalive timeout');
      return;
    }
    this.sendPing();
  }

  private sendPing(): void {
    const ping: PingMsg = { type: 'ping', t: this.now(), ...this.holdings() };
    this.send(encodeFrame(ping));
  }

  /**
   * Sends a frame unless the peer has stopped reading: what waits to be written to
   * it is bounded (`maxSendBufferBytes`); past that the link is closed with
   * CLARE_TOO_LARGE, and its buffers go with it.
   */
  private send(frame: string): void {
    if (this.state === 'closed') return;
    const queued = this.opts.transport.bufferedAmount;
    if (queued + frame.length > this.tuning.maxSendBufferBytes) {
      this.refuse(new ClareError('CLARE_TOO_LARGE', `the peer is not reading: ${queued} bytes wait to be sent to it (limit ${this.tuning.maxSendBufferBytes})`,
        { bytes: queued, limit: this.tuning.maxSendBufferBytes }), true);
      return;
    }
    this.opts.transport.send(frame);
  }

  /** The peer said what it holds (or we learnt it): compare, reconcile if needed, and tell the owner. */
  private afterStatement(): void {
    if (this.state !== 'open') return;
    this.reconciler.check();
    this.opts.onPeerState?.(this);
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
    // Buffers go with the link: nothing of the peer's stays pinned by a closed session.
    this.pending.clear();
    this.reconciler.close(this.endCause?.error ?? new ClareError('CLARE_PEER', `connection closed (${code} ${reason})`));
    // The close listener was just removed with the rest: re-attach it for the final report.
    this.opts.transport.onClose((info) => this.finish(info.code, info.reason));
    this.opts.transport.close(code, reason);
    const err = this.endCause?.error ?? new ClareError('CLARE_PEER', `connection closed (${code} ${reason})`);
    for (const w of this.openWaiters.splice(0)) w.reject(err);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private onTransportClose(code: number, reason: string, error?: ClareError): void {
    if (this.state !== 'closed') {
      if (code === CLOSE.DUPLICATE) this.log.debug('sync link closed as redundant', { peer: this.remoteInfo?.machineId });
      // The transport's own coded reason (a frame over its limit) is the peer's fault.
      if (error !== undefined) this.log.warn('sync peer refused', { peer: this.remoteInfo?.machineId, code: error.code, message: error.message });
      this.endCause ??= error !== undefined
        ? { error, byPeer: false, faulty: PEER_FAULTS.has(error.code) }
        : code === CLOSE.NORMAL || code === CLOSE.GOING_AWAY || code === CLOSE.DUPLICATE
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
