// The Transport contract over both implementations, the in-memory pair's fault
// hooks, and the ws adapter's dialing: bearer token in the upgrade, 401 → a
// CLARE_UNAUTHORIZED refusal, and two services replicating over real sockets.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger } from '../../src/core/log.js';
import { digest } from '../../src/core/digest.js';
import { eventCount } from '../../src/core/store.js';
import { checkBearer } from '../../src/server/bearer-auth.js';
import { createMemoryPair } from '../../src/replication/memory-transport.js';
import { SYNC_WS_PATH } from '../../src/replication/peer-url.js';
import { ReplicationService } from '../../src/replication/replication-service.js';
import type { Transport } from '../../src/replication/transport.js';
import { dialWebSocket, wsTransport } from '../../src/replication/ws-transport.js';
import { FAST_TUNING, writeProjects } from '../helpers/replication-harness.js';
import { memoryContext } from '../helpers/memory-context.js';
import { waitFor } from '../helpers/wait-for.js';
import { transportConformance } from '../helpers/replication-transport-conformance.js';

transportConformance('in-memory pair', () => {
  const p = createMemoryPair();
  return Promise.resolve({ a: p.a, b: p.b, cleanup: () => Promise.resolve() });
});

interface Server {
  readonly wss: WebSocketServer;
  readonly port: number;
  readonly accepted: Promise<Transport>;
  close(): Promise<void>;
}

async function listen(opts: { token?: string; onSocket?: (ws: WebSocket, path: string) => void } = {}): Promise<Server> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    // What the daemon's route does before the socket exists: 401 and nothing else.
    verifyClient: (info, cb) => (checkBearer(info.req.headers.authorization, opts.token) ? cb(true) : cb(false, 401, 'Unauthorized')),
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const accepted = new Promise<Transport>((resolve) => wss.on('connection', (ws, req) => {
    if (opts.onSocket) opts.onSocket(ws, req.url ?? '');
    else resolve(wsTransport(ws));
  }));
  return {
    wss,
    port: (wss.address() as AddressInfo).port,
    accepted,
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
    }),
  };
}

transportConformance('ws WebSocket on 127.0.0.1', async () => {
  const srv = await listen();
  const a = dialWebSocket(`ws://127.0.0.1:${srv.port}/`);
  const b = await srv.accepted;
  return { a, b, cleanup: () => srv.close() };
});

describe('in-memory pair fault hooks', () => {
  it('reorders within the window, duplicates, and never delivers after the close', async () => {
    let r = 0;
    const p = createMemoryPair({ aToB: { reorder: (_f, i) => i % 3 === 1, duplicate: (_f, i) => i === 5, reorderWindow: 3 }, random: () => (r++ % 2) / 2 });
    const got: string[] = [];
    p.b.onMessage((f) => got.push(f));
    const closed = new Promise((resolve) => p.b.onClose(resolve));
    for (let i = 0; i < 10; i++) p.a.send(String(i));
    p.a.close(1000, 'done');
    await closed;
    expect(got).toHaveLength(11);
    expect([...new Set(got)].sort((x, y) => Number(x) - Number(y))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(got).not.toEqual([...got].sort((x, y) => Number(x) - Number(y)));
    expect(got[0]).toBe('0');
  });

  it('drop breaks both ends with 1006 and loses frames in flight', async () => {
    const p = createMemoryPair();
    const got: string[] = [];
    p.b.onMessage((f) => got.push(f));
    const [ca, cb] = [new Promise<{ code: number }>((r) => p.a.onClose(r)), new Promise<{ code: number }>((r) => p.b.onClose(r))];
    p.a.send('lost');
    p.drop();
    expect((await ca).code).toBe(1006);
    expect((await cb).code).toBe(1006);
    expect(got).toEqual([]);
  });
});

describe('ws adapter dialing', () => {
  let servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });

  it('sends the mesh token as a bearer header; a wrong or missing one is refused with CLARE_UNAUTHORIZED', async () => {
    const srv = await listen({ token: 'a-mesh-token-of-16+chars' });
    servers.push(srv);
    const url = `ws://127.0.0.1:${srv.port}${SYNC_WS_PATH}`;
    await expect(dialWebSocket(url).whenReady).rejects.toMatchObject({ code: 'CLARE_UNAUTHORIZED' });
    const wrong = dialWebSocket(url, { token: 'not-the-right-token!' });
    await expect(wrong.whenReady).rejects.toMatchObject({ code: 'CLARE_UNAUTHORIZED', message: expect.stringMatching(/HTTP 401/) as string });
    const closed = await new Promise<{ code: number }>((r) => wrong.onClose(r));
    expect(closed.code).toBe(1006);
    const ok = dialWebSocket(url, { token: 'a-mesh-token-of-16+chars' });
    await ok.whenReady;
    expect(ok.isOpen).toBe(true);
    ok.close(1000, 'done');
  });

  it('a refused TCP connection rejects whenReady with CLARE_PEER', async () => {
    const srv = await listen();
    const port = srv.port;
    await srv.close();
    await expect(dialWebSocket(`ws://127.0.0.1:${port}/`).whenReady).rejects.toMatchObject({ code: 'CLARE_PEER' });
  });
});

describe('replication over real WebSockets', () => {
  it('two services converge; the server hands accepted sockets to acceptInbound', async () => {
    const token = 'mesh-token-0123456789';
    const a = memoryContext();
    const b = memoryContext();
    const sb = new ReplicationService({ ctx: b, machineId: b.clock.machine, name: 'b', token, peers: () => [], log: silentLogger, tuning: FAST_TUNING });
    const paths: string[] = [];
    const srv = await listen({
      token,
      onSocket: (ws, path) => {
        paths.push(path);
        sb.acceptInbound(wsTransport(ws), { address: '127.0.0.1' });
      },
    });
    const sa = new ReplicationService({
      ctx: a, machineId: a.clock.machine, name: 'a', token, peers: () => [`http://127.0.0.1:${srv.port}`], log: silentLogger, tuning: FAST_TUNING,
    });
    try {
      writeProjects(a, 3000, 'a', 500);
      writeProjects(b, 1000, 'b', 500);
      await sb.run();
      await sa.run();
      await waitFor('catch-up over ws', () => eventCount(a.db) === 4000 && eventCount(b.db) === 4000);
      writeProjects(b, 1, 'live');
      await waitFor('live push over ws', () => eventCount(a.db) === 4001);
      expect(digest(a.db)).toBe(digest(b.db));
      expect(paths).toEqual([SYNC_WS_PATH]);
      expect(sa.status()[0]).toMatchObject({ connected: true, machine_id: b.clock.machine, events_sent: 3000, events_received: 1001 });
      await sa.stop();
      expect(sa.status()[0]!.connected).toBe(false);
    } finally {
      await sa.stop();
      await sb.stop();
      await srv.close();
      a.db.close();
      b.db.close();
    }
  });
});
