/**
 * Who may use a route, declared on the route itself (fastify route `config`) so the
 * access guard decides from the route fastify matched — never from the URL text,
 * which can be spelled many ways (percent-encoded, absolute-form, dot segments).
 *
 * - `public`: never needs the token (the dashboard's static files, a health probe).
 * - `local` (the default): this machine's own user without the token (the CLI, the
 *   dashboard on loopback); anyone else — other machines, other users of this
 *   machine — with it.
 * - `mesh`: always the token when one is configured, even from this machine's own
 *   user (sync routes, the sync socket, the peer list and its changes: what changes
 *   the mesh or reveals its config).
 */
export const ROUTE_ACCESS = ['public', 'local', 'mesh'] as const;
export type RouteAccess = (typeof ROUTE_ACCESS)[number];

/** The access part of a fastify route's `config`. */
export interface AccessConfig {
  readonly access: RouteAccess;
  /** Also take the token as `?token=` (the live WebSocket: browsers cannot set its headers). */
  readonly queryToken?: boolean;
}

/** The `config` to give a fastify route declared outside `registerRoutes` (sockets, static files). */
export function accessConfig(access: RouteAccess, opts: { readonly queryToken?: boolean } = {}): AccessConfig {
  return opts.queryToken === true ? { access, queryToken: true } : { access };
}

/** The access of a matched route's config; routes that declare none (and "no route") are `local`. */
export function accessOf(config: unknown): AccessConfig {
  if (typeof config !== 'object' || config === null) return { access: 'local' };
  const c = config as { access?: unknown; queryToken?: unknown };
  const access = ROUTE_ACCESS.find((a) => a === c.access) ?? 'local';
  return accessConfig(access, { queryToken: c.queryToken === true });
}
