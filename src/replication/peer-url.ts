/**
 * Peer addresses. The config lists a peer's base URL (`http://host:port`, the
 * same address the CLI and HTTP fallback use); the gossip socket lives at
 * `ws(s)://host:port/api/v1/sync/ws` under it.
 */
import { ClareError } from '../core/errors.js';

export const SYNC_WS_PATH = '/api/v1/sync/ws';

/** Normalises a base URL: http(s) only, no trailing slash, no query or fragment. */
export function normalizePeerUrl(base: string): string {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new ClareError('CLARE_CONFIG', `peer ${JSON.stringify(base)} is not a URL; use e.g. http://198.18.0.2:8765`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ClareError('CLARE_CONFIG', `peer ${base} must be an http:// or https:// URL`);
  }
  u.search = '';
  u.hash = '';
  return u.toString().replace(/\/+$/, '');
}

/** The WebSocket URL of a peer's sync endpoint: http → ws, https → wss, path appended. */
export function syncSocketUrl(base: string): string {
  const u = new URL(normalizePeerUrl(base));
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${SYNC_WS_PATH}`;
  return u.toString();
}

/** An HTTP API URL under a peer's base (`path` starts with /api/v1/…). */
export function peerApiUrl(base: string, path: string): string {
  const u = new URL(normalizePeerUrl(base));
  const [p, q] = path.split('?', 2) as [string, string | undefined];
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${p}`;
  if (q !== undefined) u.search = q;
  return u.toString();
}
