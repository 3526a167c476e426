// The correctness case a single global "since" watermark gets wrong, written
// first: C works offline and writes; C syncs only with B; later A syncs only
// with B. A must end up with C's events although their HLCs are older than
// everything A already had from B. Per-origin watermarks get it right.
import { afterEach, describe, expect, it } from 'vitest';
import { digest } from '../../src/core/digest.js';
import { eventCount, eventsSince, newestHlc, originCounts } from '../../src/core/store.js';
import { MemoryNetwork, waitConverged, writeProjects } from '../helpers/replication-harness.js';
import { waitFor } from '../helpers/wait-for.js';

// Behind, but within the 60 s skew bound (a clock further behind would refuse A and B's events as skewed).
const BEHIND_MS = 30_000;

describe('offline laptop relayed through a middle peer', () => {
  let net: MemoryNetwork;
  afterEach(async () => {
    await net.stopAll();
  });

  it('A gets C\'s older events through B after having synced with B past them', async () => {
    net = new MemoryNetwork();
    // C's clock runs 30 s behind: all its events sort before A's and B's.
    const laptopNow = (): number => Date.now() - BEHIND_MS;
    const a = net.add({ name: 'a', peers: ['b'] });
    const b = net.add({ name: 'b' });
    const c = net.add({ name: 'c', peers: [], now: laptopNow });

    // C works offline.
    writeProjects(c.ctx, 40, 'laptop');

    // A and B sync and write; A's view of B is now past every event C holds.
    writeProjects(a.ctx, 25, 'desk');
    writeProjects(b.ctx, 25, 'build');
    await a.service.run();
    await b.service.run();
    await waitConverged([a, b], 50);
    const aSawUpTo = newestHlc(a.ctx.db)!;
    expect(newestHlc(c.ctx.db)! < aSawUpTo).toBe(true);

    // A goes away; C syncs only with B.
    a.peers = [];
    a.service.reloadPeers();
    await waitFor('A and B to hang up', () => !a.service.status().some((p) => p.connected) && !b.service.status().some((p) => p.connected));
    c.peers = ['b'];
    await c.service.run();
    await waitConverged([b, c], 90);

    // What a naive "since" cursor would have fetched from B: nothing of C's.
    expect(eventsSince(b.ctx.db, aSawUpTo, 1000).filter((e) => e.origin === c.machineId)).toHaveLength(0);

    // C leaves; A syncs only with B again.
    c.peers = [];
    c.service.reloadPeers();
    await waitFor('C to hang up', () => !c.service.status().some((p) => p.connected));
    a.peers = ['b'];
    a.service.reloadPeers();
    await waitConverged([a, b], 90);
    expect(originCounts(a.ctx.db)[c.machineId]).toBe(40);
    expect(digest(a.ctx.db)).toBe(digest(b.ctx.db));
    expect(digest(a.ctx.db)).toBe(digest(c.ctx.db));
    expect(eventCount(c.ctx.db)).toBe(90);
    const ab = a.service.status().find((p) => p.machine_id === b.machineId)!;
    expect(ab.lag).toEqual({ they_lack: 0, we_lack: 0 });
  });
});
