/**
 * Remote fleet calls (protocol 3): peek and spawn for a session on another host,
 * carried over the peer links to the daemon of the host that owns it — the only
 * one that runs rclaude for it — and relayed where there is no direct link.
 *
 * Routing, what must stay true:
 * - a call goes to a direct link to `to` when there is one, and only there;
 * - otherwise it is relayed through one neighbour at a time (never back to a
 *   machine in `via`, at most MAX_CALL_HOPS relays). The next neighbour is tried
 *   only after an explicit CLARE_HOST_UNREACHABLE answer, which means "I passed it
 *   to no one": a call that may have run is never sent a second way (spawn is not
 *   idempotent). The owner also refuses an id it has already run;
 * - every call has a deadline; each relay passes on a little less, so the hop
 *   nearest the owner times out first and the asker gets the most precise error;
 * - calls are served and relayed only on authenticated links (`trusted`: the
 *   daemon has a mesh token, so every link proved it or was dialed to a configured
 *   peer). A relay runs nothing itself, and the owner checks a relayed call with
 *   the same schemas and rules as its own HTTP route: a peer can ask no more than
 *   an authenticated caller of the owner's API.
 *
 * Bounds: calls in flight that arrived on one link (`maxPerLink`), calls this
 * daemon waits on (`maxPending`), ids remembered as run (`MAX_RECENT`), screen
 * text per answer (MAX_SCREEN_CHARS, in the frame schema).
 */
