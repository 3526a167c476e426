// The protocol's pieces on their own: frame schemas and the union parser,
// version negotiation, batch encoding and the continuity check, backoff, bearer
// checks, peer URLs, a bare SyncSession pair, and the docs' version history.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatHlc, type Hlc } from '../../src/core/hlc.js';
import { newMachineId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/log.js';
import { digest } from '../../src/core/digest.js';
import { eventsAfter, eventsAfterRaw } from '../../src/core/store.js';
import { checkBearer } from '../../src/server/bearer-auth.js';
import { Backoff } from '../../src/replication/backoff.js';
import { checkContinuity, encodeBatch } from '../../src/replication/batch-codec.js';
import { createMemoryPair } from '../../src/replication/memory-transport.js';
import { parseFrame } from '../../src/protocol/sync/frame.js';
import { peerApiUrl, syncSocketUrl } from '../../src/replication/peer-url.js';
import { negotiateVersion, PROTOCOL_VERSIONS } from '../../src/replication/protocol-version.js';
import { SyncSession } from '../../src/replication/sync-session.js';
import { writeProjects } from '../helpers/replication-harness.js';
import { memoryContext } from '../helpers/memory-context.js';
import { waitFor } from '../helpers/wait-for.js';

const m = newMachineId();
const h = (ms: number, c = 0, machine = m): Hlc => formatHlc({ ms, counter: c, machine });

describe('frames', () => {
  it('parses every frame type and refuses malformed ones with CLARE_PROTOCOL', () => {
    const wm = { [m]: h(5) };
    const good = [
      { type: 'hello', versions: [1], machine_id: m, name: 'desk', now_ms: 1, watermarks: wm, counts: { [m]: 3 }, links: [], extra: 'ignored' },
      { type: 'batch', seq: 1, base: { [m]: null }, events: [{}] },
      { type: 'ack', seq: 1, watermarks: wm, counts: {}, accepted: 1, known: 0 },
      { type: 'ping', t: 1, watermarks: {}, counts: {} },
      { type: 'pong', t: 1, now_ms: 2, watermarks: {}, counts: {} },
      { type: 'links', rev: 1, links: [m] },
      { type: 'error', code: 'CLARE_PROTOCOL', message: 'x' },
    ];
    for (const f of good) expect(parseFrame(JSON.stringify(f))).toMatchObject({ ok: true, value: { type: f.type } });
    const bad: unknown[] = [
      'nope', [], { type: 1 }, { type: 'gossip' },
      { type: 'batch', seq: 0, base: {}, events: [{}] },
      { type: 'batch', seq: 1, base: {}, events: [] },
      { type: 'ack', seq: 1, watermarks: { [m]: h(5, 0, newMachineId()) }, counts: {}, accepted: 0, known: 0 },
      { type: 'hello', versions: [], machine_id: m, name: 'desk', now_ms: 1, watermarks: {}, counts: {}, links: [] },
      { type: 'hello', versions: [1], machine_id: 'M', name: 'desk', now_ms: 1, watermarks: {}, counts: {}, links: [] },
    ];
    for (const f of bad) {
      const r = parseFrame(typeof f === 'string' ? f : JSON.stringify(f));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/frame/);
    }
  });

  it('negotiates the highest shared version, or none', () => {
    expect(negotiateVersion([1])).toBe(1);
    expect(negotiateVersion([1, 2, 3], [1, 2])).toBe(2);
    expect(negotiateVersion([3, 4], [1, 2])).toBeNull();
  });

  it('docs/protocol.md has one history line per protocol version', () => {
    const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
    for (const v of PROTOCOL_VERSIONS) expect(doc).toMatch(new RegExp(`^- \\*\\*${v}\\*\\*`, 'm'));
  });
});

describe('batches', () => {
  it('encodes stored rows without re-serialising payloads; parsed back they equal the events', () => {
    const ctx = memoryContext();
    writeProjects(ctx, 30, 'p', 10);
    const rows = eventsAfterRaw(ctx.db, {}, 100);
    const b = encodeBatch(7, {}, rows, 1 << 20);
    const f = parseFrame(b.frame);
    expect(f.ok && f.value.type === 'batch' && f.value.seq === 7).toBe(true);
    expect(JSON.parse(b.frame).events).toEqual(eventsAfter(ctx.db, {}, 100));
    expect(b.count).toBe(30);
    expect(b.tops[ctx.clock.machine]).toBe(rows[29]!.hlc);
  });

  it('cuts a batch at the byte budget, keeping at least one event and per-origin prefixes', () => {
    const ctx = memoryContext();
    writeProjects(ctx, 30, 'p', 10);
    const rows = eventsAfterRaw(ctx.db, {}, 100);
    const b = encodeBatch(1, {}, rows, 2000);
    expect(b.count).toBeGreaterThan(0);
    expect(b.count).toBeLessThan(30);
    expect(b.tops[ctx.clock.machine]).toBe(rows[b.count - 1]!.hlc);
    expect(encodeBatch(1, {}, rows, 1).count).toBe(1);
  });

  it('continuity: needs a base per origin, refuses gaps and disorder, accepts overlaps', () => {
    const ev = (ms: number) => ({ origin: m, hlc: h(ms) });
    expect(checkContinuity({}, { [m]: null }, [ev(1), ev(2)])).toMatchObject({ ok: true, tops: { [m]: h(2) } });
    expect(checkContinuity({ [m]: h(5) }, { [m]: h(3) }, [ev(4), ev(6)]).ok).toBe(true);
    expect(checkContinuity({ [m]: h(2) }, { [m]: h(3) }, [ev(4)]).ok).toBe(false);
    expect(checkContinuity({}, {}, [ev(1)]).ok).toBe(false);
    expect(checkContinuity({}, { [m]: null }, [ev(2), ev(1)]).ok).toBe(false);
    expect(checkContinuity({}, { [m]: h(3) }, [ev(3)]).ok).toBe(false);
  });
});

