// Byte and depth bounds on the sync doors: every inbound frame, the reorder buffer
// of early batches, and what waits to be written to a peer that stopped reading
// have a byte limit, passing it closes the link with CLARE_TOO_LARGE; JSON nested
// past 64 is refused before anything walks it (CLARE_TOO_DEEP); event payloads
// deeper than 61 (64 with their envelope) never enter the store, so they cannot
// block a link later.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { silentLogger } from '../../src/core/log.js';
import { eventCount } from '../../src/core/store.js';
import { MAX_PAYLOAD_BYTES, MAX_PAYLOAD_DEPTH } from '../../src/core/events/envelope.js';
import { encodeBatch } from '../../src/replication/batch-codec.js';
import { CLOSE } from '../../src/replication/close-codes.js';
import { postEvents } from '../../src/replication/http-sync-server.js';
import { MAX_SYNC_SESSIONS } from '../../src/replication/replication-service.js';
import { SyncSession } from '../../src/replication/sync-session.js';
import type { CloseInfo } from '../../src/replication/transport.js';
import { DEFAULT_TUNING } from '../../src/replication/tuning.js';
import { dialWebSocket } from '../../src/replication/ws-transport.js';
import { connectRawPeer, makeEvent, refusal, MemoryNetwork, writeProjects, type TestNode } from '../helpers/replication-harness.js';
import { memoryContext } from '../helpers/memory-context.js';
import { waitFor } from '../helpers/wait-for.js';

/** A payload object nested `depth` levels deep ({"x":{"x":…}} counts each object). */
function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) v = { x: v };
  return v;
}


describe('payload depth at ingest', () => {
  it('a payload nested deeper than 61 (so its event fits the 64 of every door) is refused with CLARE_TOO_DEEP (4,109 deep too: no stack overflow), nothing written', () => {
    const ctx = memoryContext();
    const o = memoryContext().clock.machine;
    for (const depth of [MAX_PAYLOAD_DEPTH + 1, 65, 4108, 4109, 100_000]) {
      const e = { ...makeEvent(o, Date.now() - 1000), type: 'robot.arrived', payload: nested(depth) };
      const err = refusal(() => postEvents(ctx, { events: [e] }, 'x'));
      expect(err.code).toBe('CLARE_TOO_DEEP');
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/event #0/);
    }
    expect(eventCount(ctx.db)).toBe(0);
  });

  it('a payload exactly 61 deep (of an unknown type: stored as received) is accepted and replicated: its frames nest 64', async () => {
    const net = new MemoryNetwork();
    const a = net.add({ name: 'a', peers: ['b'] });
    const b = net.add({ name: 'b' });
    const o = memoryContext().clock.machine;
    const e = { ...makeEvent(o, Date.now() - 1000), type: 'robot.arrived', payload: nested(MAX_PAYLOAD_DEPTH) };
    expect(postEvents(a.ctx, { events: [e] }, 'x').accepted).toBe(1);
    await net.startAll();
    await waitFor('the deep event on b', () => eventCount(b.ctx.db) === 1);
    expect(a.service.status()[0]).toMatchObject({ faulty: false, last_error: null });
    await net.stopAll();
  });
});

