// Memory of the live socket on a real daemon with a real store (issue 9, "unbounded
// memory"): ten sockets that upgrade and never read a byte hold the daemon to a few
// megabytes beyond its idle size, however large the store, and give them back when
// they close; a page that connects while changes land gets them and is not closed.
// RSS is read after a forced GC in the daemon (bench/gc-on-signal.mjs under
// --expose-gc), so only what is still referenced counts.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { newMachineId } from '../../src/core/ids.js';
import { createMachine, ROOT, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const TASKS = 40_000;
const STALLED = 10;

let m: TestMachine;

beforeAll(async () => {
  m = await createMachine({ name: 'mem', env: { NODE_OPTIONS: `--expose-gc --import ${join(ROOT, 'bench/gc-on-signal.mjs')}`, CLARE_LOG_LEVEL: 'warn' } });
  await m.start();
  // A store whose full snapshot (the old one) would be about 16 MB.
  const peer = newMachineId();
  const project = randomUUID();
  let ms = Date.now() - 86_400_000;
  const ev = (type: string, v: number, payload: Record<string, unknown>) => ({ id: randomUUID(), hlc: `${String(ms++).padStart(15, '0')}:00000:${peer}`, origin: peer, type, v, payload });
  const events = [ev('project.created', 1, { project_id: project, name: 'big', path: null, description: '', weight: 1 })];
  for (let i = 0; i < TASKS; i++) events.push(ev('task.created', 2, { task_id: randomUUID(), project_id: project, title: `task number ${i} of the big store`, description: 'some words about it '.repeat(8), priority: i % 5, depends_on: [] }));
  for (let i = 0; i < events.length; i += 2000) {
    const r = await m.api<{ accepted: number }>('POST', '/sync/events', { events: events.slice(i, i + 2000) });
    expect(r.status).toBe(200);
  }
}, 120_000);

afterAll(async () => {
  await m.stop();
  m.cleanup();
});

const rssMB = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${m.pid()!}/status`, 'utf8'))![1]) / 1024;

/** RSS after forced GCs, once it holds still. */
async function settledRss(): Promise<number> {
  let last = Infinity;
  let still = 0;
  for (let i = 0; i < 60 && still < 3; i++) {
    process.kill(m.pid()!, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 200));
    const now = rssMB();
    still = Math.abs(now - last) < 2 ? still + 1 : 0;
    last = now;
  }
  return last;
}

function stalledSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(m.port, '127.0.0.1', () => {
      s.write(`GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
        + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      s.pause(); // never reads: the daemon's writes pile up in the kernel, then in its own buffers
      resolve(s);
    });
    s.once('error', reject);
  });
}

describe('live sockets and memory', () => {
  it('ten stalled sockets cost a few MB, given back when they close; a page connecting meanwhile gets its changes', async () => {
    const before = await settledRss();
    const stalled = await Promise.all(Array.from({ length: STALLED }, stalledSocket));
    try {
      await new Promise((r) => setTimeout(r, 500));
      // Changes while they stall: frames for them are withheld, not queued.
      for (let i = 0; i < 20; i++) await m.api('POST', '/updates', { text: `change ${i} while ten sockets stall` });
      const withStalled = await settledRss();
      expect(withStalled - before).toBeLessThan(40);

      const page = new WebSocket(`ws://127.0.0.1:${m.port}/api/v1/live`);
      const frames: { type: string; id?: string; data?: { updates: { items: { id: string }[] } } }[] = [];
      let closed: number | null = null;
      page.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8')) as (typeof frames)[number]));
      page.on('close', (code) => { closed = code; });
      await new Promise((r) => page.once('open', r));
      const note = (await m.api<{ id: string }>('POST', '/updates', { text: 'as the page connects' })).body.id;
      await waitFor('the note on the page', () => closed !== null || frames.some((f) => f.id === note || f.data?.updates.items.some((u) => u.id === note)), 15_000);
      expect(closed).toBeNull();
      const first = frames[0]!;
      expect(first.type).toBe('snapshot');
      page.close();
    } finally {
      for (const s of stalled) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(await settledRss() - before).toBeLessThan(20);
  }, 120_000);
});
