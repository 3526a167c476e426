// Bad input from a peer: unparsable frames, frames out of protocol, bad events,
// clocks beyond the skew bound, gaps, unknown protocol versions. Each gets a
// typed error frame and a close; nothing is written; the peer shows as faulty;
// the other peers carry on.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digest } from '../../src/core/digest.js';
import { formatHlc } from '../../src/core/hlc.js';
import { eventCount } from '../../src/core/store.js';
import { CLOSE } from '../../src/replication/close-codes.js';
import { connectRawPeer, makeEvent, MemoryNetwork, waitConverged, writeProjects, type TestNode } from '../helpers/replication-harness.js';
import { waitFor } from '../helpers/wait-for.js';

let net: MemoryNetwork;
let b: TestNode;

beforeEach(async () => {
  net = new MemoryNetwork();
  b = net.add({ name: 'b' });
  writeProjects(b.ctx, 5);
  await b.service.run();
});
afterEach(async () => {
  await net.stopAll();
});

async function expectRefusal(raw: ReturnType<typeof connectRawPeer>, code: string, closeCode: number): Promise<Record<string, unknown>> {
  const err = await raw.next('error');
  expect(err.code).toBe(code);
  expect(typeof err.message).toBe('string');
  const info = await raw.closed;
  expect(info.code).toBe(closeCode);
  return err;
}

