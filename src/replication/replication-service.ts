/**
 * The replication service: dials every configured peer (jittered exponential
 * backoff), accepts inbound sync sockets from the daemon's route, runs one
 * SyncSession per connection, and reports per-peer status.
 *
 * Redundant links: two daemons that list each other dial each other, giving two
 * connections. Both would push the same events, so every event would arrive
 * twice. Once a second session to the same machine opens, both sides keep the
 * same one — the one dialed by the machine with the smaller id (the newest if
 * both were dialed by the same side, the older being a dead link not yet
 * noticed) — and close the other with code 4009. A dialer whose link was closed
 * as redundant waits and does not redial while another link to that machine is up.
 *
 * Recovery (src/core/recovery.ts): while this machine recovers its own events, the
 * service watches every peer's statement of what it holds of our origin, and ends
 * recovery once a peer that holds some has given us all of them, and every other
 * connected peer that holds some has too (or every configured peer has answered and
 * none holds any).
 *
 * The mesh token goes only to the configured peer URLs (`peers()`): every dial is
 * of a URL from that list, and dialers follow no redirects.
 */
import type { StoreContext } from '../core/context.js';
import { ClareError } from '../core/errors.js';
import type { MachineId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import type { Recovery } from '../core/recovery.js';
import type { Service } from '../core/service-lifecycle.js';
import { originCounts, watermarks } from '../core/store.js';
import { Backoff } from './backoff.js';
import { Dialer, type DialHost, type DialOutcome } from './dialer.js';
import { CLOSE } from './close-codes.js';
import type { Hlc } from '../core/hlc.js';
import { normalizePeerUrl, syncSocketUrl } from './peer-url.js';
import type { PeerStatus } from '../protocol/status.js';
import { newRecord, statusLine, type PeerRecord } from './peer-status.js';
import type { SessionEnd } from './session-end.js';
import { SyncSession, type Direction } from './sync-session.js';
import type { RemoteInfo, Transport } from './transport.js';
import { resolveTuning, type SyncTuning } from './tuning.js';
import { dialWebSocket } from './ws-transport.js';
import type { RemoteCalls } from './remote-calls.js';

/** Opens a transport to a peer's sync socket URL (default: a `ws` WebSocket with the bearer token). */
export type Connector = (socketUrl: string, token: string | undefined) => Transport;

export interface ReplicationServiceOptions {
  readonly ctx: StoreContext;
  /** This machine's id (must equal `ctx.clock.machine`). */
  readonly machineId: MachineId;
  /** This machine's display name. */
  readonly name: string;
  /** The mesh token, sent on every dial. */
  readonly token?: string | undefined;
  /** Peer base URLs (http://host:port); re-read on every reconnect attempt and by `reloadPeers()`. */
  readonly peers: () => readonly string[];
  readonly log: Logger;
  /** Wall clock (ms). */
  readonly now?: () => number;
  /** How to open a connection (tests pass an in-memory network). */
  readonly connect?: Connector;
  readonly tuning?: Partial<SyncTuning>;
  /** Randomness for backoff jitter. */
  readonly random?: () => number;
  /** The recovery in progress when the daemon started recovering (null or absent: none). */
  readonly recovery?: Recovery | null;
  /** Protocol versions offered (default: all this build speaks). */
  readonly versions?: readonly number[];
  /** Remote fleet calls (protocol 3) ride on these links; without it, calls are refused. */
  readonly calls?: RemoteCalls;
}

/** Most sync connections at once (inbound, before or after their hello); more are refused. */
export const MAX_SYNC_SESSIONS = 64;

/**
 * Most disconnected inbound-only peers remembered in status (their last error, lag,
 * counters). Any machine with the token can say hello under a new id each time: past
 * this, the longest-disconnected are forgotten. Configured peers are always kept.
 */
export const MAX_REMEMBERED_INBOUND = 32;

export class ReplicationService implements Service, DialHost {
  readonly name = 'replication';
  private readonly opts: ReplicationServiceOptions;
  private readonly tuning: SyncTuning;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly connect: Connector;
  /** Peer records: `url:<base>` for dialed peers, `machine:<id>` for inbound-only ones. */
  private readonly records = new Map<string, PeerRecord>();
  private readonly dialers = new Map<string, Dialer>();
  private readonly sessions = new Map<SyncSession, PeerRecord | null>();
  private readonly openOrder = new Map<SyncSession, number>();
  private openCounter = 0;
  /** Sessions whose peer was found to hold newer events of ours than we do (warned once each). */
  private readonly warnedBehind = new WeakSet<SyncSession>();
  private lastLinks = '';
  private state: 'new' | 'running' | 'draining' | 'stopped' = 'new';
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(opts: ReplicationServiceOptions) {
    if (opts.machineId !== opts.ctx.clock.machine) {
      throw new ClareError('CLARE_CONFIG', `replication machine id ${opts.machineId} is not the clock's ${opts.ctx.clock.machine}`);
    }
    this.opts = opts;
    this.tuning = resolveTuning(opts.tuning);
    this.now = opts.now ?? Date.now;
    this.log = opts.log.child({ service: 'replication' });
    this.connect = opts.connect ?? ((url, token) => dialWebSocket(url, { token, connectTimeoutMs: this.tuning.handshakeTimeoutMs }));
    opts.calls?.useLinks(() => [...this.sessions.keys()]);
  }

  /** Starts dialing the configured peers. Inbound sockets are accepted from now on. */
  run(): Promise<void> {
    if (this.state !== 'new') return Promise.resolve();
    this.state = 'running';
    this.reloadPeers();
    const recovery = this.opts.recovery;
    if (recovery?.active === true && this.configuredUrls().length === 0) {
      recovery.complete('no peers configured: nothing to recover from');
    }
    this.refreshTimer = setInterval(() => this.reconcilePeers(), this.tuning.peerRefreshMs);
    this.refreshTimer.unref();
    return Promise.resolve();
  }

  /**
   * Re-reads the peer list now: dials new peers at once, hangs up on removed
   * ones. (`clare peer add/remove` calls this through the daemon.)
   */
  reloadPeers(): void {
    this.reconcilePeers();
    for (const d of this.dialers.values()) d.poke();
  }

  /**
   * Takes over an inbound sync socket whose upgrade was already authorised (the
   * route checks the bearer token before the socket exists). Call synchronously
   * in the route handler so no early frame is missed. Never throws.
   */
  acceptInbound(transport: Transport, remote: RemoteInfo = {}): void {
    if (this.state === 'draining' || this.state === 'stopped') {
      transport.close(CLOSE.GOING_AWAY, 'shutting down');
      return;
    }
    if (this.sessions.size >= MAX_SYNC_SESSIONS) {
      this.log.warn('refusing a sync connection: too many open', { address: remote.address, limit: MAX_SYNC_SESSIONS });
      transport.send(JSON.stringify({ type: 'error', code: 'CLARE_TOO_LARGE', message: `this daemon already has ${this.sessions.size} sync connections (limit ${MAX_SYNC_SESSIONS}); try later` }));
      transport.close(CLOSE.TRY_AGAIN_LATER, 'too many sync connections');
      return;
    }
    this.log.debug('inbound sync connection', { address: remote.address });
    const s = this.startSession(transport, 'inbound', null);
    void s.done.then((end) => this.onSessionEnd(s, end)).catch((e: unknown) => this.log.error('sync session bookkeeping failed', { err: e }));
  }

  /** Per-peer state, dialed peers first (by URL), then inbound-only ones (by name). */
  status(): PeerStatus[] {
    const ourCounts = originCounts(this.opts.ctx.db);
    const ourWm = watermarks(this.opts.ctx.db);
    const out: PeerStatus[] = [];
    const recs = [...this.records.values()].sort((a, b) =>
      (a.url === null ? 1 : 0) - (b.url === null ? 1 : 0) || (a.url ?? a.name ?? '').localeCompare(b.url ?? b.name ?? ''));
    for (const r of recs) out.push(statusLine(r, this.openSessionOf(r), ourCounts, ourWm));
    return out;
  }

  /** The recovery of this machine's own events: its status, or null when the daemon did not start recovering. */
  recoveryStatus(): ReturnType<Recovery['status']> | null {
    return this.opts.recovery?.status() ?? null;
  }

  /**
   * An HTTP catch-up round (`clare sync`) pulled from a peer that holds `wm`/`count`
   * of our origin: ends recovery if we now hold at least that.
   */
  noteHttpPull(peerName: string, wm: Hlc | undefined, count: number | undefined): void {
    const recovery = this.opts.recovery;
    if (recovery?.active !== true || wm === undefined) return;
    this.completeRecoveryIfCaughtUp(peerName, wm, count);
  }

  /** Stops dialing and accepting, then waits (up to `timeoutMs`) for sent batches to be acknowledged. */
  async drain(timeoutMs = 5000): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'draining';
    // No new links; current ones stay up until every batch they sent is acknowledged.
    for (const d of this.dialers.values()) d.stop(CLOSE.GOING_AWAY, 'shutting down', true);
    const idle = Promise.all([...this.sessions.keys()].map((s) => s.drain()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([idle.then(() => undefined), deadline]);
    clearTimeout(timer);
  }

  /** Closes every link and stops all timers; resolves once every socket has closed. Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.refreshTimer !== null) clearInterval(this.refreshTimer);
    for (const d of this.dialers.values()) d.stop(CLOSE.GOING_AWAY, 'shutting down');
    this.dialers.clear();
    const all = [...this.sessions.keys()];
    for (const s of all) s.close(CLOSE.GOING_AWAY, 'shutting down');
    await Promise.all(all.map((s) => s.done));
  }

  // ---- internals (used by Dialer) ----------------------------------------

  /**
   * One dial attempt of `url`: connect, run the session to its end. Returns how
   * it ended, 'linked-elsewhere' when skipped because another link to that
   * machine is up, or null when no session could even start.
   */
  async dialOnce(url: string, onSession: (s: SyncSession) => void): Promise<DialOutcome> {
    this.reconcilePeers();
    const rec = this.records.get(`url:${url}`);
    if (rec === undefined || this.state !== 'running') return null;
    if (rec.machineId !== null && this.hasOpenSession(rec.machineId)) return 'linked-elsewhere';
    let transport: Transport;
    try {
      transport = this.connect(syncSocketUrl(url), this.opts.token);
    } catch (e) {
      this.noteError(rec, e instanceof ClareError ? e : new ClareError('CLARE_PEER', `cannot dial ${url}: ${String(e)}`), false);
      return null;
    }
    const s = this.startSession(transport, 'outbound', rec);
    onSession(s);
    const end = await s.done;
    this.onSessionEnd(s, end);
    return end;
  }

  /** A dial loop hit an unexpected error; it keeps going, but the bug is logged. */
  reportDialerBug(url: string, err: unknown): void {
    this.log.error('sync dialer error', { url, err });
  }

  private startSession(transport: Transport, direction: Direction, rec: PeerRecord | null): SyncSession {
    const s = new SyncSession({
      ctx: this.opts.ctx,
      machineId: this.opts.machineId,
      name: this.opts.name,
      transport,
      direction,
      log: this.log.child(rec?.url === null || rec === null ? {} : { peer_url: rec.url }),
      now: this.now,
      tuning: this.tuning,
      links: () => this.currentLinks(),
      ...(rec === null ? {} : { counters: rec.counters }),
      onOpen: (x) => this.onSessionOpen(x),
      onHealthy: (x) => {
        const r = this.sessions.get(x);
        if (r !== undefined && r !== null) r.faulty = false;
      },
      onPeerState: (x) => this.checkRecovery(x),
      ...(this.opts.calls === undefined ? {} : { onCall: this.opts.calls.onFrame.bind(this.opts.calls) }),
      ...(this.opts.versions === undefined ? {} : { versions: this.opts.versions }),
    });
    this.sessions.set(s, rec);
    s.start();
    return s;
  }

  private onSessionOpen(s: SyncSession): void {
    const remote = s.remote;
    if (remote === null) return; // opens only after its hello: never
    let rec = this.sessions.get(s) ?? null;
    if (rec === null) {
      rec = [...this.records.values()].find((r) => r.machineId === remote.machineId && r.url !== null)
        ?? this.records.get(`machine:${remote.machineId}`)
        ?? null;
      if (rec === null) {
        rec = newRecord(null, remote.machineId);
        this.records.set(`machine:${remote.machineId}`, rec);
      }
    } else if (rec.machineId !== remote.machineId) {
      // A dialed URL now known to be this machine: fold in its inbound-only record.
      rec.machineId = remote.machineId;
      const orphan = this.records.get(`machine:${remote.machineId}`);
      if (orphan !== undefined) {
        rec.counters.events_sent += orphan.counters.events_sent;
        rec.counters.events_received += orphan.counters.events_received;
        rec.counters.duplicates_received += orphan.counters.duplicates_received;
        let linked = false;
        for (const [x, r] of this.sessions) {
          if (r !== orphan) continue;
          this.sessions.set(x, rec);
          x.useCounters(rec.counters);
          linked ||= x.isOpen && x !== s;
        }
        // Its inbound link is up already: the URL's record is connected since that one
        // opened (not since its own last failed dial, nor never).
        if (linked) rec.since = orphan.since;
        this.records.delete(`machine:${remote.machineId}`);
      }
    }
    this.sessions.set(s, rec);
    s.useCounters(rec.counters);
    const wasConnected = this.openSessionOf(rec, s) !== null;
    rec.name = remote.name;
    rec.protocolVersion = remote.protocolVersion;
    rec.clockOffsetMs = s.clockOffsetMs;
    rec.direction = s.direction;
    if (!wasConnected) rec.since = this.now();
    this.openOrder.set(s, ++this.openCounter);
    this.log.info('sync peer connected', { peer: remote.machineId, peer_name: remote.name, url: rec.url, direction: s.direction, version: remote.protocolVersion });
    this.dedupe(remote.machineId);
    this.broadcastLinks();
  }

  /** Keeps one open session per remote machine (see the file comment for the rule). */
  private dedupe(machine: MachineId): void {
    const same = [...this.openOrder.keys()].filter((x) => x.isOpen && x.remote?.machineId === machine);
    if (same.length < 2) return;
    const preferred = this.opts.machineId < machine ? this.opts.machineId : machine;
    const dialer = (x: SyncSession): string => (x.direction === 'outbound' ? this.opts.machineId : machine);
    const newest = (xs: SyncSession[]): SyncSession => xs.reduce((a, b) => ((this.openOrder.get(a) ?? 0) > (this.openOrder.get(b) ?? 0) ? a : b));
    const byPreferred = same.filter((x) => dialer(x) === preferred);
    const keep = newest(byPreferred.length > 0 ? byPreferred : same);
    for (const x of same) if (x !== keep) x.close(CLOSE.DUPLICATE, 'redundant link; keeping another to the same machine');
  }

  private onSessionEnd(s: SyncSession, end: SessionEnd): void {
    const rec = this.sessions.get(s) ?? null;
    this.sessions.delete(s);
    this.opts.calls?.onLinkClosed(s);
    const wasOpen = this.openOrder.delete(s);
    if (rec !== null) {
      if (end.error !== null && end.code !== CLOSE.DUPLICATE) this.noteError(rec, end.error, end.faulty);
      if (end.established) {
        rec.lastWatermarks = s.peerWatermarks();
        rec.lastCounts = s.peerCounts();
        rec.lastDivergence = s.divergence();
        rec.clockOffsetMs = s.clockOffsetMs;
        if (rec.lastHeard === null || s.lastHeardAt > rec.lastHeard) {
          rec.lastHeard = s.lastHeardAt;
          rec.lastLinks = s.peerLinks;
        }
        if (this.openSessionOf(rec) === null) {
          rec.since = end.at;
          this.log.info('sync peer disconnected', { peer: rec.machineId, url: rec.url, code: end.code, reason: end.reason, error: end.error?.code });
        }
      } else if (rec.since === null) {
        rec.since = end.at;
      }
    } else if (end.error !== null) {
      this.log.warn('inbound sync connection refused before its hello', { code: end.error.code, message: end.error.message });
    }
    if (rec !== null && rec.url === null) this.forgetOldInbound();
    if (wasOpen) this.broadcastLinks();
  }

  /** Keeps at most MAX_REMEMBERED_INBOUND disconnected inbound-only records, dropping the longest disconnected. */
  private forgetOldInbound(): void {
    const inUse = new Set(this.sessions.values());
    const idle = [...this.records].filter(([, r]) => r.url === null && !inUse.has(r));
    if (idle.length <= MAX_REMEMBERED_INBOUND) return;
    idle.sort((a, b) => (a[1].since ?? 0) - (b[1].since ?? 0));
    for (const [key] of idle.slice(0, idle.length - MAX_REMEMBERED_INBOUND)) this.records.delete(key);
  }

  private noteError(rec: PeerRecord, err: ClareError, faulty: boolean): void {
    const first = rec.lastError === null || rec.lastError.code !== err.code;
    rec.lastError = { code: err.code, message: err.message, at: this.now() };
    if (faulty) rec.faulty = true;
    const fields = { url: rec.url, peer: rec.machineId, code: err.code, message: err.message };
    // Repeated connect failures to a down peer are expected: log the first loudly only.
    if (faulty) this.log.warn('sync peer faulty', fields);
    else if (first) this.log.info('sync link problem', fields);
    else this.log.debug('sync link problem', fields);
  }

  /**
   * While recovering: what the peer of `s` holds of our origin against what we hold.
   * Its statements (and the events it sent us) say it; we catch up from its batches.
   */
  private checkRecovery(s: SyncSession): void {
    const recovery = this.opts.recovery;
    if (s.remote === null) return;
    const me = this.opts.machineId;
    const rec = this.sessions.get(s) ?? null;
    const theirWm = s.peerWatermarks()[me];
    if (recovery?.active !== true) {
      // Not recovering, yet a peer holds newer events of ours: a database copied back by hand.
      // Gossip (and anti-entropy) bring them; say so once per session, it needs an explanation.
      const ours = watermarks(this.opts.ctx.db)[me];
      if (theirWm !== undefined && (ours === undefined || theirWm > ours) && !this.warnedBehind.has(s)) {
        this.warnedBehind.add(s);
        this.log.warn('a peer holds newer events of this machine than its own database (restored from an older copy without `clare restore`?); fetching them', { peer: s.remote.machineId, theirs: theirWm, ours: ours ?? null });
        this.clockAbove(s.remote.name, theirWm);
      }
      return;
    }
    if (theirWm === undefined) {
      if (rec !== null && rec.holdsOurs === null) rec.holdsOurs = false;
      // Every configured peer has answered and none holds anything of ours: nothing to wait for.
      const configured = [...this.records.values()].filter((r) => r.url !== null);
      if (configured.length > 0 && configured.every((r) => r.holdsOurs === false)) {
        recovery.complete(`every configured peer (${configured.map((r) => r.name ?? r.url).join(', ')}) answered and none holds events of this machine`);
      }
      return;
    }
    if (rec !== null) rec.holdsOurs = true;
    this.completeRecoveryIfCaughtUp(s.remote.name, theirWm, s.peerCounts()[me]);
  }

  /**
   * Ends recovery once we hold, of our origin, at least what `peerName` stated
   * (`theirWm`, `theirCount`) and what every other connected peer states: the first
   * peer to give back what it holds may hold less than another connected one, and
   * writing (a delivery, above all) before the rest is back would type again what
   * only that other peer recorded. Peers out of reach are not waited for: anti-entropy
   * brings what they hold later.
   */
  private completeRecoveryIfCaughtUp(peerName: string, theirWm: Hlc, theirCount: number | undefined): void {
    const recovery = this.opts.recovery;
    if (recovery === undefined || recovery === null) return;
    const me = this.opts.machineId;
    const ctx = this.opts.ctx;
    const claims = [{ name: peerName, wm: theirWm, count: theirCount ?? 0 }];
    for (const s of this.sessions.keys()) {
      const remote = s.isOpen ? s.remote : null;
      const wm = remote === null ? undefined : s.peerWatermarks()[me];
      if (remote !== null && wm !== undefined) claims.push({ name: remote.name, wm, count: s.peerCounts()[me] ?? 0 });
    }
    for (const c of claims) this.clockAbove(c.name, c.wm);
    const ours = watermarks(ctx.db)[me];
    const count = originCounts(ctx.db)[me] ?? 0;
    if (ours !== undefined && claims.every((c) => ours >= c.wm && count >= c.count)) {
      const names = [...new Set(claims.map((c) => c.name))].join(', ');
      recovery.complete(`${names} gave back this machine's events: ${count} held, up to ${ours}`);
    }
  }

  /** Our next stamps must sort after every event of ours a peer holds, delivered yet or not. */
  private clockAbove(peerName: string, theirWm: Hlc): void {
    try {
      this.opts.ctx.clock.receive(theirWm);
    } catch (e) {
      this.log.warn('a peer states events of this machine stamped beyond the skew bound; not moving the clock', { peer: peerName, hlc: theirWm, err: e });
    }
  }

  private configuredUrls(): string[] {
    try {
      return [...this.opts.peers()];
    } catch {
      return [];
    }
  }

  private openSessionOf(rec: PeerRecord, except?: SyncSession): SyncSession | null {
    for (const [s, r] of this.sessions) if (r === rec && s !== except && s.isOpen) return s;
    return null;
  }

  private hasOpenSession(machine: MachineId): boolean {
    for (const s of this.sessions.keys()) if (s.isOpen && s.remote?.machineId === machine) return true;
    return false;
  }

  /** Machines we hold an open session with: advertised so peers need not relay their events to us. */
  private currentLinks(): string[] {
    const ids = new Set<string>();
    for (const s of this.sessions.keys()) if (s.isOpen && s.remote !== null) ids.add(s.remote.machineId);
    return [...ids].sort();
  }

  private broadcastLinks(): void {
    const links = this.currentLinks();
    const key = links.join(',');
    if (key === this.lastLinks) return;
    this.lastLinks = key;
    for (const s of this.sessions.keys()) s.sendLinks(links);
  }

  /** Brings dialers in line with the configured peers (called on run, reload, each dial, and a timer). */
  private reconcilePeers(): void {
    if (this.state !== 'running') return;
    let listed: readonly string[];
    try {
      listed = this.opts.peers();
    } catch (e) {
      this.log.error('cannot read the peer list', { err: e });
      return;
    }
    const want = new Set<string>();
    for (const raw of listed) {
      try {
        want.add(normalizePeerUrl(raw));
      } catch (e) {
        const rec = this.records.get(`url:${raw}`) ?? newRecord(raw, null);
        this.records.set(`url:${raw}`, rec);
        if (e instanceof ClareError) this.noteError(rec, e, false);
      }
    }
    for (const [url, d] of this.dialers) {
      if (want.has(url)) continue;
      d.stop(CLOSE.NORMAL, 'peer removed from the config');
      this.dialers.delete(url);
      const rec = this.records.get(`url:${url}`);
      this.records.delete(`url:${url}`);
      if (rec !== undefined && rec.machineId !== null && this.openSessionOf(rec) !== null) {
        rec.url = null;
        this.records.set(`machine:${rec.machineId}`, rec);
      }
    }
    for (const url of want) {
      if (this.dialers.has(url)) continue;
      if (!this.records.has(`url:${url}`)) this.records.set(`url:${url}`, newRecord(url, null));
      const d = new Dialer(url, this, new Backoff(this.tuning.backoffMinMs, this.tuning.backoffMaxMs, this.opts.random));
      this.dialers.set(url, d);
      d.start();
    }
    // Records of URLs that failed to parse and are no longer listed.
    for (const [key, rec] of this.records) {
      if (key.startsWith('url:') && rec.url !== null && !want.has(rec.url) && !this.dialers.has(rec.url) && !listed.includes(rec.url)) this.records.delete(key);
    }
  }
}
