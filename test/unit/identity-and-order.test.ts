// Identity conflicts are never silent, and per-origin order holds on every door.
// An incoming event whose id is held with other content, or whose hlc is held
// under another id, means two machines claim one identity (a clone, or a restored
// backup under a live id): it is refused with CLARE_IDENTITY_CONFLICT naming both
// events, the whole batch writes nothing, and the link's status shows it. A POST
// without `base` whose event sits below its origin's watermark, and is not held,
// is refused as the socket refuses a gap (it would never be replicated on).
import { afterEach, describe, expect, it } from 'vitest';
import { digest } from '../../src/core/digest.js';
import { formatHlc } from '../../src/core/hlc.js';
import { newEventId, newMachineId } from '../../src/core/ids.js';
import { eventCount, eventsAfter, ingest, watermarks } from '../../src/core/store.js';
import { postEvents } from '../../src/replication/http-sync-server.js';
import { connectRawPeer, makeEvent, refusal, MemoryNetwork, writeProjects } from '../helpers/replication-harness.js';
import { memoryContext } from '../helpers/memory-context.js';
import { waitFor } from '../helpers/wait-for.js';


describe('identity conflicts at ingest', () => {
  it('an id held with other content is refused, naming both events; the whole batch writes nothing', () => {
    const src = memoryContext();
    writeProjects(src, 3);
    const held = eventsAfter(src.db, {}, 10);
    const dst = memoryContext();
    ingest(dst.db, dst.clock, held);
    const before = { n: eventCount(dst.db), d: digest(dst.db), wm: watermarks(dst.db) };

    const other = memoryContext();
    const fresh = makeEvent(other.clock.machine, Date.now() - 500);
    const forged = { ...held[1]!, payload: { ...held[1]!.payload, name: 'someone else' } };
    const err = refusal(() => ingest(dst.db, dst.clock, [fresh, forged]));
    expect(err.code).toBe('CLARE_IDENTITY_CONFLICT');
    expect(err.status).toBe(409);
    expect(err.message).toContain(held[1]!.id);
    expect(err.message).toMatch(/event #1/);
    expect(err.message).toMatch(/clone|restored backup/);
    expect(err.details).toMatchObject({ index: 1, incoming: { id: held[1]!.id }, held: { id: held[1]!.id } });
    // Nothing of the batch: not even the good event before it.
    expect({ n: eventCount(dst.db), d: digest(dst.db), wm: watermarks(dst.db) }).toEqual(before);
  });

  it('an hlc held under another id is refused, naming both ids', () => {
    const src = memoryContext();
    writeProjects(src, 2);
    const held = eventsAfter(src.db, {}, 10);
    const dst = memoryContext();
    ingest(dst.db, dst.clock, held);
    const twin = { ...held[0]!, id: newEventId() };
    const err = refusal(() => ingest(dst.db, dst.clock, [twin]));
    expect(err.code).toBe('CLARE_IDENTITY_CONFLICT');
    expect(err.message).toContain(twin.id);
    expect(err.message).toContain(held[0]!.id);
    expect(err.message).toMatch(/hlc is held under another event id/);
    expect(eventCount(dst.db)).toBe(2);
  });

  it('an id held with another hlc, type or version is a conflict too; the very same event is a duplicate', () => {
    const src = memoryContext();
    writeProjects(src, 1);
    const [e] = eventsAfter(src.db, {}, 10);
    const dst = memoryContext();
    ingest(dst.db, dst.clock, [e]);
    const later = formatHlc({ ms: Date.now() - 10, counter: 7, machine: src.clock.machine });
    for (const variant of [{ ...e!, hlc: later }, { ...e!, type: 'robot.arrived' }, { ...e!, v: 9 }]) {
      expect(refusal(() => ingest(dst.db, dst.clock, [variant])).code).toBe('CLARE_IDENTITY_CONFLICT');
    }
    // The same event again (also twice in one batch) is an ordinary duplicate.
    expect(ingest(dst.db, dst.clock, [e, e]).duplicates).toBe(2);
  });

  it('over HTTP: 409 with both events named, nothing written', () => {
    const src = memoryContext();
    writeProjects(src, 2);
    const held = eventsAfter(src.db, {}, 10);
    const dst = memoryContext();
    postEvents(dst, { events: held }, 'src');
    const forged = { ...held[0]!, payload: { ...held[0]!.payload, name: 'forged' } };
    const err = refusal(() => postEvents(dst, { events: [forged] }, 'src'));
    expect(err.code).toBe('CLARE_IDENTITY_CONFLICT');
    expect(err.status).toBe(409);
    expect(eventCount(dst.db)).toBe(2);
  });
});

describe('identity conflicts on the socket', () => {
  let net: MemoryNetwork;
  afterEach(async () => {
    await net.stopAll();
  });

  /** Daemon b, and a raw peer whose first event b has stored (batch 1, acknowledged). */
  async function peerWithOneEvent(): Promise<{ b: ReturnType<MemoryNetwork['add']>; raw: ReturnType<typeof connectRawPeer>; e1: ReturnType<typeof makeEvent> }> {
    net = new MemoryNetwork();
    const b = net.add({ name: 'b' });
    await b.service.run();
    const raw = connectRawPeer(b.service);
    raw.send(raw.hello());
    const e1 = makeEvent(raw.machineId, Date.now() - 2000, 0, 'first');
    raw.send({ type: 'batch', seq: 1, base: { [raw.machineId]: null }, events: [e1] });
    await raw.next('ack');
    return { b, raw, e1 };
  }

  it('a batch reusing a held id is refused with CLARE_IDENTITY_CONFLICT; the link shows it as faulty', async () => {
    const { b, raw, e1 } = await peerWithOneEvent();
    expect(eventCount(b.ctx.db)).toBe(1);
    const before = digest(b.ctx.db);
    // The same id with other content, after the watermark (so order is fine).
    const clone = { ...e1, hlc: formatHlc({ ms: Date.now() - 1000, counter: 0, machine: raw.machineId }), payload: { ...e1.payload, name: 'clone' } };
    raw.send({ type: 'batch', seq: 2, base: { [raw.machineId]: e1.hlc }, events: [clone] });
    const err = await raw.next('error');
    expect(err.code).toBe('CLARE_IDENTITY_CONFLICT');
    expect(String(err.message)).toContain(e1.id);
    expect(digest(b.ctx.db)).toBe(before);
    await waitFor('conflict in status', () => b.service.status()[0]?.last_error?.code === 'CLARE_IDENTITY_CONFLICT');
    expect(b.service.status()[0]).toMatchObject({ machine_id: raw.machineId, faulty: true });
  });

  it('a batch reusing a held hlc under a new id, at or below the base, is an identity conflict, not a gap', async () => {
    const { b, raw, e1 } = await peerWithOneEvent();
    const twin = { ...e1, id: newEventId(), payload: { ...e1.payload, name: 'twin' } };
    raw.send({ type: 'batch', seq: 2, base: { [raw.machineId]: e1.hlc }, events: [twin] });
    const err = await raw.next('error');
    expect(err.code).toBe('CLARE_IDENTITY_CONFLICT');
    expect(String(err.message)).toContain(e1.id);
    expect(String(err.message)).toContain(twin.id);
    expect(eventCount(b.ctx.db)).toBe(1);
  });
});

describe('per-origin order on the HTTP door', () => {
  it('a POST without base whose event is below its origin\'s watermark and not held is refused; nothing is written', () => {
    const src = memoryContext();
    writeProjects(src, 5);
    const events = eventsAfter(src.db, {}, 10);
    const dst = memoryContext();
    postEvents(dst, { events: events.slice(0, 2) }, 'src');
    // Out of order after the held prefix: 4 then 2.
    const err = refusal(() => postEvents(dst, { events: [events[0]!, events[1]!, events[4]!, events[2]!] }, 'src'));
    expect(err.code).toBe('CLARE_PROTOCOL');
    expect(err.status).toBe(400);
    expect(eventCount(dst.db)).toBe(2);
    // A sender's base is taken at its word, so this leaves 2 and 3 missing below the watermark…
    expect(postEvents(dst, { events: [events[4]!], base: { [src.clock.machine]: events[1]!.hlc } }, 'src').accepted).toBe(1);
    // …and then an event stamped below the watermark that the store lacks is refused without base.
    const below = refusal(() => postEvents(dst, { events: [events[2]!] }, 'src'));
    expect(below.code).toBe('CLARE_PROTOCOL');
    expect(below.message).toMatch(/never be replicated on/);
    expect(eventCount(dst.db)).toBe(3);
  });

  it('an event reusing a held hlc under a new id is refused as an identity conflict (409), with or without base, not as a gap', () => {
    const src = memoryContext();
    writeProjects(src, 3);
    const events = eventsAfter(src.db, {}, 10);
    const dst = memoryContext();
    postEvents(dst, { events }, 'src');
    const twin = { ...events[1]!, id: newEventId(), payload: { ...events[1]!.payload, name: 'twin' } };
    for (const body of [{ events: [twin] }, { events: [twin], base: { [src.clock.machine]: events[0]!.hlc } }]) {
      const err = refusal(() => postEvents(dst, body, 'src'));
      expect(err.code).toBe('CLARE_IDENTITY_CONFLICT');
      expect(err.status).toBe(409);
      expect(err.message).toContain(events[1]!.id);
    }
    expect(eventCount(dst.db)).toBe(3);
  });

  it('repeats of held events and events continuing the held prefix are accepted, with no base', () => {
    const src = memoryContext();
    writeProjects(src, 6);
    const events = eventsAfter(src.db, {}, 10);
    const dst = memoryContext();
    expect(postEvents(dst, { events: events.slice(0, 3) }, 'src').accepted).toBe(3);
    // Overlapping re-post: held ones are repeats, the rest continue the prefix.
    expect(postEvents(dst, { events: events.slice(1, 6) }, 'src')).toMatchObject({ accepted: 3, known: 2 });
    // A new origin starts from nothing.
    const o = newMachineId();
    expect(postEvents(dst, { events: [makeEvent(o, Date.now() - 50, 0), makeEvent(o, Date.now() - 40, 0)] }, 'x').accepted).toBe(2);
    expect(eventCount(dst.db)).toBe(8);
  });
});
