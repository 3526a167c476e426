// Convergence over the in-memory network: pairs, lines, full meshes with
// concurrent writers (and how many duplicates relaying costs), partitions
// healed in random order, and reconnects that lose nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { digest } from '../../src/core/digest.js';
import { rebuild } from '../../src/core/rebuild.js';
import { eventCount } from '../../src/core/store.js';
import { MemoryNetwork, seededRandom, waitConverged, writeProjects, type TestNode } from '../helpers/replication-harness.js';
import { waitFor } from '../helpers/wait-for.js';

let net: MemoryNetwork;
afterEach(async () => {
  await net.stopAll();
});

function allEqual(xs: readonly string[]): boolean {
  return xs.every((x) => x === xs[0]);
}

describe('replication over the in-memory network', () => {
  it('two peers converge to equal digests, and status reports the link', async () => {
    net = new MemoryNetwork();
    const a = net.add({ name: 'a', peers: ['b'] });
    const b = net.add({ name: 'b' });
    writeProjects(a.ctx, 1500, 'a', 100);
    writeProjects(b.ctx, 700, 'b', 50);
    await net.startAll();
    const d = await waitConverged([a, b], 2200);
    expect(allEqual(d)).toBe(true);

    // Live push after catch-up.
    writeProjects(a.ctx, 3, 'late');
    await waitConverged([a, b], 2203);

    const sa = a.service.status();
    expect(sa).toHaveLength(1);
    expect(sa[0]).toMatchObject({
      url: b.url, machine_id: b.machineId, name: 'b', connected: true, faulty: false, last_error: null,
      events_sent: 1503, events_received: 700, duplicates_received: 0, protocol: 3, direction: 'outbound', divergence: null,
    });
    await waitFor('lag 0', () => {
      const l = a.service.status()[0]!.lag;
      return l !== null && l.they_lack === 0 && l.we_lack === 0;
    });
    expect(typeof sa[0]!.since).toBe('string');
    expect(Math.abs(sa[0]!.clock_offset_ms!)).toBeLessThan(1000);
    const sb = b.service.status();
    expect(sb[0]).toMatchObject({ url: null, machine_id: a.machineId, connected: true, direction: 'inbound', events_received: 1503 });
  });

  it('a line A–B–C carries A\'s events to C and C\'s to A', async () => {
    net = new MemoryNetwork();
    const a = net.add({ name: 'a', peers: ['b'] });
    const b = net.add({ name: 'b', peers: ['c'] });
    const c = net.add({ name: 'c' });
    await net.startAll();
    writeProjects(a.ctx, 300, 'a', 10);
    writeProjects(c.ctx, 200, 'c', 10);
    writeProjects(b.ctx, 5, 'b');
    const d = await waitConverged([a, b, c], 505);
    expect(allEqual(d)).toBe(true);
    // Relayed live, one at a time.
    for (let i = 0; i < 20; i++) writeProjects(a.ctx, 1, `live-${i}`);
    await waitConverged([a, b, c], 525);
    expect(a.service.status()[0]!.connected).toBe(true);
  });

  it('a 5-peer full mesh with writers on all converges with duplicates ≤ 50% of events received', async () => {
    net = new MemoryNetwork();
    const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
    // Every node lists every other: each pair dials twice, and keeps one link.
    const nodes = names.map((n) => net.add({ name: n, peers: names.filter((m) => m !== n) }));
    await net.startAll();
    await waitFor('full mesh links', () => nodes.every((n) => n.service.status().filter((p) => p.connected).length === 4));
    const perNode = 200;
    // Concurrent writers: interleaved small commits, with delivery running in between.
    for (let round = 0; round < perNode / 10; round++) {
      for (const n of nodes) writeProjects(n.ctx, 10, `${n.name}-${round}`, round % 2 === 0 ? 1 : 10);
      await new Promise<void>((r) => setImmediate(r));
    }
    const d = await waitConverged(nodes, perNode * nodes.length);
    expect(allEqual(d)).toBe(true);
    let received = 0;
    let dups = 0;
    for (const n of nodes) {
      for (const p of n.service.status()) {
        received += p.events_received;
        dups += p.duplicates_received;
      }
    }
    console.log(`full mesh: received ${received}, duplicates ${dups} (${((100 * dups) / received).toFixed(1)}%)`);
    expect(received).toBeGreaterThanOrEqual(perNode * nodes.length * (nodes.length - 1));
    expect(dups / received).toBeLessThanOrEqual(0.5);
    // One link per pair survives the double dialing.
    for (const n of nodes) expect(n.service.status().filter((p) => p.connected)).toHaveLength(4);
  });

  it('a 5-peer full mesh starting with backlogs and writing while links come up stays ≤ 50% duplicates', async () => {
    net = new MemoryNetwork();
    const names = ['m1', 'm2', 'm3', 'm4', 'm5'];
    const nodes = names.map((n) => net.add({ name: n, peers: names.filter((m) => m !== n), tuning: { batchSize: 100 } }));
    for (const n of nodes) writeProjects(n.ctx, 300, `${n.name}-offline`, 50);
    await net.startAll();
    for (let round = 0; round < 30; round++) {
      for (const n of nodes) writeProjects(n.ctx, 5, `${n.name}-${round}`);
      await new Promise<void>((r) => setImmediate(r));
    }
    const total = nodes.length * (300 + 150);
    const d = await waitConverged(nodes, total);
    expect(allEqual(d)).toBe(true);
    let received = 0;
    let dups = 0;
    for (const n of nodes) {
      for (const p of n.service.status()) {
        received += p.events_received;
        dups += p.duplicates_received;
      }
    }
    console.log(`full mesh from backlogs: received ${received}, duplicates ${dups} (${((100 * dups) / received).toFixed(1)}%)`);
    expect(dups / received).toBeLessThanOrEqual(0.5);
  });

  it('partitions healed in random order converge', async () => {
    for (const seed of [1, 2, 3]) {
      net = new MemoryNetwork();
      const rnd = seededRandom(seed);
      net.random = rnd;
      const names = ['p1', 'p2', 'p3', 'p4'];
      const nodes = names.map((n, i) => net.add({ name: n, peers: names.slice(i + 1) }));
      const pairs: [string, string][] = [];
      for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) pairs.push([names[i]!, names[j]!]);
      for (const [x, y] of pairs) net.block(x, y);
      await net.startAll();
      let total = 0;
      for (const n of nodes) {
        const k = 20 + Math.floor(rnd() * 50);
        writeProjects(n.ctx, k, n.name, 7);
        total += k;
      }
      // Heal links one by one in random order, writing in between.
      const order = [...pairs].sort(() => rnd() - 0.5);
      for (const [x, y] of order) {
        net.unblock(x, y);
        const w = nodes[Math.floor(rnd() * nodes.length)]!;
        writeProjects(w.ctx, 5, `heal-${x}-${y}`);
        total += 5;
        await waitFor(`${x}–${y} link`, () => net.node(x).service.status().some((p) => p.connected && p.machine_id === net.node(y).machineId)
          || net.node(y).service.status().some((p) => p.connected && p.machine_id === net.node(x).machineId));
      }
      const d = await waitConverged(nodes, total);
      expect(allEqual(d)).toBe(true);
      await net.stopAll();
    }
    net = new MemoryNetwork();
  });

  it('a dropped connection loses nothing: reconnects and catches up, repeatedly', async () => {
    net = new MemoryNetwork();
    const a = net.add({ name: 'a', peers: ['b'], tuning: { batchSize: 50, maxInflight: 2 } });
    const b = net.add({ name: 'b', tuning: { batchSize: 50, maxInflight: 2 } });
    await net.startAll();
    let total = 0;
    for (let i = 0; i < 10; i++) {
      writeProjects(a.ctx, 200, `a${i}`, 25);
      writeProjects(b.ctx, 30, `b${i}`, 3);
      total += 230;
      // Let some batches fly, then cut the link mid-stream.
      await new Promise<void>((r) => setImmediate(r));
      net.dropLinks('a', 'b');
    }
    const d = await waitConverged([a, b], total);
    expect(allEqual(d)).toBe(true);
    expect(a.service.status()[0]!.last_error?.code).toBe('CLARE_PEER');
    await waitFor('reconnected', () => a.service.status()[0]!.connected);
  });

  it('a peer added to the list at run time is dialed after reloadPeers()', async () => {
    net = new MemoryNetwork();
    const a = net.add({ name: 'a' });
    const b = net.add({ name: 'b' });
    writeProjects(b.ctx, 10);
    await net.startAll();
    expect(a.service.status()).toHaveLength(0);
    a.peers.push('b');
    a.service.reloadPeers();
    await waitConverged([a, b], 10);
    a.peers = [];
    a.service.reloadPeers();
    await waitFor('hang-up after removal', () => a.service.status().length === 0 && b.service.status().every((p) => !p.connected));
  });

  it('drain waits for acknowledgements, stop closes cleanly, and the peer sees a clean hang-up', async () => {
    net = new MemoryNetwork();
    const a = net.add({ name: 'a', peers: ['b'], tuning: { batchSize: 10, maxInflight: 1 } });
    const b = net.add({ name: 'b' });
    await net.startAll();
    await waitFor('link', () => a.service.status()[0]?.connected === true);
    writeProjects(a.ctx, 200, 'a', 50);
    await a.service.drain();
    // Drained: everything sent was acknowledged, and nothing new is dialed or accepted.
    expect(eventCount(b.ctx.db)).toBe(200);
    await a.service.stop();
    await a.service.stop(); // idempotent
    await waitFor('b sees the hang-up', () => b.service.status()[0]?.connected === false);
    expect(b.service.status()[0]).toMatchObject({ last_error: null, faulty: false });
    expect(a.service.status()[0]).toMatchObject({ connected: false, last_error: null });
  });

  it('converged stores equal a full rebuild of their events', async () => {
    net = new MemoryNetwork();
    const nodes: TestNode[] = ['x', 'y', 'z'].map((n, i, all) => net.add({ name: n, peers: all.slice(i + 1) }));
    await net.startAll();
    for (const n of nodes) writeProjects(n.ctx, 100, n.name, 9);
    const d = await waitConverged(nodes, 300);
    for (const n of nodes) {
      rebuild(n.ctx.db);
      expect(digest(n.ctx.db)).toBe(d[0]);
      expect(eventCount(n.ctx.db)).toBe(300);
    }
  });
});