describe('bounds on a sync session', () => {
  let net: MemoryNetwork;
  let b: TestNode;
  afterEach(async () => {
    await net.stopAll();
  });

  async function serve(tuning: Parameters<MemoryNetwork['add']>[0]['tuning'] = {}): Promise<void> {
    net = new MemoryNetwork();
    b = net.add({ name: 'b', tuning });
    writeProjects(b.ctx, 3);
    await b.service.run();
  }

  it('a frame over the byte limit: CLARE_TOO_LARGE, close 1009, faulty, nothing written', async () => {
    await serve({ maxFrameBytes: 4096 });
    const raw = connectRawPeer(b.service);
    raw.send(raw.hello());
    const e = { ...makeEvent(raw.machineId, Date.now() - 100), type: 'robot.arrived', payload: { blob: 'x'.repeat(5000) } };
    raw.send({ type: 'batch', seq: 1, base: { [raw.machineId]: null }, events: [e] });
    const err = await raw.next('error');
    expect(err.code).toBe('CLARE_TOO_LARGE');
    expect((await raw.closed).code).toBe(CLOSE.TOO_BIG);
    expect(eventCount(b.ctx.db)).toBe(3);
    await waitFor('faulty', () => b.service.status()[0]?.faulty === true);
  });

  it('a frame nested past the limit is refused before it is parsed: CLARE_TOO_DEEP', async () => {
    await serve();
    const raw = connectRawPeer(b.service);
    raw.send(raw.hello());
    raw.send(`{"type":"ping","t":1,"watermarks":{},"counts":{},"x":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    const err = await raw.next('error');
    expect(err.code).toBe('CLARE_TOO_DEEP');
  });

  it('early batches held back while one is missing are bounded in bytes: CLARE_TOO_LARGE, nothing written', async () => {
    await serve({ maxPendingBytes: 30_000 });
    const raw = connectRawPeer(b.service);
    raw.send(raw.hello());
    // seq 1 never comes; 2, 3, 4 … of ~12 KB each wait for it until the bound.
    for (let seq = 2; seq <= 6; seq++) {
      const e = { ...makeEvent(raw.machineId, Date.now() - 1000 + seq), type: 'robot.arrived', payload: { blob: 'y'.repeat(12_000) } };
      raw.send({ type: 'batch', seq, base: { [raw.machineId]: null }, events: [e] });
    }
    const err = await raw.next('error');
    expect(err.code).toBe('CLARE_TOO_LARGE');
    expect(String(err.message)).toMatch(/bytes of later ones/);
    expect(eventCount(b.ctx.db)).toBe(3);
  });

  it('a peer that stops reading: what waits for it is bounded, then the link closes with CLARE_TOO_LARGE', async () => {
    net = new MemoryNetwork();
    const a = net.add({ name: 'a', peers: ['b'], tuning: { maxSendBufferBytes: 20_000, batchSize: 20, keepaliveMs: 60_000, deadAfterMs: 120_000 } });
    b = net.add({ name: 'b' });
    await net.startAll();
    await waitFor('connected', () => a.service.status()[0]?.connected === true);
    net.stallLinks('a', 'b');
    writeProjects(a.ctx, 200, 'backlog');
    await waitFor('a refuses the silent peer', () => a.service.status()[0]?.last_error?.code === 'CLARE_TOO_LARGE');
    expect(a.service.status()[0]!.last_error!.message).toMatch(/not reading/);
  });

  it('at most MAX_SYNC_SESSIONS sync connections at once; one more is refused with CLARE_TOO_LARGE and 1013', async () => {
    await serve();
    const raws = Array.from({ length: MAX_SYNC_SESSIONS }, () => connectRawPeer(b.service));
    const extra = connectRawPeer(b.service);
    const err = await extra.next('error');
    expect(err.code).toBe('CLARE_TOO_LARGE');
    expect((await extra.closed).code).toBe(CLOSE.TRY_AGAIN_LATER);
    // The others are still served.
    raws[0]!.send(raws[0]!.hello());
    await raws[0]!.next('hello');
  });
});

describe('the WebSocket frame bound', () => {
  it('a frame over maxPayload closes the link with 1009 and CLARE_TOO_LARGE, which the session reports', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    wss.on('connection', (ws) => ws.send('z'.repeat(20_000)));
    try {
      const t = dialWebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, { maxPayload: 10_000 });
      const closed = new Promise<CloseInfo>((resolve) => t.onClose(resolve));
      const ctx = memoryContext();
      const s = new SyncSession({ ctx, machineId: ctx.clock.machine, name: 'a', transport: t, direction: 'outbound', log: silentLogger });
      s.start();
      const info = await closed;
      // ws answers with a 1009 close frame; whether the far end's reply arrives decides the local code.
      expect([1006, 1009]).toContain(info.code);
      expect(info.error?.code).toBe('CLARE_TOO_LARGE');
      const end = await s.done;
      expect(end.error?.code).toBe('CLARE_TOO_LARGE');
      expect(end.faulty).toBe(true);
      ctx.db.close();
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  });

  it('a full batch of maximal events fits in one frame, and a session with the default bounds takes it', async () => {
    const o = memoryContext().clock.machine;
    // Events of the largest payload (64 KiB), encoded as the pump encodes them.
    const events = Array.from({ length: 80 }, (_, i) => ({
      ...makeEvent(o, Date.now() - 10_000 + i), type: 'robot.arrived', payload: { blob: 'w'.repeat(MAX_PAYLOAD_BYTES - 20) },
    }));
    const rows = events.map((e) => ({ ...e, payload: JSON.stringify(e.payload) }));
    const b = encodeBatch(1, {}, rows, DEFAULT_TUNING.maxBatchBytes);
    expect(b.count).toBeGreaterThan(1);
    expect(b.count).toBeLessThan(80);
    expect(Buffer.byteLength(b.frame)).toBeLessThanOrEqual(DEFAULT_TUNING.maxFrameBytes);
    const net = new MemoryNetwork();
    const dst = net.add({ name: 'dst', tuning: { maxFrameBytes: DEFAULT_TUNING.maxFrameBytes } });
    await dst.service.run();
    const raw = connectRawPeer(dst.service, o);
    raw.send(raw.hello());
    raw.send(b.frame);
    await raw.next('ack');
    expect(eventCount(dst.ctx.db)).toBe(b.count);
    await net.stopAll();
  });
});
