/**
 * The mesh token on outgoing requests. With a token configured every sync request
 * this daemon makes carries `Authorization: Bearer <token>`; the daemon's side of
 * the check is src/server/bearer-auth.ts.
 */

/** Request headers carrying the token, if any. */
export function bearerHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
