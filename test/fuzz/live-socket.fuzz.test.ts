/**
 * Fuzzing the live dashboard socket: real WebSockets to a real daemon's
 * /api/v1/live, each case one connection that gets its snapshot, sends client
 * frames — valid ones, almost valid ones, hostile ones (binary, oversized, not
 * JSON, deep, prototype keys, numbers at the edges) — and ends with a ping whose
 * pong is the barrier.
 *
 * The oracle is the protocol's own schema (live-protocol.ts): a frame `clientFrame`
 * accepts is answered (pong echoing `t`, or a snapshot); any other is answered with
 * a coded error frame and close 1008. Every frame the daemon sends must parse as a
 * `serverMessage`; nothing it does writes to the store; no error is internal.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorCode } from '../../src/core/errors.js';
import { clientFrame, LIVE_CLOSE, MAX_CLIENT_FRAME_BYTES, serverMessage } from '../../src/protocol/live.js';
import { doorTimeout, fuzzDoor } from './budget.js';
import { startFuzzDaemon, type FuzzDaemon } from './fuzz-daemon.js';
import { deepArrayText, hostileValueArb, NUMBER_LITERALS, obj, PROTO_KEYS, Raw, wireText, type Wire } from './hostile.js';
import { brief } from './invariants.js';
import { violation } from './known-open.js';

const DOOR = 'live-socket';
const CLOSES: ReadonlySet<number> = new Set([...Object.values(LIVE_CLOSE), 1000, 1005, 1006, 1009]);

let fd: FuzzDaemon;
/** Frames sent over all connections. */
let framesSent = 0;

beforeAll(async () => {
  fd = await startFuzzDaemon();
  // Something to show: a project, a task, a group.
  const post = (url: string, body: unknown) => fd.app.inject({ method: 'POST', url, headers: fd.auth, payload: body as object });
  await post('/api/v1/projects', { name: 'alpha' });
  await post('/api/v1/tasks', { project: 'alpha', title: 'first' });
  await post('/api/v1/groups', { name: 'all', members: ['desk:*'] });
}, 60_000);

afterAll(async () => {
  await fd?.stop();
});

/** A client frame: its text (or bytes) as sent. */
type ClientSend = { text: string; binary: boolean };

const clientSendArb: fc.Arbitrary<ClientSend> = fc.oneof(
  { arbitrary: fc.constant({ text: '{"type":"resync"}', binary: false }), weight: 3 },
  { arbitrary: fc.oneof(fc.double(), fc.integer(), fc.constantFrom(...NUMBER_LITERALS).map((t) => new Raw(t))).map((t) => ({ text: wireText(obj([['type', 'ping'], ['t', t as Wire]])), binary: false })), weight: 4 },
  // Almost valid: a valid frame with one key changed, added or of the wrong type.
  { arbitrary: fc.tuple(fc.constantFrom('resync', 'ping', 'pong', 'snapshot', 'RESYNC', 'ping '), fc.constantFrom('t', 'type', 'extra', ...PROTO_KEYS), hostileValueArb).map(([type, k, v]) => ({ text: wireText(obj([['type', type], [k, v]])), binary: false })), weight: 4 },
  { arbitrary: hostileValueArb.map((v) => ({ text: wireText(v), binary: false })), weight: 3 },
  { arbitrary: fc.constantFrom('', '{', 'null', '"resync"', '{"type":"resync"', '\u0000', '{"type":"resync"}\u0000', '{"type":"resync","type":"ping","t":1}', '{"__proto__":{"type":"resync"}}').map((text) => ({ text, binary: false })), weight: 2 },
  { arbitrary: fc.constantFrom(MAX_CLIENT_FRAME_BYTES - 20, MAX_CLIENT_FRAME_BYTES, MAX_CLIENT_FRAME_BYTES + 1, 1 << 20).map((n) => ({ text: `{"type":"ping","t":1,"pad":"${'x'.repeat(Math.max(0, n - 30))}"}`, binary: false })), weight: 1 },
  { arbitrary: fc.constantFrom(2000, 4090).map((n) => ({ text: deepArrayText(Math.floor(n / 2)), binary: false })), weight: 1 },
  { arbitrary: fc.constant({ text: '{"type":"resync"}', binary: true }), weight: 1 },
);

