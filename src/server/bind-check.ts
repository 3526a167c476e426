/**
 * The bind check before the daemon listens: without a mesh token it may listen only
 * where nobody but this machine can reach it. `[server] host` is resolved first —
 * every address it resolves to, as `listen` would — because a name is not an
 * address: `127.mesh.lan` may well resolve to a mesh address.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ClareError } from '../core/errors.js';
import { isLoopbackIp } from './loopback.js';

/** Resolves a host name to all its addresses. */
export type ResolveHost = (host: string) => Promise<readonly string[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address. */
export const systemResolve: ResolveHost = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Throws CLARE_UNSAFE_BIND when `host` (an address, or a name resolved with
 * `resolve`) is or resolves to any non-loopback address and there is no token;
 * CLARE_CONFIG when a name does not resolve.
 */
export async function checkBind(host: string, token: string | undefined, file: string, resolve: ResolveHost = systemResolve): Promise<void> {
  if (token !== undefined) return;
  const literal = host.replace(/^\[(.*)\]$/, '$1');
  let addresses: readonly string[];
  if (isIP(literal) !== 0) addresses = [literal];
  else {
    try {
      addresses = await resolve(host);
    } catch (e) {
      throw new ClareError('CLARE_CONFIG', `${file}: [server] host ${JSON.stringify(host)} does not resolve: ${(e as Error).message}`, { file, key: 'server.host' });
    }
  }
  const open = addresses.filter((a) => !isLoopbackIp(a));
  if (addresses.length === 0 || open.length > 0) {
    const what = isIP(literal) !== 0 ? host : `${host} (${addresses.join(', ') || 'no address'})`;
    throw new ClareError('CLARE_UNSAFE_BIND', `refusing to listen on ${what} without a mesh token: set [mesh] token in ${file} (every peer uses the same one), or bind 127.0.0.1`, { host, addresses: [...addresses] });
  }
}
