/**
 * Fuzzing the sync WebSocket door: real sockets to a real daemon's
 * /api/v1/sync/ws, each case one connection that upgrades (or is refused), says
 * hello (or something else), sends batches of hostile events and stray frames, and
 * ends with a ping as a barrier: the daemon handles a connection's frames in
 * order, so its pong means every frame before it was handled.
 *
 * Invariants per connection: the upgrade needs the token on every spelling of the
 * path; every frame the daemon sends is one of the protocol's, every error frame
 * carries a catalog code and is never CLARE_INTERNAL, close codes are the
 * protocol's; the daemon answers the barrier or closes (never hangs); events of a
 * batch that was not acknowledged are not stored; an acknowledged batch is held
 * exactly as sent; what is stored a fresh peer accepts.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { isErrorCode } from '../../src/core/errors.js';
import { DEFAULT_MAX_SKEW_MS } from '../../src/core/hlc.js';
import { jsonTextDepth } from '../../src/core/json-bounds.js';
import { newMachineId, newProjectId, newTaskId } from '../../src/core/ids.js';
import { CLOSE } from '../../src/replication/close-codes.js';
import { doorTimeout, fuzzDoor, warmUp } from './budget.js';
import { buildEvents, eventSpecArb, type BuiltEvent, type EventSpec } from './event-arb.js';
import { FUZZ_TOKEN, type FuzzDaemon, type StoredEvent } from './fuzz-daemon.js';
import { useFuzzedStore } from './fuzzed-store.js';
import { hostileValueArb, obj, wireText, type Wire } from './hostile.js';
import { brief } from './invariants.js';
import { violation } from './known-open.js';
import type { Pools } from './schema-arb.js';
import { checkAccepted, readWatermarks } from './sync-checks.js';

const DOOR = 'sync-ws';
const FRAME_TYPES = new Set(['hello', 'batch', 'ack', 'ping', 'pong', 'links', 'error']);
const PROTOCOL_CLOSES: ReadonlySet<number> = new Set([...Object.values(CLOSE), 1005, 1006, 1009]);

const regulars = [newMachineId(), newMachineId()];
const pools: Pools = (() => {
  const tasks = [newTaskId(), newTaskId()];
  return { project_id: [newProjectId()], task_id: tasks, depends_on: tasks, host: ['desk', 'laptop'], session: ['api'], group: ['all'] };
})();

const store = useFuzzedStore(DOOR);
/** Frames sent over all connections (each case is one connection of several frames). */
let framesSent = 0;

type Upgrade = 'good' | 'no-token' | 'wrong-token' | 'query-token' | 'percent-path' | 'percent-path-no-token' | 'dot-path-no-token' | 'foreign-origin';
type HelloKind = 'valid' | 'almost' | 'own-id' | 'versions' | 'none' | 'garbage';
type Extra = { at: number; frame: Wire | string };

interface WsCase {
  readonly upgrade: Upgrade;
  readonly hello: HelloKind;
  readonly helloFault: [string, Wire];
  readonly origin: 'fresh' | 0 | 1;
  readonly batches: readonly (readonly EventSpec[])[];
  readonly seqMode: 'in-order' | 'skip' | 'repeat' | 'zero' | 'reverse';
  readonly baseMode: 'right' | 'null' | 'ahead' | 'missing' | 'hostile';
  readonly hostileBase: Wire;
  readonly extras: readonly Extra[];
  readonly pick: number;
}

const strayFrameArb: fc.Arbitrary<Wire | string> = fc.oneof(
  fc.constantFrom<string>('', '{', 'null', '[]', '"hello"', '{"type":1}', '{"type":"nope"}', '{"type":"__proto__"}', '{"type":"constructor"}', '\u0000', '{"type":"ping"}'),
  fc.tuple(fc.constantFrom('ack', 'ping', 'pong', 'links', 'hello', 'batch', 'error'), fc.array(fc.tuple(fc.constantFrom('seq', 't', 'now_ms', 'watermarks', 'counts', 'links', 'rev', 'accepted', 'known', 'code', 'message', 'base', 'events', '__proto__'), hostileValueArb), { maxLength: 4 }))
    .map(([type, fields]) => obj([['type', type], ...fields])),
  fc.constantFrom<Wire>(
    obj([['type', 'ack'], ['seq', 999], ['watermarks', {}], ['counts', {}], ['accepted', 0], ['known', 0]]),
    obj([['type', 'links'], ['rev', 1], ['links', ['x']]]),
    obj([['type', 'ping'], ['t', 1e308], ['watermarks', {}], ['counts', {}]]),
    obj([['type', 'pong'], ['t', 0], ['now_ms', 9007199254740991], ['watermarks', {}], ['counts', {}]]),
  ),
);