interface LiveCase {
  readonly sends: readonly ClientSend[];
  readonly upgrade: 'plain' | 'query-token' | 'foreign-origin' | 'wrong-query-token';
}

const caseArb: fc.Arbitrary<LiveCase> = fc.record({
  sends: fc.array(clientSendArb, { minLength: 0, maxLength: 4 }),
  upgrade: fc.oneof({ arbitrary: fc.constant<'plain'>('plain'), weight: 10 }, fc.constantFrom<'query-token' | 'foreign-origin' | 'wrong-query-token'>('query-token', 'foreign-origin', 'wrong-query-token')),
});

/** What the protocol says the daemon answers to a frame: a reply (and the socket stays), or a refusal (error, close). */
function expected(s: ClientSend): 'reply' | 'refusal' {
  if (s.binary || Buffer.byteLength(s.text) > MAX_CLIENT_FRAME_BYTES) return 'refusal';
  try {
    return clientFrame.safeParse(JSON.parse(s.text)).success ? 'reply' : 'refusal';
  } catch {
    return 'refusal';
  }
}

async function runCase(c: LiveCase): Promise<void> {
  const what = `live socket (${c.upgrade}): ${brief(c.sends.map((s) => `${s.binary ? '[binary] ' : ''}${s.text.slice(0, 120)}${s.text.length > 120 ? `…(${s.text.length})` : ''}`).join(' | '), 800)}`;
  const before = fd.version();
  const query = c.upgrade === 'query-token' ? `?token=${encodeURIComponent(fd.auth['authorization']!.slice(7))}` : c.upgrade === 'wrong-query-token' ? '?token=nope' : '';
  const ws = new WebSocket(`ws://127.0.0.1:${fd.port}/api/v1/live${query}`, {
    perMessageDeflate: false,
    ...(c.upgrade === 'foreign-origin' ? { headers: { origin: 'http://evil.example' } } : {}),
  });
  const frames: { raw: string; value: unknown }[] = [];
  ws.on('message', (data) => {
    const raw = (Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)).toString('utf8');
    let value: unknown = undefined;
    try {
      value = JSON.parse(raw);
    } catch {
      // reported below
    }
    frames.push({ raw, value });
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
  const opened = await new Promise<number>((resolve) => {
    ws.once('open', () => resolve(101));
    ws.once('unexpected-response', (_q, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
  });
  if (opened !== 101) {
    if (c.upgrade !== 'foreign-origin') violation(DOOR, 'socket-protocol', `upgrade from loopback refused with HTTP ${opened}; input: ${what}`);
    await closed;
    return;
  }
  if (c.upgrade === 'foreign-origin') violation(DOOR, 'accepted-invalid', `the live socket opened for a foreign Origin (the page gets the whole snapshot); input: ${what}`);
  let isClosed = false;
  void closed.then(() => { isClosed = true; });
  const wait = async (cond: () => boolean, ms: number): Promise<boolean> => {
    const end = performance.now() + ms;
    while (!cond() && !isClosed && performance.now() < end) await new Promise((r) => setTimeout(r, 2));
    return cond();
  };
  const typeOf = (f: { value: unknown }): string => ((f.value as { type?: unknown } | null)?.type as string | undefined) ?? '(none)';
  if (!(await wait(() => frames.some((f) => typeOf(f) === 'snapshot'), 10_000))) violation(DOOR, 'socket-protocol', `no snapshot within 10 s of opening; input: ${what}`);

  let refused = false;
  for (const s of c.sends) {
    if (ws.readyState !== WebSocket.OPEN) break;
    const n = frames.length;
    ws.send(s.binary ? Buffer.from(s.text) : s.text, { binary: s.binary });
    framesSent += 1;
    const exp = expected(s);
    if (exp === 'refusal') {
      refused = true;
      const got = await wait(() => frames.slice(n).some((f) => typeOf(f) === 'error'), 10_000);
      if (!got) violation(DOOR, 'socket-protocol', `a frame the protocol does not allow got no error frame: ${brief(s.text, 200)}; input: ${what}`);
      break;
    }
  }
  if (!refused && ws.readyState === WebSocket.OPEN) {
    // The barrier: a ping with a t of our own; its pong means every frame before it was handled.
    const t = 31337.25;
    ws.send(JSON.stringify({ type: 'ping', t }));
    framesSent += 1;
    if (!(await wait(() => frames.some((f) => typeOf(f) === 'pong' && (f.value as { t: unknown }).t === t), 10_000))) {
      violation(DOOR, 'socket-protocol', `valid frames, yet no pong to the barrier ping within 10 s (${isClosed ? 'the daemon closed the socket' : 'no answer'}); input: ${what}`);
    }
    for (const s of c.sends) {
      if (expected(s) !== 'reply') continue;
      const sent = JSON.parse(s.text) as { type: string; t?: number };
      if (sent.type === 'ping' && !frames.some((f) => typeOf(f) === 'pong' && (f.value as { t: unknown }).t === sent.t)) {
        violation(DOOR, 'socket-protocol', `ping with t=${s.text} got no pong echoing it; input: ${what}`);
      }
    }
  }
  if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'done');
  const info = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
  if (info === null) {
    violation(DOOR, 'socket-protocol', `the socket did not close within 10 s; input: ${what}`);
    ws.terminate();
  } else if (!CLOSES.has(info.code)) {
    violation(DOOR, 'socket-protocol', `closed with ${info.code} ${info.reason}, not one of the protocol's; input: ${what}`);
  } else if (info.code === LIVE_CLOSE.internalError) {
    violation(DOOR, 'internal-error', `closed with 1011 ${info.reason}; input: ${what}`);
  }
  if (refused && info !== null && info.code !== LIVE_CLOSE.protocolError) violation(DOOR, 'socket-protocol', `a refused frame closed the socket with ${info.code}, not 1008; input: ${what}`);
  for (const f of frames) {
    if (f.value === undefined) {
      violation(DOOR, 'socket-protocol', `the daemon sent a frame that is not JSON: ${brief(f.raw)}; input: ${what}`);
      continue;
    }
    const p = serverMessage.safeParse(f.value);
    if (!p.success) violation(DOOR, 'socket-protocol', `the daemon sent a frame outside the live protocol: ${brief(f.raw, 200)}; input: ${what}`);
    if (typeOf(f) === 'error') {
      const code = (f.value as { code?: unknown }).code;
      if (typeof code !== 'string' || !isErrorCode(code)) violation(DOOR, 'socket-protocol', `an error frame without a catalog code: ${brief(f.raw)}; input: ${what}`);
      else if (code === 'CLARE_INTERNAL') violation(DOOR, 'internal-error', `the daemon answered CLARE_INTERNAL: ${brief(f.raw)}; input: ${what}`);
    }
  }
  if (fd.version() !== before) violation(DOOR, 'rejected-wrote', `a live socket changed the store; input: ${what}`);
}

describe('fuzz: live socket frames', () => {
  it('answers what the protocol allows, refuses the rest with a coded error and 1008, sends only protocol frames, writes nothing', async () => {
    const report = await fuzzDoor(DOOR, { runs: 1500, ms: 20_000 }, fc.asyncProperty(caseArb, async (c) => {
      await runCase(c);
    }));
    expect(report.cases).toBeGreaterThan(0);
    console.log(`[fuzz] ${DOOR}: ${report.cases} connections carried ${framesSent} client frames`);
  }, doorTimeout(20_000));
});
