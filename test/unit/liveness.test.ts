// The liveness rule shared by the status document and the Fleet view (protocol/liveness.ts).
import { describe, expect, it } from 'vitest';
import { hostLiveness, type PeerLinkView } from '../../src/protocol/liveness.js';

const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number): string => new Date(T0 + ms).toISOString();
const machines = [
  { machine_id: 'me', name: 'desk', last_event_at: iso(0) },
  { machine_id: 'b', name: 'build', last_event_at: iso(0) },
  { machine_id: 'c', name: 'laptop', last_event_at: iso(0) },
  { machine_id: 'd', name: 'never', last_event_at: null },
];
const peer = (machine_id: string, connected: boolean, heardAt: number | null, links: string[] = []): PeerLinkView =>
  ({ machine_id, connected, last_heard: heardAt === null ? null : iso(heardAt), links });
const SILENT = 60_000;

describe('host liveness from links', () => {
  it('keeps a directly or relayed linked host reachable however old its newest event', () => {
    const l = hostLiveness(machines, [peer('b', true, 3_600_000, ['c'])], 'me', T0 + 3_600_000, SILENT);
    expect(l.get('build')).toEqual({ reach: 'direct', lastHeard: iso(3_600_000), silent: false });
    expect(l.get('laptop')).toEqual({ reach: 'relayed', lastHeard: iso(3_600_000), silent: false });
    expect(l.get('desk')?.reach).toBe('self');
    expect(l.get('never')).toEqual({ reach: null, lastHeard: null, silent: false });
  });

  it('calls a host silent only once nothing was carried from it for the threshold', () => {
    // b's link went down at 100 s; it had said it was linked to c then.
    const peers = [peer('b', false, 100_000, ['c'])];
    const soon = hostLiveness(machines, peers, 'me', T0 + 100_000 + SILENT, SILENT);
    expect(soon.get('build')).toEqual({ reach: null, lastHeard: iso(100_000), silent: false });
    expect(soon.get('laptop')?.silent).toBe(false);
    const late = hostLiveness(machines, peers, 'me', T0 + 100_001 + SILENT, SILENT);
    expect(late.get('build')?.silent).toBe(true);
    expect(late.get('laptop')?.silent).toBe(true);
    // A newer event of c (relayed by anyone) is something carried from it too.
    const withEvent = hostLiveness(machines.map((m) => (m.machine_id === 'c' ? { ...m, last_event_at: iso(150_000) } : m)), peers, 'me', T0 + 100_001 + SILENT, SILENT);
    expect(withEvent.get('laptop')).toEqual({ reach: null, lastHeard: iso(150_000), silent: false });
  });
});