const caseArb: fc.Arbitrary<WsCase> = fc.record({
  upgrade: fc.oneof({ arbitrary: fc.constant<Upgrade>('good'), weight: 14 }, fc.constantFrom<Upgrade>('no-token', 'wrong-token', 'query-token', 'percent-path', 'percent-path-no-token', 'dot-path-no-token', 'foreign-origin')),
  hello: fc.oneof({ arbitrary: fc.constant<HelloKind>('valid'), weight: 12 }, fc.constantFrom<HelloKind>('almost', 'own-id', 'versions', 'none', 'garbage')),
  helloFault: fc.tuple(fc.constantFrom('versions', 'machine_id', 'name', 'now_ms', 'watermarks', 'counts', 'links', 'type', '__proto__'), hostileValueArb),
  origin: fc.constantFrom<'fresh' | 0 | 1>('fresh', 'fresh', 'fresh', 0, 1),
  batches: fc.array(fc.array(eventSpecArb(pools), { minLength: 1, maxLength: 5 }), { minLength: 0, maxLength: 3 }),
  seqMode: fc.oneof({ arbitrary: fc.constant<'in-order'>('in-order'), weight: 10 }, fc.constantFrom<'skip' | 'repeat' | 'zero' | 'reverse'>('skip', 'repeat', 'zero', 'reverse')),
  baseMode: fc.oneof({ arbitrary: fc.constant<'right'>('right'), weight: 10 }, fc.constantFrom<'null' | 'ahead' | 'missing' | 'hostile'>('null', 'ahead', 'missing', 'hostile')),
  hostileBase: hostileValueArb,
  extras: fc.oneof({ arbitrary: fc.constant<Extra[]>([]), weight: 6 }, fc.array(fc.record({ at: fc.nat(4), frame: strayFrameArb }), { maxLength: 2 })),
  pick: fc.nat(),
});

