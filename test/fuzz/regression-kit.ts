/**
 * What the fuzzers' plain regression tests share: one fuzz daemon per file, a request
 * that says whether the store changed, the coded-refusal check, a peer's event, and a
 * WebSocket upgrade that reports its HTTP status.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, expect } from 'vitest';
import { ERROR_CATALOG, isErrorCode } from '../../src/core/errors.js';
import { formatHlc } from '../../src/core/hlc.js';
import { uuidv7, type MachineId } from '../../src/core/ids.js';
import { startFuzzDaemon, type FuzzDaemon } from './fuzz-daemon.js';

/** The file's daemon (started in beforeAll by `useFuzzDaemon`). */
export let fd: FuzzDaemon;

/** Starts one fuzz daemon for the calling test file and stops it after. */
export function useFuzzDaemon(): void {
  beforeAll(async () => {
    fd = await startFuzzDaemon();
  }, 60_000);
  afterAll(async () => {
    await fd?.stop();
  });
}

export interface Answer { status: number; body: any; wrote: boolean }

/** One request through inject; `wrote` says whether the store changed. */
export async function send(method: string, url: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
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

/** The answer is a coded error with the catalog's status for its code. */
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

/** Opens a WebSocket to the fuzz daemon; resolves with the upgrade's HTTP status (101 when it opened). */
export async function upgrade(path: string, headers: Record<string, string>): Promise<number> {
  const ws = new WebSocket(`ws://127.0.0.1:${fd.port}${path}`, { headers, perMessageDeflate: false });
  ws.on('error', () => undefined);
  const status = await new Promise<number>((resolve) => {
    ws.once('open', () => resolve(101));
    ws.once('unexpected-response', (_q, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
  });
  ws.terminate();
  return status;
}
