/**
 * Requests to the fuzz daemon's HTTP doors and what their answers must be, for the
 * plain regression tests (regressions.test.ts, waiting-for-fixes.waiting.ts).
 */
import { expect } from 'vitest';
import { ERROR_CATALOG, isErrorCode } from '../../src/core/errors.js';
import { formatHlc } from '../../src/core/hlc.js';
import { uuidv7, type MachineId } from '../../src/core/ids.js';
import type { FuzzDaemon } from './fuzz-daemon.js';

export interface Answer { status: number; body: any; wrote: boolean }

/** One request through inject; `wrote` says whether the store changed. */
export async function sendTo(fd: FuzzDaemon, method: string, url: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const before = fd.version();
  const r = await fd.app.inject({
    method: method as 'GET', url,
    headers: { ...fd.auth, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
    ...(opts.body === undefined ? {} : { payload: opts.body }),
  });
  let body: unknown = null;
  try {
    body = JSON.parse(r.body);
  } catch {
    body = r.body;
  }
  return { status: r.statusCode, body, wrote: fd.version() !== before };
}

/** The answer is a coded error with the catalog's status for its code, and wrote nothing. */
export function expectCoded(a: Answer, code?: string): void {
  expect(a.body?.error?.code, JSON.stringify(a.body)).toBeTypeOf('string');
  expect(isErrorCode(a.body.error.code)).toBe(true);
  expect(a.status).toBe(ERROR_CATALOG[a.body.error.code as keyof typeof ERROR_CATALOG].status);
  if (code !== undefined) expect(a.body.error.code).toBe(code);
  expect(a.wrote).toBe(false);
}

/** An event from a peer, as the HTTP sync route takes it. */
export function remoteEvent(origin: MachineId, ms: number, counter: number, type: string, payload: Record<string, unknown>, id: string = uuidv7(ms)): Record<string, unknown> {
  return { id, hlc: formatHlc({ ms, counter, machine: origin }), origin, type, v: 1, payload };
}