interface Conn {
  readonly ws: WebSocket;
  readonly frames: Record<string, unknown>[];
  readonly raw: string[];
  /** Resolves with the HTTP status when the upgrade is refused, or 101 when it opens. */
  readonly opened: Promise<number>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

function connect(fd: FuzzDaemon, path: string, headers: Record<string, string>): Conn {
  const ws = new WebSocket(`ws://127.0.0.1:${fd.port}${path}`, { headers, perMessageDeflate: false, handshakeTimeout: 10_000 });
  const frames: Record<string, unknown>[] = [];
  const raw: string[] = [];
  ws.on('message', (data) => {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    raw.push(text);
    try {
      frames.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      frames.push({ type: '(not JSON)' });
    }
  });
  const opened = new Promise<number>((resolve) => {
    ws.once('open', () => resolve(101));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', () => resolve(-1));
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  return { ws, frames, raw, opened, closed };
}

/** Resolves when `cond` holds, or the connection closed, or the deadline passed (false). */
async function until(c: Conn, cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  let closed = false;
  void c.closed.then(() => { closed = true; });
  while (!cond()) {
    if (closed) return cond();
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

async function runCase(c: WsCase): Promise<void> {
  const { fd } = store();
  const tokenOk = !['no-token', 'wrong-token', 'query-token', 'percent-path-no-token', 'dot-path-no-token'].includes(c.upgrade);
  const path = c.upgrade.startsWith('percent-path') ? '/api/v1/%73ync/ws' : c.upgrade === 'dot-path-no-token' ? '/api/v1/x/../sync/ws' : c.upgrade === 'query-token' ? `/api/v1/sync/ws?token=${FUZZ_TOKEN}` : '/api/v1/sync/ws';
  const headers: Record<string, string> = {};
  if (c.upgrade === 'wrong-token') headers['authorization'] = `Bearer ${FUZZ_TOKEN}0`;
  else if (tokenOk) headers['authorization'] = `Bearer ${FUZZ_TOKEN}`;
  if (c.upgrade === 'foreign-origin') headers['origin'] = 'http://evil.example';
  const wmBefore = readWatermarks(fd.read);
  const origin = c.origin === 'fresh' ? newMachineId() : regulars[c.origin]!;
  const what0 = `sync socket ${path} (${c.upgrade}, hello ${c.hello}, ${c.batches.length} batches ${c.seqMode}, base ${c.baseMode})`;
  const versionBefore = fd.version();

  const conn = connect(fd, path, headers);
  const status = await conn.opened;
  if (status !== 101) {
    if (!tokenOk && status !== 401 && status !== 403 && status !== 404) violation(DOOR, 'socket-protocol', `upgrade without the token answered HTTP ${status}; input: ${what0}`);
    if (tokenOk && c.upgrade !== 'foreign-origin') violation(DOOR, 'socket-protocol', `upgrade with the token refused (HTTP ${status}); input: ${what0}`);
    if (fd.version() !== versionBefore) violation(DOOR, 'rejected-wrote', `a refused upgrade changed the store; input: ${what0}`);
    await conn.closed;
    return;
  }
  if (!tokenOk) violation(DOOR, 'accepted-invalid', `the sync socket opened without the mesh token (${c.upgrade}, path ${path}); input: ${what0}`);
  if (c.upgrade === 'foreign-origin') violation(DOOR, 'accepted-invalid', `the sync socket opened for a foreign Origin; input: ${what0}`);

  // Our hello claims what the daemon holds, so it has nothing to send us.
  const counts = Object.fromEntries((fd.read.prepare('SELECT origin, count FROM watermarks').all() as { origin: string; count: number }[]).map((r) => [r.origin, r.count]));
  const helloEntries: [string, Wire][] = [['type', 'hello'], ['versions', [1]], ['machine_id', c.hello === 'own-id' ? fd.machineId : origin], ['name', 'fuzzpeer'], ['now_ms', Date.now()], ['watermarks', wmBefore], ['counts', counts], ['links', []]];
  if (c.hello === 'versions') helloEntries[1] = ['versions', [[2, 3], [0], [1e308], [1.5], []][c.pick % 5] as Wire];
  if (c.hello === 'almost') {
    const i = helloEntries.findIndex(([k]) => k === c.helloFault[0]);
    if (i >= 0) helloEntries[i] = c.helloFault;
    else helloEntries.push(c.helloFault);
  }
  const sent: string[] = [];
  const send = (frame: Wire | string): void => {
    const text = typeof frame === 'string' ? frame : wireText(frame);
    sent.push(text);
    framesSent += 1;
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(text);
  };
  const extrasAt = (i: number): void => {
    for (const x of c.extras) if (x.at === i) send(x.frame);
  };
  if (c.hello === 'garbage') send(c.helloFault[1]);
  else if (c.hello !== 'none') send(obj(helloEntries));
  extrasAt(0);

  // Batches: stamps continue after what the store holds of this origin.
  const wm = wmBefore[origin];
  let startMs = Math.max(Date.now() - 30_000, wm === undefined ? 0 : Number(wm.slice(0, 15)) + 1);
  const held = fd.read.prepare('SELECT seq, id, hlc, origin, type, v, payload FROM events ORDER BY seq DESC LIMIT 200').all() as StoredEvent[];
  const sentBatches: { seq: number; built: BuiltEvent[] }[] = [];
  const seqs = c.batches.map((_, i) => {
    switch (c.seqMode) {
      case 'in-order': return i + 1;
      case 'skip': return i + 2;
      case 'repeat': return 1;
      case 'zero': return i;
      case 'reverse': return c.batches.length - i;
    }
  });
  c.batches.forEach((specs, i) => {
    const built = buildEvents(specs, { origin, startMs, maxSkewMs: DEFAULT_MAX_SKEW_MS, held, watermarks: wmBefore }, c.pick + i);
    startMs += 10;
    const origins = [...new Set(built.map((b) => b.origin).filter((o): o is string => o !== null))];
    const assumed = (o: string): string | null => {
      // What the daemon holds of `o` plus what earlier batches of this case sent of it.
      let top: string | null = wmBefore[o] ?? null;
      for (const b of sentBatches) for (const e of b.built) if (e.origin === o && typeof e.hlc === 'string' && (top === null || e.hlc > top)) top = e.hlc;
      return top;
    };
    let base: Wire;
    switch (c.baseMode) {
      case 'right': base = obj(origins.map((o) => [o, assumed(o)])); break;
      case 'null': base = obj(origins.map((o) => [o, null])); break;
      case 'ahead': base = obj(origins.map((o) => [o, `999999999999999:99999:${o}`])); break;
      case 'missing': base = {}; break;
      case 'hostile': base = c.hostileBase; break;
    }
    sentBatches.push({ seq: seqs[i]!, built });
    send(obj([['type', 'batch'], ['seq', seqs[i]!], ['base', base], ['events', built.map((b) => b.wire)]]));
    extrasAt(i + 1);
  });
  // The barrier: answered after everything above was handled.
  const t = 424242;
  send(obj([['type', 'ping'], ['t', t], ['watermarks', {}], ['counts', {}]]));
  const deepest = Math.max(0, ...sent.map((s) => jsonTextDepth(s, 1_000_000)));
  const what = `${what0}, frames nested up to ${deepest} deep: ${brief(sent.map((s) => s.slice(0, 300)).join(' | '), 1500)}`;
  const answered = await until(conn, () => conn.frames.some((f) => f.type === 'pong' && f.t === t) || conn.frames.some((f) => f.type === 'error'), 10_000);
  if (!answered && conn.ws.readyState === WebSocket.OPEN) violation(DOOR, 'socket-protocol', `the daemon neither answered the barrier ping nor closed within 10 s; input: ${what}`);
  if (conn.ws.readyState === WebSocket.OPEN) conn.ws.close(1000, 'done');
  const closeInfo = await Promise.race([conn.closed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
  if (closeInfo === null) {
    violation(DOOR, 'socket-protocol', `the connection did not close within 10 s of our close; input: ${what}`);
    conn.ws.terminate();
  } else if (!PROTOCOL_CLOSES.has(closeInfo.code)) {
    violation(DOOR, 'socket-protocol', `closed with code ${closeInfo.code} ${closeInfo.reason}, not one of the protocol's; input: ${what}`);
  } else if (closeInfo.code === CLOSE.INTERNAL) {
    violation(DOOR, 'internal-error', `closed with 1011 (internal error) ${closeInfo.reason}; input: ${what}`);
  }

  for (const f of conn.frames) {
    if (typeof f.type !== 'string' || !FRAME_TYPES.has(f.type)) violation(DOOR, 'socket-protocol', `the daemon sent a frame outside the protocol: ${brief(f)}; input: ${what}`);
    if (f.type === 'error') {
      if (typeof f.code !== 'string' || !isErrorCode(f.code) || typeof f.message !== 'string') violation(DOOR, 'socket-protocol', `an error frame without a catalog code: ${brief(f)}; input: ${what}`);
      else if (f.code === 'CLARE_INTERNAL') violation(DOOR, 'internal-error', `the daemon answered CLARE_INTERNAL: ${brief(f.message)}; input: ${what}`);
    }
  }

  // The store: acknowledged batches are held as sent, others wrote nothing.
  const acked = new Set(conn.frames.filter((f) => f.type === 'ack').map((f) => f.seq));
  const ids = sentBatches.flatMap((b) => b.built.map((e) => e.id)).filter((i): i is string => typeof i === 'string');
  const heldBefore = new Set(held.map((e) => e.id).filter((i) => ids.includes(i)));
  // A seq already applied is acknowledged again unread (a duplicated frame, by the protocol): only the first batch of each seq counts.
  const firstOfSeq = new Map<number, (typeof sentBatches)[number]>();
  for (const b of sentBatches) if (!firstOfSeq.has(b.seq)) firstOfSeq.set(b.seq, b);
  for (const b of sentBatches) {
    if (acked.has(b.seq) && firstOfSeq.get(b.seq) === b) {
      checkAccepted(DOOR, what, b.built, fd.read, wmBefore, heldBefore);
      continue;
    }
    for (const e of b.built) {
      if (typeof e.id !== 'string' || heldBefore.has(e.id)) continue;
      const row = fd.read.prepare('SELECT hlc FROM events WHERE id = ?').get(e.id) as { hlc: string } | undefined;
      // A later batch of this case may carry the same id (a collision spec); only an unacknowledged sole source counts.
      const elsewhere = sentBatches.some((o) => o !== b && acked.has(o.seq) && firstOfSeq.get(o.seq) === o && o.built.some((x) => x.id === e.id));
      if (row !== undefined && !elsewhere) violation(DOOR, 'rejected-wrote', `batch seq ${b.seq} was not acknowledged, yet its event ${e.id} (${e.spec.type}) is stored; input: ${what}`);
    }
  }
  store().flush(what);
}

describe('fuzz: sync WebSocket frames', () => {
  it('token on every path spelling, protocol frames and closes only, no internal errors, unacknowledged batches write nothing', async () => {
    warmUp(caseArb);
    const report = await fuzzDoor(DOOR, { runs: 1500, ms: 30_000 }, fc.asyncProperty(caseArb, async (c) => {
      await runCase(c);
    }));
    expect(report.cases).toBeGreaterThan(0);
    store().checkConverged();
    const { fd } = store();
    const peers = JSON.parse((await fd.app.inject({ url: '/api/v1/peers', headers: fd.auth })).body) as unknown[];
    const status = JSON.parse((await fd.app.inject({ url: '/api/v1/status', headers: fd.auth })).body) as { peers: unknown[] };
    console.log(`[fuzz] ${DOOR}: ${report.cases} connections carried ${framesSent} frames; afterwards the daemon keeps ${status.peers.length} peer records (${peers.length} configured peers)`);
  }, doorTimeout(30_000));
});