describe('bad input from a peer', () => {
  it('a frame that is not JSON: CLARE_PROTOCOL, closed', async () => {
    const raw = connectRawPeer(b.service);
    raw.send('{not json');
    const err = await expectRefusal(raw, 'CLARE_PROTOCOL', CLOSE.PROTOCOL_ERROR);
    expect(err.message).toMatch(/not JSON/);
  });

  it('anything but hello first: CLARE_PROTOCOL', async () => {
    const raw = connectRawPeer(b.service);
    raw.send({ type: 'batch', seq: 1, base: {}, events: [] });
    const err = await expectRefusal(raw, 'CLARE_PROTOCOL', CLOSE.PROTOCOL_ERROR);
    expect(err.message).toMatch(/expected hello/);
  });

  it('a protocol version we do not speak: a clear CLARE_PROTOCOL_VERSION refusal', async () => {
    const raw = connectRawPeer(b.service);
    raw.send(raw.hello({ versions: [7, 8], future_field: true }));
    const err = await expectRefusal(raw, 'CLARE_PROTOCOL_VERSION', CLOSE.POLICY);
    expect(err.message).toMatch(/7, 8.*speaks 1, 2/);
    // Our own hello went out first, so the peer also learns what we speak.
    expect(raw.frames[0]).toMatchObject({ type: 'hello', versions: [1, 2, 3] });
  });

  it('a hello with our own machine id is refused', async () => {
    const raw = connectRawPeer(b.service, b.machineId);
    raw.send(raw.hello());
    const err = await expectRefusal(raw, 'CLARE_PROTOCOL', CLOSE.PROTOCOL_ERROR);
    expect(err.message).toMatch(/itself/);
  });

  it('a malformed frame after the handshake: CLARE_PROTOCOL, peer faulty', async () => {
    const raw = connectRawPeer(b.service);
    raw.send(raw.hello());
    raw.send({ type: 'batch', base: {}, events: [{}] });
    await expectRefusal(raw, 'CLARE_PROTOCOL', CLOSE.PROTOCOL_ERROR);
    await waitFor('faulty status', () => b.service.status().some((p) => p.faulty));
    expect(b.service.status()[0]).toMatchObject({ machine_id: raw.machineId, faulty: true, connected: false, last_error: { code: 'CLARE_PROTOCOL' } });
  });

  it('a batch with one bad event: CLARE_BAD_EVENT, nothing of the batch written, faulty with the reason', async () => {
    const raw = connectRawPeer(b.service);
    raw.send(raw.hello());
    const good = makeEvent(raw.machineId, Date.now() - 1000, 0);
    const bad = { ...makeEvent(raw.machineId, Date.now() - 1000, 1), payload: { project_id: 'nope' } };
    const before = digest(b.ctx.db);
    raw.send({ type: 'batch', seq: 1, base: { [raw.machineId]: null }, events: [good, bad] });
    const err = await expectRefusal(raw, 'CLARE_BAD_EVENT', CLOSE.POLICY);
    expect(err.message).toMatch(/event #1/);
    expect(eventCount(b.ctx.db)).toBe(5);
    expect(digest(b.ctx.db)).toBe(before);
    await waitFor('faulty status', () => b.service.status().some((p) => p.faulty));
    const st = b.service.status()[0]!;
    expect(st.last_error?.code).toBe('CLARE_BAD_EVENT');
    expect(st.last_error?.message).toMatch(/event #1/);
  });

  it('an HLC beyond the skew bound: CLARE_HLC_SKEW, nothing written', async () => {
    const raw = connectRawPeer(b.service);
    raw.send(raw.hello());
    const future = makeEvent(raw.machineId, Date.now() + 10 * 60_000);
    raw.send({ type: 'batch', seq: 1, base: { [raw.machineId]: null }, events: [makeEvent(raw.machineId, Date.now() - 5), future] });
    const err = await expectRefusal(raw, 'CLARE_HLC_SKEW', CLOSE.POLICY);
    expect(err.message).toMatch(/ahead of ours/);
    expect(eventCount(b.ctx.db)).toBe(5);
    await waitFor('skew in status', () => b.service.status()[0]?.last_error?.code === 'CLARE_HLC_SKEW');
    expect(b.service.status()[0]!.faulty).toBe(true);
  });

  it('a batch that would leave a gap in an origin: CLARE_PROTOCOL, nothing written', async () => {
    const raw = connectRawPeer(b.service);
    raw.send(raw.hello());
    const e = makeEvent(raw.machineId, Date.now() - 100, 5);
    // Claims we already hold the origin up to an earlier stamp; we hold nothing of it.
    raw.send({ type: 'batch', seq: 1, base: { [raw.machineId]: formatHlc({ ms: Date.now() - 200, counter: 0, machine: raw.machineId }) }, events: [e] });
    const err = await expectRefusal(raw, 'CLARE_PROTOCOL', CLOSE.PROTOCOL_ERROR);
    expect(err.message).toMatch(/gap/);
    expect(eventCount(b.ctx.db)).toBe(5);
  });

  it('events of an unknown type or newer version are stored, acknowledged and relayed, not refused', async () => {
    const c = net.add({ name: 'c', peers: ['b'] });
    await c.service.run();
    await waitConverged([b, c], 5);
    const raw = connectRawPeer(b.service);
    raw.send(raw.hello());
    const t0 = Date.now() - 1000;
    const unknown = { ...makeEvent(raw.machineId, t0, 0), type: 'robot.arrived', payload: { any: 'thing' } };
    const newer = { ...makeEvent(raw.machineId, t0, 1), v: 9, payload: { shape: 'from the future' } };
    raw.send({ type: 'batch', seq: 1, base: { [raw.machineId]: null }, events: [unknown, newer] });
    const ack = await raw.next('ack');
    expect(ack).toMatchObject({ seq: 1, accepted: 2, known: 0 });
    expect((ack.watermarks as Record<string, string>)[raw.machineId]).toBe(newer.hlc);
    await waitConverged([b, c], 7);
    expect(c.ctx.db.prepare('SELECT count(*) AS n FROM skipped_events').get()).toEqual({ n: 2 });
    expect(raw.frames.some((f) => f.type === 'error')).toBe(false);
  });

  it('one bad peer never stalls the others', async () => {
    const a = net.add({ name: 'a', peers: ['b'] });
    await a.service.run();
    await waitConverged([a, b], 5);
    const bad = connectRawPeer(b.service);
    bad.send(bad.hello());
    for (let i = 0; i < 5; i++) {
      writeProjects(a.ctx, 20, `a${i}`);
      const again = connectRawPeer(b.service);
      again.send(again.hello());
      again.send({ type: 'batch', seq: 1, base: {}, events: [{ id: 'x' }] });
    }
    bad.send('garbage');
    await waitConverged([a, b], 105);
    expect(a.service.status()[0]).toMatchObject({ connected: true, faulty: false });
  });
});

describe('dead links', () => {
  it('keepalive notices a link that silently stopped, and the dialer reconnects', async () => {
    const a = net.add({ name: 'a', peers: ['b'] });
    await a.service.run();
    await waitConverged([a, b], 5);
    expect(net.stallLinks('a', 'b')).toBe(1);
    writeProjects(a.ctx, 3);
    await waitFor('keepalive timeout', () => a.service.status()[0]?.last_error?.message.includes('presumed dead') === true);
    await waitConverged([a, b], 8);
    await waitFor('reconnected', () => a.service.status()[0]!.connected);
  });
});
