// Fault injection on the links: duplicated frames, frames reordered within a
// bounded window, and connections dropped mid-frame. The mesh must still
// converge, and to exactly what a full rebuild of the events gives.
import { afterEach, describe, expect, it } from 'vitest';
import { digest } from '../../src/core/digest.js';
import { rebuild } from '../../src/core/rebuild.js';
import { eventCount } from '../../src/core/store.js';
import type { MemoryFaults } from '../../src/replication/memory-transport.js';
import { MemoryNetwork, seededRandom, waitConverged, writeProjects } from '../helpers/replication-harness.js';

let net: MemoryNetwork;
afterEach(async () => {
  await net.stopAll();
});

function faults(rnd: () => number, p: { dup: number; reorder: number; drop: number }): MemoryFaults {
  return {
    duplicate: () => rnd() < p.dup,
    reorder: () => rnd() < p.reorder,
    reorderWindow: 5,
    dropBefore: () => rnd() < p.drop,
  };
}

describe('replication under link faults', () => {
  for (const seed of [11, 12, 13]) {
    it(`duplicated and reordered frames converge to the digest of a full rebuild (seed ${seed})`, async () => {
      net = new MemoryNetwork();
      const rnd = seededRandom(seed);
      net.random = rnd;
      net.faults = { dialer: faults(rnd, { dup: 0.2, reorder: 0.3, drop: 0 }), acceptor: faults(rnd, { dup: 0.2, reorder: 0.3, drop: 0 }) };
      const names = ['f1', 'f2', 'f3', 'f4'];
      const nodes = names.map((n, i) => net.add({ name: n, peers: [names[(i + 1) % names.length]!], tuning: { batchSize: 20, maxInflight: 3 } }));
      for (const n of nodes) writeProjects(n.ctx, 60, `${n.name}-old`, 6);
      await net.startAll();
      let total = 240;
      for (let round = 0; round < 15; round++) {
        for (const n of nodes) writeProjects(n.ctx, 3, `${n.name}-${round}`);
        total += 12;
        await new Promise<void>((r) => setImmediate(r));
      }
      const d = await waitConverged(nodes, total, 20_000);
      expect(new Set(d).size).toBe(1);
      for (const n of nodes) {
        rebuild(n.ctx.db);
        expect(digest(n.ctx.db)).toBe(d[0]);
      }
      // Duplicated frames are absorbed in order, never refused as faults.
      for (const n of nodes) for (const p of n.service.status()) expect(p.faulty).toBe(false);
    });
  }

  it('connections dropped at random mid-stream still converge with nothing lost', async () => {
    net = new MemoryNetwork();
    const rnd = seededRandom(99);
    net.random = rnd;
    net.faults = { dialer: faults(rnd, { dup: 0.1, reorder: 0.2, drop: 0.03 }), acceptor: faults(rnd, { dup: 0.1, reorder: 0.2, drop: 0.03 }) };
    const names = ['d1', 'd2', 'd3'];
    const nodes = names.map((n, i) => net.add({ name: n, peers: names.slice(i + 1), tuning: { batchSize: 25, maxInflight: 2 } }));
    for (const n of nodes) writeProjects(n.ctx, 200, n.name, 20);
    await net.startAll();
    const d = await waitConverged(nodes, 600, 20_000);
    expect(new Set(d).size).toBe(1);
    for (const n of nodes) expect(eventCount(n.ctx.db)).toBe(600);
  });
});
