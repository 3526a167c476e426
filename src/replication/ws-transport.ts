/**
 * The `ws` adapter of the Transport interface: the only file of the sync engine
 * that knows about WebSockets. Server side, wrap the already-accepted socket that
 * @fastify/websocket hands the route (`wsTransport(socket)`); client side, dial
 * with `dialWebSocket(url, { token })`, which puts the mesh token in the upgrade
 * request's Authorization header.
 */
import WebSocket from 'ws';
import { ClareError } from '../core/errors.js';
import { isSendableCloseCode } from './close-codes.js';
import { TransportBase } from './transport.js';
import { MAX_FRAME_BYTES } from './tuning.js';

export interface WsTransportOptions {
  /** After a local `close()`, how long to wait for the peer's close frame before cutting the socket (ms). */
  readonly closeTimeoutMs?: number;
  /** Label used in error messages (the URL dialed, or the remote address). */
  readonly label?: string;
}

export interface DialOptions extends WsTransportOptions {
  /** The mesh token, sent as `Authorization: Bearer <token>` on the upgrade request. */
  readonly token?: string | undefined;
  /** Give up opening after this long (ms); default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Largest inbound frame accepted (bytes); default MAX_FRAME_BYTES (8 MiB). */
  readonly maxPayload?: number;
}

const MAX_REASON_BYTES = 123; // RFC 6455: a close reason fits in a 125-byte control frame.

function toText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function truncateReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > MAX_REASON_BYTES) r = r.slice(0, -1);
  return r;
}

class WsTransport extends TransportBase {
  readonly whenReady: Promise<void>;
  private localClose = false;
  private closeTimer: NodeJS.Timeout | null = null;
  private failure: ClareError | null = null;
  /** Set when ws refused an inbound frame over `maxPayload` (it then closes with 1009). */
  private tooLarge: ClareError | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: WsTransportOptions,
  ) {
    super();
    const label = opts.label ?? 'peer';
    this.whenReady = new Promise<void>((resolve, reject) => {
      if (ws.readyState === WebSocket.OPEN) resolve();
      else if (ws.readyState !== WebSocket.CONNECTING) reject(new ClareError('CLARE_PEER', `connection to ${label} is already closed`));
      else {
        ws.once('open', () => resolve());
        ws.once('close', () => reject(this.failure ?? new ClareError('CLARE_PEER', `connection to ${label} closed before it opened`)));
      }
    });
    // Marks the rejection handled; callers still see it through `whenReady`.
    this.whenReady.catch(() => undefined);

    ws.on('message', (data) => this.emitMessage(toText(data)));
    ws.on('close', (code, reason) => {
      if (this.closeTimer !== null) clearTimeout(this.closeTimer);
      this.emitClose({ code, reason: reason.toString('utf8'), local: this.localClose, ...(this.tooLarge === null ? {} : { error: this.tooLarge }) });
    });
    // Without an 'error' listener, ws would throw the error out of the event loop.
    ws.on('error', (err) => {
      if ((err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.tooLarge = new ClareError('CLARE_TOO_LARGE', `${label} sent a frame over the size limit (${err.message}); link closed (1009)`);
      }
      this.failure ??= new ClareError('CLARE_PEER', `connection to ${label} failed: ${err.message}`);
    });
    ws.on('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      this.failure = status === 401 || status === 403
        ? new ClareError('CLARE_UNAUTHORIZED', `${label} refused our mesh token (HTTP ${status}); set the same [mesh] token on both machines`, { status })
        : new ClareError('CLARE_PEER', `${label} answered the WebSocket upgrade with HTTP ${status}`, { status });
      res.resume();
      req.destroy();
      ws.terminate();
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.closed;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(frame: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(frame);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.CLOSED || this.ws.readyState === WebSocket.CLOSING) return;
    this.localClose = true;
    try {
      this.ws.close(isSendableCloseCode(code) ? code : 1000, truncateReason(reason));
    } catch {
      this.ws.terminate();
      return;
    }
    // A dead peer never answers the close frame; do not wait ws's 30 s for it.
    this.closeTimer = setTimeout(() => this.ws.terminate(), this.opts.closeTimeoutMs ?? 2000);
    this.closeTimer.unref();
  }
}

/**
 * Wraps a `ws` WebSocket (open, or still connecting) as a Transport. Use it on
 * the server for the socket @fastify/websocket hands the route; attach it
 * synchronously in the handler so no early frame is missed.
 */
export function wsTransport(ws: WebSocket, opts: WsTransportOptions = {}): TransportBase {
  return new WsTransport(ws, opts);
}

/**
 * Dials a peer's sync endpoint (`ws(s)://host:port/api/v1/sync/ws`). The token, if
 * any, rides in the upgrade's Authorization header; a 401/403 answer rejects
 * `whenReady` with CLARE_UNAUTHORIZED, any other failure with CLARE_PEER.
 */
export function dialWebSocket(url: string, opts: DialOptions = {}): TransportBase {
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, {
      headers: opts.token === undefined ? {} : { Authorization: `Bearer ${opts.token}` },
      handshakeTimeout: opts.connectTimeoutMs ?? 10_000,
      maxPayload: opts.maxPayload ?? MAX_FRAME_BYTES,
      // The token goes to the configured URL only, never to wherever a redirect points.
      followRedirects: false,
      // Compression costs more CPU than it saves bandwidth on loopback and WireGuard links.
      perMessageDeflate: false,
    });
  } catch (e) {
    throw new ClareError('CLARE_PEER', `cannot dial ${url}: ${(e as Error).message}`, { url });
  }
  return new WsTransport(ws, { ...opts, label: opts.label ?? url });
}
