/**
 * The live stream as a Lit ReactiveController: opens /api/v1/live while its host
 * is connected, applies the frames once per animation frame, and reconnects with
 * backoff. Every (re)connect starts with a fresh snapshot from the server, so a
 * change missed while disconnected can never leave the page stale.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ApiError, apiRequest } from '../api/api-client.js';
import { authToken } from '../api/auth-token.js';
import { applyFrames, mergeColumns, mergeList, overFull, type FleetState, type ListName, type ListRows } from './fleet-state.js';
import { parseFrame } from './parse-frame.js';
import type { ClientFrame, ServerMessage } from '../../protocol/live.js';
import { LIVE_PROTOCOL_VERSION } from '../../protocol/live-version.js';
import type { Task, TaskStatus } from '../../protocol/models.js';
import type { Page } from '../../protocol/page.js';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

export interface LiveOptions {
  /** Path of the live socket. */
  readonly path?: string;
  /** Backoff bounds (ms) between reconnect attempts. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** Frames buffered while no animation frame runs (hidden tab); past this, drop them and ask for a snapshot. */
const MAX_BUFFERED_FRAMES = 20_000;
/** A ping every so often; a socket silent for two intervals is presumed dead (sleeping laptop, lost route). */
const PING_MS = 20_000;

export class LiveController implements ReactiveController {
  /** Null until the first snapshot arrives. */
  state: FleetState | null = null;
  connection: ConnectionState = 'connecting';
  /** Why the last connection ended or a frame was refused, for the status badge. */
  problem: string | null = null;
  /** The daemon speaks another protocol version: the page should be reloaded. */
  outdated = false;

  private socket: WebSocket | null = null;
  private pending: ServerMessage[] = [];
  private frameRequested = false;
  private attempts = 0;
  private retryTimer: number | undefined;
  private pingTimer: number | undefined;
  private lastHeard = 0;
  private active = false;
  private diagnosed = false;

  constructor(private readonly host: ReactiveControllerHost, private readonly opts: LiveOptions = {}) {
    host.addController(this);
  }

  hostConnected(): void {
    this.active = true;
    window.addEventListener('online', this.reconnectNow);
    document.addEventListener('visibilitychange', this.onVisibility);
    this.open();
  }

  hostDisconnected(): void {
    this.active = false;
    window.removeEventListener('online', this.reconnectNow);
    document.removeEventListener('visibilitychange', this.onVisibility);
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    const s = this.socket;
    this.socket = null;
    s?.close(1000, 'page closed');
  }

