// Remote fleet calls (protocol 3) over the in-memory network: a line A–B–C where A
// peeks and spawns on C through B, an owner out of reach, a deadline, and hostile
// call frames from a peer — refused, and nothing run.
import { afterEach, describe, expect, it } from 'vitest';
import { ClareError } from '../../src/core/errors.js';
import { newMachineId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/log.js';
import { CLOSE } from '../../src/replication/close-codes.js';
import { MAX_SCREEN_CHARS } from '../../src/protocol/sync/call-result.js';
import type { CallOp } from '../../src/protocol/sync/call.js';
import { RemoteCalls, type CallExecutor } from '../../src/replication/remote-calls.js';
import { connectRawPeer, MemoryNetwork, type TestNode } from '../helpers/replication-harness.js';
import { waitFor } from '../helpers/wait-for.js';

let net: MemoryNetwork;
afterEach(async () => {
  await net.stopAll();
});

interface Host { node: TestNode; calls: RemoteCalls; ran: CallOp[] }

/** A node whose executor records what it ran and answers `answer(op)`. */
function host(name: string, peers: string[], o: { trusted?: boolean; answer?: (op: CallOp) => Promise<string | undefined>; maxPerLink?: number } = {}): Host {
  const ran: CallOp[] = [];
  const machineId = newMachineId();
  const calls = new RemoteCalls({ machineId, host: name, log: silentLogger, trusted: o.trusted ?? true, ...(o.maxPerLink === undefined ? {} : { maxPerLink: o.maxPerLink }) });
  const node = net.add({ name, peers, calls, machineId });
  const exec: CallExecutor = {
    run: (op) => {
      ran.push(op);
      return o.answer?.(op) ?? Promise.resolve(op.verb === 'capture' ? `screen of ${name}:${op.session}` : undefined);
    },
  };
  calls.serve(exec);
  return { node, calls, ran };
}

async function linked(a: TestNode, name: string): Promise<void> {
  await waitFor(`${a.name} linked to ${name}`, () => a.service.status().some((p) => p.name === name && p.connected));
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof ClareError ? e.code : `not a ClareError: ${String(e)}`;
  }
}

/** Nodes a, b, c with a and c each linked only to b, the links up. */
async function line(): Promise<[Host, Host, Host]> {
  net = new MemoryNetwork();
  const a = host('a', ['b']);
  const b = host('b', []);
  const c = host('c', ['b']);
  await net.startAll();
  await linked(a.node, 'b');
  await linked(c.node, 'b');
  return [a, b, c];
}

