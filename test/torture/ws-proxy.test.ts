/**
 * The campaign's proxy really does what the nemesis asks: a real `ws` client and
 * server on loopback, the proxy between them, frames counted on arrival.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { waitFor } from '../helpers/wait-for.js';
import { seededRandom } from '../helpers/replication-harness.js';
import { WsProxy } from '../../tools/torture/ws-proxy.js';

interface Rig {
  proxy: WsProxy;
  received: string[];
  client: WebSocket;
  serverSide: () => WebSocket;
  close: () => Promise<void>;
}

async function rig(): Promise<Rig> {
  const received: string[] = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let server: WebSocket | null = null;
  wss.on('connection', (ws) => {
    server = ws;
    ws.on('message', (d: Buffer) => received.push(d.toString('utf8')));
  });
  const addr = wss.address();
  const proxy = new WsProxy({ targetPort: typeof addr === 'object' && addr !== null ? addr.port : 0, random: seededRandom(5), label: 'test' });
  await proxy.listen();
  const client = new WebSocket(`ws://127.0.0.1:${proxy.port}/x`);
  await new Promise<void>((r, j) => { client.once('open', () => r()); client.once('error', j); });
  await waitFor('server side', () => server !== null);
  return {
    proxy, received, client, serverSide: () => server!,
    close: async () => {
      client.terminate();
      await proxy.close();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

describe('WebSocket-aware proxy', () => {
  it('passes frames through in order when no fault is set, including large and fragmented ones', async () => {
    const r = await rig();
    rigs.push(r);
    const big = 'x'.repeat(200_000);
    for (let i = 0; i < 50; i++) r.client.send(i === 25 ? big : `m${i}`);
    r.client.send(Buffer.from('frag'), { fin: false });
    r.client.send(Buffer.from('mented'), { fin: true });
    await waitFor('all frames', () => r.received.length === 51, 10_000);
    expect(r.received.slice(0, 25)).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
    expect(r.received[25]).toBe(big);
    expect(r.received[50]).toBe('fragmented');
  });

  it('duplicates and reorders messages but never the first one, and delays keep order', async () => {
    const r = await rig();
    rigs.push(r);
    r.proxy.setFaults({ reorderP: 0.5, reorderMs: 50, duplicateP: 0.5, duplicateMs: 30 });
    const n = 200;
    for (let i = 0; i < n; i++) r.client.send(`m${i}`);
    await waitFor('every message at least once', () => new Set(r.received).size === n, 10_000);
    // Every copy was scheduled before its original arrived, so the counter is final now.
    expect(r.proxy.counters.duplicated).toBeGreaterThan(0);
    await waitFor('the duplicated copies', () => r.received.length === n + r.proxy.counters.duplicated, 10_000);
    expect(r.received[0]).toBe('m0');
    const order = r.received.map((m) => Number(m.slice(1)));
    expect(order.some((v, i) => i > 0 && v < order[i - 1]!)).toBe(true);

    r.received.length = 0;
    r.proxy.setFaults({ delayMs: 150 });
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) r.client.send(`d${i}`);
    await waitFor('delayed messages', () => r.received.length === 20, 10_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(r.received).toEqual(Array.from({ length: 20 }, (_, i) => `d${i}`));
  });

  it('a reset partition cuts the link and refuses new connections; a stall holds frames until the heal', async () => {
    const r = await rig();
    rigs.push(r);
    const closed = new Promise<void>((res) => r.client.once('close', () => res()));
    r.proxy.setPartition('reset');
    await closed;
    const refused = new WebSocket(`ws://127.0.0.1:${r.proxy.port}/x`);
    await new Promise<void>((res) => { refused.once('error', () => res()); refused.once('close', () => res()); });
    expect(r.proxy.counters.refused).toBe(1);
    r.proxy.setPartition('none');

    const r2 = await rig();
    rigs.push(r2);
    r2.proxy.setPartition('stall');
    for (let i = 0; i < 5; i++) r2.client.send(`s${i}`);
    // Absence can only be watched for a while: 300 ms is 100× a loopback round trip.
    await new Promise((res) => setTimeout(res, 300));
    expect(r2.received).toEqual([]);
    r2.proxy.setPartition('none');
    await waitFor('held frames after the heal', () => r2.received.length === 5, 5000);
    expect(r2.received).toEqual(['s0', 's1', 's2', 's3', 's4']);
  });
});