  private url(): string {
    const u = new URL(this.opts.path ?? '/api/v1/live', window.location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    const token = authToken();
    if (token !== null) u.searchParams.set('token', token);
    return u.toString();
  }

  private open(): void {
    if (!this.active || this.socket !== null) return;
    window.clearTimeout(this.retryTimer);
    const ws = new WebSocket(this.url());
    this.socket = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      if (this.socket !== ws) return;
      opened = true;
      this.diagnosed = false;
      this.lastHeard = Date.now();
      window.clearInterval(this.pingTimer);
      this.pingTimer = window.setInterval(() => this.ping(ws), PING_MS);
    });
    ws.addEventListener('message', (ev: MessageEvent<unknown>) => {
      if (this.socket !== ws) return;
      this.lastHeard = Date.now();
      if (typeof ev.data !== 'string') return this.refuse(ws, 'binary frame');
      const r = parseFrame(ev.data);
      if (!r.ok) return this.refuse(ws, r.reason);
      this.receive(r.message);
    });
    ws.addEventListener('close', (ev) => {
      if (this.socket !== ws) return;
      this.socket = null;
      window.clearInterval(this.pingTimer);
      if (ev.code !== 1000 && ev.code !== 1005 && this.problem === null) this.problem = ev.reason === '' ? `connection closed (${ev.code})` : ev.reason;
      // A refused handshake says nothing about why; the API does (e.g. a missing mesh token).
      if (!opened && !this.diagnosed) void this.diagnose();
      this.scheduleReconnect();
    });
    // An error is always followed by close; nothing to do here but keep it from surfacing as unhandled.
    ws.addEventListener('error', () => undefined);
  }

  private receive(m: ServerMessage): void {
    if (m.type === 'snapshot') {
      // A snapshot supersedes everything buffered before it.
      this.pending = [];
      this.attempts = 0;
      this.problem = null;
      this.connection = 'live';
      this.outdated = m.protocol !== LIVE_PROTOCOL_VERSION;
    } else if (m.type === 'error') {
      this.problem = `${m.code}: ${m.message}`;
    } else if (m.type === 'pong') {
      return;
    }
    this.pending.push(m);
    if (this.pending.length > MAX_BUFFERED_FRAMES) {
      // A hidden tab gets no animation frames; rather than hold an unbounded backlog, start over.
      this.pending = [];
      this.send({ type: 'resync' });
      return;
    }
    if (!this.frameRequested) {
      this.frameRequested = true;
      requestAnimationFrame(this.flush);
    }
  }

  /** Applies everything received since the last animation frame, then renders once. */
  private readonly flush = (): void => {
    this.frameRequested = false;
    if (this.pending.length === 0) return;
    const frames = this.pending;
    this.pending = [];
    this.state = applyFrames(this.state, frames);
    // The page holds at most so much: past it, start again from a fresh snapshot's windows.
    if (this.state !== null && overFull(this.state)) this.send({ type: 'resync' });
    this.host.requestUpdate();
  };

  /**
   * Merges fetched pages of a board context's columns, if no snapshot came in since
   * they were asked for (`epoch`): a snapshot resets every window.
   */
  mergeColumns(epoch: number, key: string, pages: Partial<Record<TaskStatus, Page<Task>>>, after: Partial<Record<TaskStatus, string>>): void {
    if (this.state === null || this.state.epoch !== epoch) return;
    const held = this.state.columns.get(key);
    // Each page must continue what is loaded: the first pages of a context not loaded yet, or the next page after `after`.
    for (const status of Object.keys(pages) as TaskStatus[]) {
      const a = after[status];
      if (a === undefined ? held !== undefined : held?.[status].next !== a) return;
    }
    this.state = mergeColumns(this.state, key, pages);
    this.host.requestUpdate();
  }

  /** Merges the next page of a list, if it continues what is loaded (same snapshot, same cursor). */
  mergeList<L extends ListName>(epoch: number, list: L, after: string, page: Page<ListRows[L]>): void {
    if (this.state === null || this.state.epoch !== epoch || this.state.lists[list].next !== after) return;
    this.state = mergeList(this.state, list, page);
    this.host.requestUpdate();
  }

  private refuse(ws: WebSocket, reason: string): void {
    this.problem = `bad frame from the daemon: ${reason}`;
    ws.close(4000, 'bad frame');
  }

  private send(f: ClientFrame): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(f));
  }

  private ping(ws: WebSocket): void {
    if (Date.now() - this.lastHeard > 2 * PING_MS) {
      this.problem = 'the daemon stopped answering';
      ws.close(4001, 'silent');
      return;
    }
    this.send({ type: 'ping', t: Date.now() });
  }

  private scheduleReconnect(): void {
    if (!this.active) return;
    this.connection = 'reconnecting';
    this.host.requestUpdate();
    const min = this.opts.minBackoffMs ?? 200;
    const max = this.opts.maxBackoffMs ?? 5000;
    // Exponential with full jitter, so many pages do not reconnect in lockstep after a restart.
    const delay = Math.min(max, min * 2 ** this.attempts) * (0.5 + Math.random() / 2);
    this.attempts++;
    this.retryTimer = window.setTimeout(() => this.open(), delay);
  }

  /** Asks the API once per outage why the socket is refused. */
  private async diagnose(): Promise<void> {
    this.diagnosed = true;
    try {
      await apiRequest('GET', '/status');
    } catch (e) {
      if (e instanceof ApiError && e.code === 'CLARE_UNAUTHORIZED') {
        this.problem = 'this daemon needs the mesh token: open the page as http://HOST:PORT/#token=…';
        this.host.requestUpdate();
      }
    }
  }

  private readonly reconnectNow = (): void => {
    if (this.socket !== null) return;
    this.attempts = 0;
    this.open();
  };

  private readonly onVisibility = (): void => {
    if (document.visibilityState === 'visible') this.reconnectNow();
  };
}