import { randomUUID } from 'node:crypto';
import { ClareError, isErrorCode } from '../core/errors.js';
import type { MachineId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import type { CallResultMsg } from '../protocol/sync/call-result.js';
import { MAX_CALL_HOPS, MAX_CALL_TIMEOUT_MS, MIN_CALL_TIMEOUT_MS, type CallMsg, type CallOp } from '../protocol/sync/call.js';
import type { SyncSession } from './sync-session.js';

/** Runs a call addressed to this host (the fleet part: rclaude, with the HTTP route's rules). */
export interface CallExecutor {
  /** The screen text for `capture`, nothing for `spawn`; a ClareError when refused or failed. */
  run(op: CallOp): Promise<string | undefined>;
}

export interface RemoteCallsOptions {
  readonly machineId: MachineId;
  /** This host's name (rclaude's): calls addressed to it run here. */
  readonly host: string;
  readonly log: Logger;
  /** Links are authenticated (a mesh token is set): only then are calls served or relayed. */
  readonly trusted: boolean;
  readonly now?: () => number;
  /** Calls in flight that arrived on one link (default 8). */
  readonly maxPerLink?: number;
  /** Calls this daemon waits on at once, its own and relayed (default 64). */
  readonly maxPending?: number;
}

/** A call's deadline when the asker names none (ms): rclaude's own default timeout is 10 s. */
export const DEFAULT_CALL_TIMEOUT_MS = 15_000;

/** What each relay keeps back of the deadline it got, so the hop nearer the owner times out first (ms). */
const RELAY_MARGIN_MS = 250;

/** Call ids remembered as run here (a repeat is refused, not run twice). */
const MAX_RECENT = 512;

type Answer = { readonly ok: true; readonly text?: string | undefined } | { readonly ok: false; readonly code: string; readonly message: string };

interface Pending {
  readonly session: SyncSession;
  readonly settle: (a: Answer) => void;
}

const fail = (code: string, message: string): Answer => ({ ok: false, code, message });

export class RemoteCalls {
  private readonly o: RemoteCallsOptions;
  private readonly now: () => number;
  private readonly maxPerLink: number;
  private readonly maxPending: number;
  private links: () => readonly SyncSession[] = () => [];
  private executor: CallExecutor | null = null;
  /** Calls sent on a link and not answered yet, by call id (one link at a time per id). */
  private readonly pending = new Map<string, Pending>();
  /** Calls in flight that arrived on each link. */
  private readonly inbound = new Map<SyncSession, number>();
  /** Ids run here, oldest first. */
  private readonly recent = new Set<string>();

  constructor(o: RemoteCallsOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.maxPerLink = o.maxPerLink ?? 8;
    this.maxPending = o.maxPending ?? 64;
  }

  /** Where the open links come from (the replication service). */
  useLinks(links: () => readonly SyncSession[]): void {
    this.links = links;
  }

  /** Who runs calls addressed to this host (the fleet part). */
  serve(executor: CallExecutor): void {
    this.executor = executor;
  }

  /** Calls this daemon waits on right now (status, tests). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Asks host `to`'s daemon to run `op`. Resolves with the screen text (capture);
   * rejects with a ClareError: CLARE_HOST_UNREACHABLE when no link reaches it,
   * CLARE_TIMEOUT past the deadline, or the owner's own error (CLARE_NOT_FOUND …).
   */
  async call(to: string, op: CallOp, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<string | undefined> {
    const t = Math.min(Math.max(timeoutMs, MIN_CALL_TIMEOUT_MS), MAX_CALL_TIMEOUT_MS);
    const a = to === this.o.host
      ? await this.runHere(randomUUID(), op, t)
      : await this.route({ type: 'call', id: randomUUID(), to, hops: MAX_CALL_HOPS, via: [this.o.machineId], timeout_ms: t, op }, null);
    if (a.ok) return a.text;
    const code = isErrorCode(a.code) ? a.code : 'CLARE_PEER';
    throw new ClareError(code, a.message, { host: to, ...(code === a.code ? {} : { peer_code: a.code }) });
  }

  /** A call frame or answer arrived on `session` (already validated against its schema). Never throws. */
  onFrame(session: SyncSession, frame: CallMsg | CallResultMsg): void {
    if (frame.type === 'call_result') {
      const p = this.pending.get(frame.id);
      // An answer on another link, or after we gave up waiting, is dropped: it settles nothing.
      if (p === undefined || p.session !== session) return;
      p.settle(frame.ok ? { ok: true, text: frame.text } : fail(frame.code, frame.message.slice(0, 2000)));
      return;
    }
    void this.handle(session, frame).then(
      (a) => session.sendCall(a.ok ? { type: 'call_result', id: frame.id, ok: true, ...(a.text === undefined ? {} : { text: a.text }) } : { type: 'call_result', id: frame.id, ok: false, code: a.code, message: a.message.slice(0, 4000) }),
      (e: unknown) => this.o.log.error('remote call failed unexpectedly', { err: e }),
    );
  }

  /** A link closed: whatever waits on it gets an answer now, and its inbound budget goes with it. */
  onLinkClosed(session: SyncSession): void {
    this.inbound.delete(session);
    for (const p of [...this.pending.values()]) {
      if (p.session !== session) continue;
      const name = session.remote?.name ?? 'a peer';
      p.settle(fail('CLARE_PEER', `the link to ${name} closed before it answered; the action may or may not have run`));
    }
  }

  private async handle(session: SyncSession, call: CallMsg): Promise<Answer> {
    const from = session.remote;
    if (!this.o.trusted) return fail('CLARE_FORBIDDEN', `${this.o.host} takes remote calls only over authenticated links; set [mesh] token`);
    if (from === null || call.via[call.via.length - 1] !== from.machineId || call.via.includes(this.o.machineId)) {
      return fail('CLARE_PROTOCOL', 'a call whose via does not end with the link it came on, or that passed here already');
    }
    const busy = this.inbound.get(session) ?? 0;
    if (busy >= this.maxPerLink) {
      return fail('CLARE_TOO_LARGE', `${this.o.host} already runs ${busy} calls from ${from.name} (limit ${this.maxPerLink}); try again`);
    }
    this.inbound.set(session, busy + 1);
    try {
      return call.to === this.o.host ? await this.runHere(call.id, call.op, call.timeout_ms) : await this.route(call, session);
    } finally {
      const n = (this.inbound.get(session) ?? 1) - 1;
      if (n <= 0 || session.isClosed) this.inbound.delete(session);
      else this.inbound.set(session, n);
    }
  }

  /** Runs a call addressed to this host, once per id, within its deadline. */
  private async runHere(id: string, op: CallOp, timeoutMs: number): Promise<Answer> {
    if (this.executor === null) return fail('CLARE_FORBIDDEN', `${this.o.host} runs no fleet actions (no fleet part)`);
    if (this.recent.has(id)) return fail('CLARE_CONFLICT', `call ${id} was already run on ${this.o.host}; not running it twice`);
    this.recent.add(id);
    const oldest = this.recent.values().next();
    if (this.recent.size > MAX_RECENT && oldest.done !== true) this.recent.delete(oldest.value);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Answer>((resolve) => {
      timer = setTimeout(() => resolve(fail('CLARE_TIMEOUT', `${op.verb} on ${this.o.host} took longer than ${timeoutMs} ms; it may still finish`)), timeoutMs);
    });
    const run = this.executor.run(op).then(
      (text): Answer => ({ ok: true, text }),
      (e: unknown): Answer => (e instanceof ClareError ? fail(e.code, e.message) : fail('CLARE_INTERNAL', `${op.verb} failed on ${this.o.host}`)),
    );
    try {
      return await Promise.race([run, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Links a call may take from here, best first: the direct link to its host alone, else relays. */
  private candidates(call: CallMsg, from: SyncSession | null): SyncSession[] {
    const open = this.links().filter((s) => s !== from && s.isOpen && s.remote !== null && s.remote.protocolVersion >= 3 && !call.via.includes(s.remote.machineId));
    const direct = open.filter((s) => s.remote?.name === call.to);
    if (direct.length > 0) return direct.slice(0, 1);
    if (call.hops === 0) return [];
    // Neighbours with more links of their own first: likelier to reach a far host.
    return open.sort((a, b) => b.peerLinkCount - a.peerLinkCount);
  }

  /**
   * Sends `call` along the first link that does not answer CLARE_HOST_UNREACHABLE.
   * `from`: the link it came on (null: asked here).
   */
  private async route(call: CallMsg, from: SyncSession | null): Promise<Answer> {
    const deadline = this.now() + call.timeout_ms;
    const tried: string[] = [];
    for (const s of this.candidates(call, from)) {
      const name = s.remote?.name;
      if (name === undefined) continue; // closed since the candidates were picked
      const left = deadline - this.now() - (from === null ? 0 : RELAY_MARGIN_MS);
      if (left < MIN_CALL_TIMEOUT_MS) return fail('CLARE_TIMEOUT', `no answer from ${call.to} within ${call.timeout_ms} ms`);
      const direct = name === call.to;
      const next: CallMsg = {
        ...call,
        hops: direct ? call.hops : call.hops - 1,
        via: from === null ? call.via : [...call.via, this.o.machineId],
        timeout_ms: Math.min(left, MAX_CALL_TIMEOUT_MS),
      };
      const a = await this.attempt(s, next, left);
      if (a === null) continue;
      if (a.ok || a.code !== 'CLARE_HOST_UNREACHABLE') return a;
      tried.push(name);
    }
    const through = tried.length === 0 ? '' : ` (asked ${tried.join(', ')})`;
    return fail('CLARE_HOST_UNREACHABLE', `no link from ${this.o.host} reaches host ${call.to}${through}: it is offline, or not in this mesh`);
  }

  /** One attempt on one link: its answer, CLARE_TIMEOUT, or null when the frame could not be sent. */
  private attempt(s: SyncSession, call: CallMsg, waitMs: number): Promise<Answer | null> {
    if (this.pending.has(call.id)) return Promise.resolve(fail('CLARE_HOST_UNREACHABLE', `call ${call.id} is already on its way from ${this.o.host}`));
    if (this.pending.size >= this.maxPending) return Promise.resolve(fail('CLARE_TOO_LARGE', `${this.o.host} already waits on ${this.pending.size} remote calls (limit ${this.maxPending})`));
    return new Promise<Answer | null>((resolve) => {
      const timer = setTimeout(() => settle(fail('CLARE_TIMEOUT', `${s.remote?.name ?? 'the peer'} did not answer ${call.op.verb} for ${call.to} within ${waitMs} ms; it may or may not have run`)), waitMs);
      const settle = (a: Answer): void => {
        if (this.pending.get(call.id)?.session !== s) return;
        this.pending.delete(call.id);
        clearTimeout(timer);
        resolve(a);
      };
      this.pending.set(call.id, { session: s, settle });
      if (!s.sendCall(call)) {
        this.pending.delete(call.id);
        clearTimeout(timer);
        resolve(null);
      }
    });
  }
}
