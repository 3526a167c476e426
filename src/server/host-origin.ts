/**
 * Browser checks of the HTTP door. A web page open in the user's browser reaches
 * 127.0.0.1 like any local program, so:
 *
 * - **Host** (every request): must be an IP literal, `localhost`, or a name listed
 *   in `[server] allowed_hosts`. A page on a name that its owner re-points at
 *   127.0.0.1 (DNS rebinding) is then same-origin with the daemon as far as the
 *   browser knows, and only the Host header tells.
 * - **Origin** (WebSocket upgrades and every method but GET/HEAD, when the header is
 *   present): must be the daemon's own origin — `http://` plus the Host the request
 *   was sent to, which the Host check has just vouched for — or one listed in
 *   `[server] allowed_origins`. Browsers always send Origin on those requests;
 *   programs (the CLI, peers) send none.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ClareError } from '../core/errors.js';

/** A Host header (or absolute-form authority) split into a lower-case host and a port. */
export interface HostPort {
  /** IPv6 literals keep their brackets: `[::1]`. */
  readonly host: string;
  readonly port: number | null;
}

/** Splits `host[:port]`; null when it is not one (bare IPv6, bad port, empty). */
export function splitHostPort(value: string): HostPort | null {
  const v = value.trim().toLowerCase();
  let host: string;
  let rest: string;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0) return null;
    host = v.slice(0, end + 1);
    rest = v.slice(end + 1);
  } else {
    const colon = v.indexOf(':');
    if (colon >= 0 && v.indexOf(':', colon + 1) >= 0) return null;
    host = colon < 0 ? v : v.slice(0, colon);
    rest = colon < 0 ? '' : v.slice(colon);
  }
  if (host === '' || host === '[]') return null;
  if (rest === '') return { host, port: null };
  if (!/^:\d{1,5}$/.test(rest)) return null;
  const port = Number(rest.slice(1));
  return port <= 65535 ? { host, port } : null;
}

/** An IP literal as it appears in a Host header: dotted IPv4, or IPv6 in brackets. */
export function isIpLiteralHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return isIPv6(host.slice(1, -1));
  return isIPv4(host);
}

/** Whether a request addressed to `host` may be served (no DNS name but listed ones). */
export function hostAllowed(host: string, allowedHosts: readonly string[]): boolean {
  return isIpLiteralHost(host) || host === 'localhost' || allowedHosts.includes(host);
}

/** The authority of an absolute-form request target (`http://host:port/path`), else null. */
export function absoluteFormAuthority(target: string): string | null {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target)?.[1];
  if (authority === undefined) return null;
  const at = authority.lastIndexOf('@');
  return at < 0 ? authority : authority.slice(at + 1);
}

/**
 * Whether `origin` may make a write or open a socket on a request sent to
 * `hostHeader`: the daemon's own origin (same scheme-less host and port as the
 * request, over http) or one listed in `[server] allowed_origins` (normalised).
 */
export function originAllowed(origin: string, hostHeader: string, allowedOrigins: readonly string[]): boolean {
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  // An Origin header is a bare scheme://host[:port]; anything else (a path, credentials,
  // the opaque "null" of sandboxed frames and file:// pages) is no origin of ours.
  if (o.origin === 'null' || o.pathname !== '/' || o.search !== '' || o.hash !== '' || o.username !== '' || o.password !== '') return false;
  if (allowedOrigins.includes(o.origin)) return true;
  if (o.protocol !== 'http:') return false;
  let own: string;
  try {
    own = new URL(`http://${hostHeader}`).host;
  } catch {
    return false;
  }
  return o.host === own;
}

/**
 * The Host and Origin checks of one request. Returns the refusal (CLARE_FORBIDDEN)
 * or null when the request may go on to the token check.
 */
export function browserRefusal(req: {
  readonly method: string;
  readonly url: string;
  readonly headers: { readonly host?: string | undefined; readonly origin?: string | undefined; readonly upgrade?: string | undefined };
}, allowedHosts: readonly string[], allowedOrigins: readonly string[]): ClareError | null {
  const hostHeader = req.headers.host;
  const authorities = [hostHeader, absoluteFormAuthority(req.url) ?? undefined].filter((h): h is string => h !== undefined);
  for (const a of authorities) {
    const hp = splitHostPort(a);
    if (hp === null || !hostAllowed(hp.host, allowedHosts)) {
      return new ClareError('CLARE_FORBIDDEN', `requests addressed to ${JSON.stringify(a.slice(0, 200))} are refused: use an IP address or localhost, or list the name in [server] allowed_hosts (a page on another name that points at this machine is a DNS-rebinding attack)`, { host: a.slice(0, 200) });
    }
  }
  const origin = req.headers.origin;
  const guarded = req.headers.upgrade !== undefined || (req.method !== 'GET' && req.method !== 'HEAD');
  if (origin !== undefined && guarded && !originAllowed(origin, hostHeader ?? '', allowedOrigins)) {
    return new ClareError('CLARE_FORBIDDEN', `requests from web pages of other origins (Origin: ${origin.slice(0, 200)}) are refused; if that page is yours, list its origin in [server] allowed_origins`, { origin: origin.slice(0, 200) });
  }
  return null;
}
