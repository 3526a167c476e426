/**
 * Mesh-token checks, shared by the sync routes and the WebSocket upgrade. With a
 * token configured every sync request must carry `Authorization: Bearer <token>`;
 * a wrong or missing one gets HTTP 401 and nothing else (see UNAUTHORIZED_*).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ClareError } from '../core/errors.js';

/** Headers of a 401 answer. */
export const UNAUTHORIZED_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'www-authenticate': 'Bearer realm="clare"' });

/** The body of a 401 answer (ClareError wire form). */
export function unauthorizedBody(): ReturnType<ClareError['toBody']> {
  return new ClareError('CLARE_UNAUTHORIZED', 'missing or wrong mesh token (Authorization: Bearer …)').toBody();
}

/**
 * True when the request may pass: no token configured, or the Authorization
 * header carries exactly it. Compared in constant time (over SHA-256 digests,
 * so the length of the token leaks nothing either).
 */
export function checkBearer(authorization: string | readonly string[] | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  if (typeof authorization !== 'string') return false;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (m === null) return false;
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** Request headers carrying the token, if any. */
export function bearerHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