describe('small parts', () => {
  it('backoff grows exponentially with jitter between half and full, capped, and resets', () => {
    const b = new Backoff(250, 30_000, () => 0.9999999);
    const lo = new Backoff(250, 30_000, () => 0);
    const seq = Array.from({ length: 10 }, () => b.next());
    expect(seq.slice(0, 4)).toEqual([250, 500, 1000, 2000]);
    expect(seq.at(-1)).toBe(30_000);
    expect(lo.next()).toBe(125);
    b.reset();
    expect(b.next()).toBe(250);
  });

  it('checks bearer tokens exactly', () => {
    expect(checkBearer(undefined, undefined)).toBe(true);
    expect(checkBearer('Bearer sesame-0123456789', 'sesame-0123456789')).toBe(true);
    expect(checkBearer('bearer sesame-0123456789', 'sesame-0123456789')).toBe(true);
    expect(checkBearer('Bearer sesame-012345678', 'sesame-0123456789')).toBe(false);
    expect(checkBearer('sesame-0123456789', 'sesame-0123456789')).toBe(false);
    expect(checkBearer(undefined, 'sesame-0123456789')).toBe(false);
    expect(checkBearer(['Bearer sesame-0123456789'], 'sesame-0123456789')).toBe(false);
  });

  it('derives socket and API URLs from a base URL', () => {
    expect(syncSocketUrl('http://198.18.0.2:8765')).toBe('ws://198.18.0.2:8765/api/v1/sync/ws');
    expect(syncSocketUrl('https://desk.example/clare/')).toBe('wss://desk.example/clare/api/v1/sync/ws');
    expect(syncSocketUrl('http://[fd00::2]:8765/')).toBe('ws://[fd00::2]:8765/api/v1/sync/ws');
    expect(peerApiUrl('http://h:1/', '/api/v1/sync/events?after=&limit=5')).toBe('http://h:1/api/v1/sync/events?after=&limit=5');
    expect(() => syncSocketUrl('ftp://h')).toThrow(expect.objectContaining({ code: 'CLARE_CONFIG' }) as Error);
  });
});

describe('a bare SyncSession pair', () => {
  it('handshakes, catches up both ways, pushes live, drains and stops', async () => {
    const a = memoryContext();
    const b = memoryContext();
    writeProjects(a, 120, 'a', 40);
    writeProjects(b, 80, 'b', 40);
    const p = createMemoryPair();
    const sa = new SyncSession({ ctx: a, machineId: a.clock.machine, name: 'a', transport: p.a, direction: 'outbound', log: silentLogger, tuning: { batchSize: 16, maxInflight: 2 } });
    const sb = new SyncSession({ ctx: b, machineId: b.clock.machine, name: 'b', transport: p.b, direction: 'inbound', log: silentLogger, tuning: { batchSize: 16, maxInflight: 2 } });
    await Promise.all([sa.run(), sb.run()]);
    expect(sa.remote).toMatchObject({ machineId: b.clock.machine, name: 'b', protocolVersion: 3 });
    await waitFor('catch-up', () => digest(a.db) === digest(b.db) && sa.counters.events_received === 80 && sb.counters.events_received === 120);
    writeProjects(b, 1, 'live');
    await waitFor('live push', () => sa.counters.events_received === 81);
    await sa.drain();
    expect(sa.inflightBatches).toBe(0);
    await sa.stop();
    const end = await sb.done;
    expect(end).toMatchObject({ established: true, code: 1001, error: null, faulty: false });
    expect(sa.isClosed && sb.isClosed).toBe(true);
  });

  it('run() rejects when the peer refuses the handshake', async () => {
    const a = memoryContext();
    const p = createMemoryPair();
    const sa = new SyncSession({ ctx: a, machineId: a.clock.machine, name: 'a', transport: p.a, direction: 'outbound', log: silentLogger });
    p.b.onMessage(() => p.b.send(JSON.stringify({ type: 'error', code: 'CLARE_PROTOCOL_VERSION', message: 'we speak 9' })));
    await expect(sa.run()).rejects.toMatchObject({ code: 'CLARE_PROTOCOL_VERSION' });
    expect(await sa.done).toMatchObject({ established: false, byPeer: true, faulty: false });
  });
});
