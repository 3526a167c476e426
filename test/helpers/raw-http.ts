/**
 * Raw HTTP/1.1 requests over a net.Socket, for request targets that fetch and
 * inject normalise away (percent-encoded and dot segments, absolute-form) and for
 * headers they will not send (Host, Origin). Reads only the status line and headers.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  /** HTTP status of the answer (101 = the WebSocket upgrade went through). */
  readonly status: number;
  readonly head: string;
}

export interface RawRequest {
  readonly method: string;
  /** The request target exactly as sent (origin-form, absolute-form, encoded…). */
  readonly target: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Ask for a WebSocket upgrade (adds Upgrade, Connection, Sec-WebSocket-*). */
  readonly upgrade?: boolean;
}

/** The headers of a WebSocket upgrade request. */
export const UPGRADE_HEADERS: Readonly<Record<string, string>> = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

/** Sends one request to host:port and resolves with the answer's status line and headers. */
export function rawRequest(host: string, port: number, r: RawRequest, timeoutMs = 10_000): Promise<RawAnswer> {
  const headers: Record<string, string> = { host: `${host.includes(':') ? `[${host}]` : host}:${port}`, ...(r.upgrade === true ? UPGRADE_HEADERS : {}), ...r.headers };
  if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
  if (r.upgrade !== true && headers['connection'] === undefined) headers['connection'] = 'close';
  const text = `${r.method} ${r.target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${r.body ?? ''}`;
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${r.method} ${r.target}`));
    }, timeoutMs);
    s.setEncoding('latin1');
    s.on('connect', () => s.write(text, 'latin1'));
    s.on('data', (d: string) => {
      got += d;
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      s.destroy();
      const head = got.slice(0, end);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m === null) reject(new Error(`not an HTTP answer: ${head.slice(0, 100)}`));
      else resolve({ status: Number(m[1]), head });
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      if (got.indexOf('\r\n\r\n') < 0) reject(new Error(`connection closed without an answer to ${r.method} ${r.target}: ${JSON.stringify(got.slice(0, 100))}`));
    });
  });
}

/**
 * The request-target forms that must all reach the same access decision as the
 * plain path: percent-encoded and double-encoded letters, absolute-form, dot
 * segments, doubled slashes, a trailing slash, a `;` parameter.
 * `path` starts with `/api/v1/`.
 */
export function targetVariants(path: string, port: number): { name: string; target: string }[] {
  const [p, q] = path.split('?') as [string, string | undefined];
  const query = q === undefined ? '' : `?${q}`;
  const rest = p.slice('/api/v1/'.length);
  const first = rest.charCodeAt(0).toString(16);
  return [
    { name: 'plain', target: path },
    { name: 'percent-encoded letter', target: `/api/v1/%${first}${rest.slice(1)}${query}` },
    { name: 'percent-encoded upper-case hex', target: `/api/v1/%${first.toUpperCase()}${rest.slice(1)}${query}` },
    { name: 'double-encoded letter', target: `/api/v1/%25${first}${rest.slice(1)}${query}` },
    { name: 'encoded slash', target: `/api/v1%2F${rest}${query}` },
    { name: 'absolute-form', target: `http://127.0.0.1:${port}${path}` },
    { name: 'absolute-form, other host', target: `http://198.18.0.9:${port}${path}` },
    { name: 'dot segment', target: `/api/v1/x/../${rest}${query}` },
    { name: 'encoded dot segment', target: `/api/v1/x/%2e%2e/${rest}${query}` },
    { name: 'doubled slash', target: `/api/v1//${rest}${query}` },
    { name: 'leading doubled slash', target: `//api/v1/${rest}${query}` },
    { name: 'trailing slash', target: `${p}/${query}` },
    { name: 'semicolon parameter', target: `${p};x=1${query}` },
    { name: 'upper-case path', target: `/API/V1/${rest.toUpperCase()}${query}` },
  ];
}
