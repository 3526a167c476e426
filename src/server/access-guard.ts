/**
 * The one gate every request passes (the app's onRequest hook), before any route
 * runs or any WebSocket is upgraded. In order:
 *
 * 1. Host and Origin (src/server/host-origin.ts): refuses DNS rebinding and pages
 *    of other origins — 403 CLARE_FORBIDDEN. For every route, `public` included.
 * 2. Access of the route fastify matched (src/server/route-access.ts), never of the
 *    URL text:
 *    - `public`: served.
 *    - the mesh token presented (Authorization: Bearer, or `?token=` where the route
 *      takes it): served.
 *    - `mesh` with a token configured: 401, even from this machine's own user.
 *    - this machine's own user — a loopback connection whose client socket belongs
 *      to the daemon's uid (src/server/socket-owner.ts): served.
 *    - anyone else: 401 with a token configured; 403 without one (other users of
 *      this machine can never present a token that does not exist).
 *
 * Requests made in-process with `app.inject()` have no socket of their own; they come
 * from this daemon's own code (or a test's) and count as our user when their stated
 * address is loopback.
 */
import { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClareError } from '../core/errors.js';
import { checkBearer, sameSecret, UNAUTHORIZED_HEADERS, unauthorizedBody } from './bearer-auth.js';
import { browserRefusal } from './host-origin.js';
import { isLoopbackIp } from './loopback.js';
import { accessOf } from './route-access.js';
import type { SocketOwners } from './socket-owner.js';

export interface AccessGuardOptions {
  readonly token: string | undefined;
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly owners: SocketOwners;
}

/** Whether the request carries the configured token (header, or `?token=` where the route takes it). */
function presentsToken(req: FastifyRequest, token: string, queryToken: boolean): boolean {
  if (checkBearer(req.headers.authorization, token)) return true;
  if (!queryToken) return false;
  const q = (req.query as Record<string, unknown> | undefined)?.['token'];
  return typeof q === 'string' && sameSecret(q, token);
}

/** Whether the request comes from this machine's own user (see the file comment). */
async function fromOwnUser(req: FastifyRequest, owners: SocketOwners): Promise<boolean> {
  if (!isLoopbackIp(req.socket.remoteAddress)) return false;
  if (!(req.socket instanceof Socket)) return true; // in-process inject()
  return owners.isOwnUser(req.socket);
}

/** The onRequest hook. */
export function accessGuard(opts: AccessGuardOptions): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const { token } = opts;
  return async (req, reply) => {
    const refused = browserRefusal(req.raw as Parameters<typeof browserRefusal>[0], opts.allowedHosts, opts.allowedOrigins);
    if (refused !== null) {
      await reply.code(refused.status).send(refused.toBody());
      return;
    }
    const { access, queryToken } = accessOf(req.routeOptions.config);
    if (access === 'public') return;
    if (token !== undefined && presentsToken(req, token, queryToken === true)) return;
    if (access === 'mesh' && token !== undefined) {
      await reply.code(401).headers(UNAUTHORIZED_HEADERS).send(unauthorizedBody(
        'this route changes or reveals the mesh, so it needs the mesh token even from this machine: send Authorization: Bearer <[mesh] token of clare.toml> (the CLI does)'));
      return;
    }
    if (await fromOwnUser(req, opts.owners)) return;
    if (token !== undefined) {
      await reply.code(401).headers(UNAUTHORIZED_HEADERS).send(unauthorizedBody(
        'missing or wrong mesh token (Authorization: Bearer …): requests from other machines and from other users of this machine need it'));
      return;
    }
    const err = new ClareError('CLARE_FORBIDDEN', `only this machine's own user (uid ${process.getuid?.() ?? '?'}, who runs the daemon) may use it without a mesh token; other users and other machines need [mesh] token set in clare.toml and sent as Authorization: Bearer …`);
    await reply.code(err.status).send(err.toBody());
  };
}