describe('remote calls along a line A–B–C', () => {
  it('A peeks and spawns on C through B; only C runs them, once', async () => {
    const [a, b, c] = await line();

    expect(await a.calls.call('c', { verb: 'capture', session: 'api-1', lines: 40 })).toBe('screen of c:api-1');
    expect(await a.calls.call('c', { verb: 'spawn', session: 'web-1', cwd: '/srv/web' })).toBeUndefined();
    expect(c.ran).toEqual([{ verb: 'capture', session: 'api-1', lines: 40 }, { verb: 'spawn', session: 'web-1', cwd: '/srv/web' }]);
    expect(a.ran).toEqual([]);
    expect(b.ran).toEqual([]);
    // And back: C reaches A the same way; B's own host directly.
    expect(await c.calls.call('a', { verb: 'capture', session: 'x', lines: 1 })).toBe('screen of a:x');
    expect(await a.calls.call('b', { verb: 'capture', session: 'y', lines: 1 })).toBe('screen of b:y');
    expect(a.calls.pendingCount + b.calls.pendingCount + c.calls.pendingCount).toBe(0);
  });

  it("the owner's own refusal comes back coded", async () => {
    net = new MemoryNetwork();
    const a = host('a', ['b']);
    host('b', [], { answer: () => Promise.reject(new ClareError('CLARE_NOT_FOUND', 'no session b:nope on this host')) });
    await net.startAll();
    await linked(a.node, 'b');
    const e = await a.calls.call('b', { verb: 'capture', session: 'nope', lines: 5 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ClareError);
    expect((e as ClareError).code).toBe('CLARE_NOT_FOUND');
    expect((e as ClareError).message).toContain('no session b:nope');
  });

  it('an owner out of reach is CLARE_HOST_UNREACHABLE, at once', async () => {
    const [a, b, c] = await line();
    net.block('b', 'c');
    await waitFor('b lost c', () => !b.node.service.status().some((p) => p.name === 'c' && p.connected));
    const t0 = performance.now();
    const e = await a.calls.call('c', { verb: 'spawn', session: 's', cwd: '/tmp' }, 5000).catch((x: unknown) => x as ClareError);
    expect(e).toBeInstanceOf(ClareError);
    expect((e as ClareError).code).toBe('CLARE_HOST_UNREACHABLE');
    expect((e as ClareError).message).toContain('no link from a reaches host c (asked b)');
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(await codeOf(a.calls.call('nowhere', { verb: 'capture', session: 's', lines: 1 }))).toBe('CLARE_HOST_UNREACHABLE');
    expect(c.ran).toEqual([]);
  });

  it('an owner that does not answer in time is CLARE_TIMEOUT, and the slot comes back', async () => {
    net = new MemoryNetwork();
    const a = host('a', ['b']);
    host('b', [], { answer: () => new Promise(() => undefined) });
    await net.startAll();
    await linked(a.node, 'b');
    const t0 = performance.now();
    expect(await codeOf(a.calls.call('b', { verb: 'capture', session: 's', lines: 1 }, 300))).toBe('CLARE_TIMEOUT');
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(a.calls.pendingCount).toBe(0);
  });
});

describe('hostile call frames', () => {
  /** A raw peer speaking protocol 3 to node `b`, which runs calls for host b. */
  async function rawTo(o: { trusted?: boolean; maxPerLink?: number; answer?: (op: CallOp) => Promise<string | undefined> } = {}) {
    net = new MemoryNetwork();
    const b = host('b', [], o);
    await net.startAll();
    const raw = connectRawPeer(b.node.service);
    raw.send(raw.hello({ versions: [3] }));
    await raw.next('hello');
    const call = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
      type: 'call', id: `call-${Math.random().toString(36).slice(2, 12)}`, to: 'b', hops: 0, via: [raw.machineId], timeout_ms: 2000,
      op: { verb: 'capture', session: 'api-1', lines: 10 }, ...over,
    });
    const result = async (id: unknown): Promise<Record<string, unknown>> => {
      await waitFor(`call_result ${String(id)}`, () => raw.frames.some((f) => f.type === 'call_result' && f.id === id), 5000);
      return raw.frames.find((f) => f.type === 'call_result' && f.id === id)!;
    };
    return { b, raw, call, result };
  }

  it.each([
    ['an unknown verb', { op: { verb: 'shell', command: 'rm -rf /' } }],
    ['a session name that is not one', { op: { verb: 'capture', session: 'a;b', lines: 1 } }],
    ['more lines than the route allows', { op: { verb: 'capture', session: 'a', lines: 5000 } }],
    ['a relative cwd', { op: { verb: 'spawn', session: 'a', cwd: 'src' } }],
    ['an extra key in the action', { op: { verb: 'spawn', session: 'a', cwd: '/tmp', command: 'sh' } }],
    ['too many hops', { hops: 99 }],
    ['a deadline past the bound', { timeout_ms: 3_600_000 }],
  ])('%s: refused as CLARE_PROTOCOL, the link closed, nothing run', async (_what, over) => {
    const { b, raw, call } = await rawTo();
    raw.send(call(over));
    const err = await raw.next('error');
    expect(err.code).toBe('CLARE_PROTOCOL');
    expect((await raw.closed).code).toBe(CLOSE.PROTOCOL_ERROR);
    expect(b.ran).toEqual([]);
  });

  it('screen text over the bound is refused', async () => {
    const { raw } = await rawTo();
    raw.send({ type: 'call_result', id: 'call-000000', ok: true, text: 'x'.repeat(MAX_SCREEN_CHARS + 1) });
    expect((await raw.next('error')).code).toBe('CLARE_PROTOCOL');
  });

  it('a call on a protocol-2 session is refused', async () => {
    net = new MemoryNetwork();
    const b = host('b', []);
    await net.startAll();
    const raw = connectRawPeer(b.node.service);
    raw.send(raw.hello({ versions: [2] }));
    await raw.next('hello');
    raw.send({ type: 'call', id: 'call-00000001', to: 'b', hops: 0, via: [raw.machineId], timeout_ms: 1000, op: { verb: 'capture', session: 'a', lines: 1 } });
    expect((await raw.next('error')).message).toContain('need protocol 3');
    expect(b.ran).toEqual([]);
  });

  it('a via that does not end with the sender is answered CLARE_PROTOCOL and not run', async () => {
    const { b, raw, call, result } = await rawTo();
    const f = call({ via: ['0190f5e2-0000-7000-8000-000000000001'] });
    raw.send(f);
    expect(await result(f.id)).toMatchObject({ ok: false, code: 'CLARE_PROTOCOL' });
    expect(b.ran).toEqual([]);
  });

  it('without a mesh token the daemon runs no call: CLARE_FORBIDDEN', async () => {
    const { b, raw, call, result } = await rawTo({ trusted: false });
    const f = call();
    raw.send(f);
    expect(await result(f.id)).toMatchObject({ ok: false, code: 'CLARE_FORBIDDEN' });
    expect(b.ran).toEqual([]);
  });

  it('the same id twice runs once', async () => {
    const { b, raw, call, result } = await rawTo();
    const f = call({ op: { verb: 'spawn', session: 'web', cwd: '/tmp' } });
    raw.send(f);
    expect(await result(f.id)).toMatchObject({ ok: true });
    raw.frames.length = 0;
    raw.send(f);
    expect(await result(f.id)).toMatchObject({ ok: false, code: 'CLARE_CONFLICT' });
    expect(b.ran).toHaveLength(1);
  });

  it('calls in flight per link are bounded', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<string>((r) => { release = () => r('late'); });
    const { b, raw, call, result } = await rawTo({ maxPerLink: 3, answer: () => gate });
    const fs = Array.from({ length: 4 }, () => call());
    for (const f of fs) raw.send(f);
    expect(await result(fs[3]!.id)).toMatchObject({ ok: false, code: 'CLARE_TOO_LARGE' });
    expect(b.ran).toHaveLength(3);
    release();
    for (const f of fs.slice(0, 3)) expect(await result(f.id)).toMatchObject({ ok: true, text: 'late' });
    // The slots came back.
    const again = call();
    raw.send(again);
    expect(await result(again.id)).toMatchObject({ ok: true });
  });

  it('an answer to no call of ours is dropped, the link stays up', async () => {
    const { raw, call, result } = await rawTo();
    raw.send({ type: 'call_result', id: 'call-unknown1', ok: false, code: 'CLARE_X', message: 'nobody asked' });
    const f = call();
    raw.send(f);
    expect(await result(f.id)).toMatchObject({ ok: true });
  });
});
