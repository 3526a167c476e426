/**
 * The page's writes and reads beyond the live stream go through the same JSON API
 * as the CLI (/api/v1). Errors come back as the API's coded error bodies.
 */
import { parseErrorBody } from '../../protocol/error-body.js';
import { authToken } from './auth-token.js';

export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
    this.name = 'ApiError';
  }
}

function errorOf(status: number, body: unknown, fallback: string): ApiError {
  const e = parseErrorBody(body);
  if (e !== null) return new ApiError(e.code, e.message, status);
  // An answer without a coded error body is the daemon misbehaving: the catalog's CLARE_INTERNAL, as the CLI says it.
  return new ApiError(status === 0 ? 'CLARE_DAEMON_DOWN' : 'CLARE_INTERNAL', fallback, status);
}

/** Calls `/api/v1${path}`; resolves with the parsed JSON (or text), rejects with an ApiError. */
export async function apiRequest(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = authToken();
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let r: Response;
  try {
    r = await fetch(`/api/v1${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw new ApiError('CLARE_DAEMON_DOWN', 'the daemon does not answer', 0);
  }
  const text = await r.text();
  let parsed: unknown = text;
  if ((r.headers.get('content-type') ?? '').includes('json') && text !== '') {
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      parsed = text;
    }
  }
  if (!r.ok) throw errorOf(r.status, parsed, `${method} ${path} answered ${r.status}`);
  return parsed;
}

/** Path segment encoding, as the CLI does. */
export const seg = (s: string): string => encodeURIComponent(s);
