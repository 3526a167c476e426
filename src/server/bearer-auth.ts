/**
 * The mesh-token check of requests: `Authorization: Bearer <token>`, compared in
 * constant time. Which requests need it is the access guard's business
 * (src/server/access-guard.ts); this file only says whether a header carries it
 * and what a refusal looks like.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ClareError } from '../core/errors.js';

/** Headers of a 401 answer. */
export const UNAUTHORIZED_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'www-authenticate': 'Bearer realm="clare"' });

/** The body of a 401 answer (ClareError wire form); `message` says what is missing. */
export function unauthorizedBody(message = 'missing or wrong mesh token (Authorization: Bearer …)'): ReturnType<ClareError['toBody']> {
  return new ClareError('CLARE_UNAUTHORIZED', message).toBody();
}

/**
 * True when the request may pass: no token configured, or the Authorization
 * header carries exactly it. Compared in constant time (over SHA-256 digests,
 * so the length of the token leaks nothing either).
 */
export function checkBearer(authorization: string | readonly string[] | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  if (typeof authorization !== 'string') return false;
  const presented = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)?.[1];
  if (presented === undefined) return false;
  return sameSecret(presented, token);
}

/** Constant-time comparison of a presented secret with the token. */
export function sameSecret(presented: string, token: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
