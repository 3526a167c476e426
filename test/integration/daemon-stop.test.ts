// A stopping daemon cuts whatever connection is still open after its grace period —
// upgraded sockets included — so `systemctl stop` (and a test's afterAll) never waits
// on a client. Before, only connections Node's HTTP parser still held were cut: an
// upgraded sync socket whose client answered nothing kept the stop waiting for the
// WebSocket close timeout (30 s) or, on a connection taken off the parser and never
// answered, for good.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FUZZ_TOKEN, startFuzzDaemon } from '../fuzz/fuzz-daemon.js';
import { TIME_SCALE, waitFor } from '../helpers/wait-for.js';

function rawUpgrade(port: number): { socket: Socket; answer: () => string } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let answer = '';
  socket.on('data', (d: Buffer) => { answer += d.toString('latin1'); });
  socket.write(`GET /api/v1/sync/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n`
    + `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer ${FUZZ_TOKEN}\r\n\r\n`);
  return { socket, answer: () => answer };
}

describe('daemon stop', () => {
  it('ends within its grace period while an upgraded client answers nothing and never closes', async () => {
    const fd = await startFuzzDaemon();
    const silent = rawUpgrade(fd.port);
    // An idle keep-alive connection too: no request at all.
    const idle = connect(fd.port, '127.0.0.1');
    idle.on('error', () => undefined);
    try {
      await waitFor('the upgrade', () => silent.answer().startsWith('HTTP/1.1 101'));
      const t0 = performance.now();
      await fd.stop();
      const ms = performance.now() - t0;
      // The grace is 2 s; the WebSocket close timeout it no longer waits for is 30 s.
      expect(ms).toBeLessThan(Math.max(10_000, 10_000 * TIME_SCALE));
      await waitFor('the silent client seeing its connection closed', () => silent.socket.readableEnded || silent.socket.destroyed || silent.socket.closed);
    } finally {
      silent.socket.destroy();
      idle.destroy();
    }
  }, 120_000);
});
