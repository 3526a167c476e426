/**
 * One session's anti-entropy (protocol 2): after each statement of what the peer
 * holds, find the origins held differently below equal watermarks, and reconcile
 * them one at a time over the session's frames (`sum_req`/`range_req`, answers
 * matched by id). An unchanged difference is not chased twice; when a
 * reconciliation ends the session pings, so the peer compares at once and fetches
 * what only we hold. The algorithm is in anti-entropy.ts; this file is the glue.
 */
import { commitRemote, type StoreContext } from '../core/context.js';
import { ClareError } from '../core/errors.js';
import { digestHex, originSummaries, parseDigestHex, rangeSummary } from '../core/event-digest.js';
import type { Hlc } from '../core/hlc.js';
import { trustedMachineId, type MachineId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { checkRangePage, divergentOrigins, reconcileOrigin, type ReconcileIo } from './anti-entropy.js';
import { encodeFrame } from '../protocol/sync/frame.js';
import type { RangeMsg } from '../protocol/sync/range.js';
import type { SumMsg } from '../protocol/sync/sum.js';
import type { Statement } from './peer-knowledge.js';
import { Requests } from './requests.js';
import type { SyncTuning } from './tuning.js';

/** Origins held differently below equal watermarks, as status shows them. */
export interface Divergence {
  readonly origins: string[];
  /**
   * reconciling: anti-entropy is fetching what we lack; waiting: we hold all the
   * peer has there, it has yet to fetch ours (or to say so); unsupported: the peer
   * speaks protocol 1, which cannot reconcile (run `clare sync`, upgrade it).
   */
  readonly state: 'reconciling' | 'waiting' | 'unsupported';
}

/** What the reconciler needs from its session. */
export interface ReconcilerHost {
  readonly ctx: StoreContext;
  readonly log: Logger;
  readonly tuning: SyncTuning;
  /** The session is open (its hello accepted, not closed). */
  isOpen(): boolean;
  /** The peer's machine id and negotiated protocol version (the session is open). */
  peer(): { readonly machineId: MachineId; readonly protocolVersion: number };
  /** The peer's latest statement of what it holds. */
  statement(): Statement | null;
  /** Sends a frame through the session's bounded send. */
  send(frame: string): void;
  /** Sends our current holdings (a ping), so the peer compares again. */
  ping(): void;
  /** Ends the session with a refusal (`faulty`: the peer's fault). */
  refuse(err: ClareError, faulty: boolean): void;
  /** Events fetched: count them as received. */
  received(events: number, duplicates: number): void;
  /** What we hold changed (tell the session's owner). */
  changed(): void;
}

export class SessionReconciler {
  private divergent: readonly string[] = [];
  private reconciling: string | null = null;
  /** Per origin, the statement key of the last reconciliation. */
  private readonly attempted = new Map<string, string>();
  private readonly requests: Requests<SumMsg | RangeMsg>;

  constructor(private readonly host: ReconcilerHost, private readonly peerFault: (err: ClareError) => boolean) {
    this.requests = new Requests(host.tuning.requestTimeoutMs);
  }

  /** Compares the peer's latest statement with our holdings; starts reconciling if they differ (protocol 2). */
  check(): void {
    const st = this.host.statement();
    if (st === null || !this.host.isOpen()) return;
    this.divergent = divergentOrigins(originSummaries(this.host.ctx.db), st);
    if (this.divergent.length > 0 && this.host.peer().protocolVersion >= 2) this.startNext();
  }

  /** Origins held differently, or null when the two sides agree. */
  divergence(protocolVersion: number): Divergence | null {
    if (this.divergent.length === 0) return null;
    const state = protocolVersion < 2 ? 'unsupported' : this.reconciling !== null ? 'reconciling' : 'waiting';
    return { origins: [...this.divergent], state };
  }

  /** Settles the request an answer names; false when there is none of its kind (a protocol error). */
  answer(msg: SumMsg | RangeMsg): boolean {
    return this.requests.answer(msg);
  }

  /** The session ended: open requests fail, nothing is kept. */
  close(err: ClareError): void {
    this.divergent = [];
    this.requests.rejectAll(err);
  }

  private startNext(): void {
    if (this.reconciling !== null || !this.host.isOpen()) return;
    const st = this.host.statement();
    if (st === null) return;
    const ours = originSummaries(this.host.ctx.db);
    for (const origin of this.divergent) {
      const o = ours.get(origin);
      if (o === undefined) continue;
      const key = `${st.watermarks[origin] ?? ''}|${st.counts[origin] ?? ''}|${st.digests?.[origin] ?? ''}|${o.count}|${digestHex(o.digest)}`;
      if (this.attempted.get(origin) === key) continue;
      this.attempted.set(origin, key);
      this.reconciling = origin;
      void this.reconcile(trustedMachineId(origin), o.hlc).finally(() => {
        this.reconciling = null;
        this.startNext();
      });
      return;
    }
  }

  /** Never rejects: a failure ends the session as a refusal. */
  private async reconcile(origin: MachineId, upto: Hlc): Promise<void> {
    const { log, tuning } = this.host;
    const peer = this.host.peer().machineId;
    const t0 = performance.now();
    log.info('anti-entropy: an origin is held differently below equal watermarks; reconciling', { peer, origin });
    try {
      const r = await reconcileOrigin(this.io(), origin, upto, { fanout: tuning.reconcileFanout, leaf: tuning.reconcileLeaf });
      log.info('anti-entropy: reconciled', { peer, origin, fetched: r.fetched, already_held: r.known, requests: r.requests, ranges: r.ranges, ms: Math.round(performance.now() - t0) });
      if (this.host.isOpen()) this.host.ping();
    } catch (e) {
      if (!this.host.isOpen()) return;
      const err = e instanceof ClareError ? e : new ClareError('CLARE_INTERNAL', `anti-entropy failed: ${(e as Error).message}`);
      if (err.code === 'CLARE_INTERNAL') log.error('anti-entropy failed', { err: e });
      this.host.refuse(err, this.peerFault(err));
    }
  }

  private io(): ReconcileIo {
    const { host } = this;
    return {
      theirSums: async (origin, ranges) => {
        const a = await this.requests.ask<SumMsg>('sum', (id) => host.send(encodeFrame({ type: 'sum_req', id, origin, ranges: ranges.map((r) => [r[0], r[1]] as const) })));
        if (a.sums.length !== ranges.length) throw new ClareError('CLARE_PROTOCOL', `sum answer ${a.id} has ${a.sums.length} summaries for ${ranges.length} ranges`);
        return a.sums.map((x) => ({ count: x.count, digest: parseDigestHex(x.digest) }));
      },
      theirEvents: async (origin, range) => {
        const a = await this.requests.ask<RangeMsg>('range', (id) => host.send(encodeFrame({ type: 'range_req', id, origin, range: [range[0], range[1]] })));
        const page = checkRangePage(origin, range, a);
        if (page instanceof ClareError) throw page;
        return page;
      },
      ourSum: (origin, range) => rangeSummary(host.ctx.db, origin, range[0], range[1]),
      ingest: (events) => {
        if (!host.isOpen()) throw new ClareError('CLARE_PEER', 'the link closed during anti-entropy');
        const r = commitRemote(host.ctx, events, host.peer().machineId);
        host.received(events.length, r.duplicates);
        if (r.events.length > 0) host.changed();
        return { accepted: r.events.length, known: r.duplicates };
      },
    };
  }
}
