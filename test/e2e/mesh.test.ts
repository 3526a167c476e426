/**
 * Replication between real daemon processes on loopback ports: convergence in
 * pairs, lines and a full mesh, the offline laptop and its relay, partitions,
 * auth and bad input from a peer. Convergence = equal projection digests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HLC_ZERO } from '../../src/core/hlc.js';
import { newProjectId } from '../../src/core/ids.js';
import { createMachine, freePort, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const TOKEN = 'mesh-test-token-0123456789';
const made: TestMachine[] = [];
afterEach(async () => {
  await Promise.all(made.map((m) => m.stop()));
  for (const m of made.splice(0)) m.cleanup();
});

interface State { machine_id: string; event_count: number; digest: string; projections_digest: string; watermarks: Record<string, string> }
interface PeerStatus { url: string | null; name: string | null; connected: boolean; faulty: boolean; events_received: number; duplicates_received: number; last_error: { code: string; message: string } | null }

/** Machines with fixed ports so each can list the others before any starts. */
async function fleet(names: readonly string[], links: (i: number, urls: string[]) => number[], opts: { token?: string } = {}): Promise<TestMachine[]> {
  const ports = await Promise.all(names.map(() => freePort()));
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const ms = await Promise.all(names.map((name, i) => createMachine({
    name, port: ports[i]!, peers: links(i, urls).map((j) => urls[j]!), ...(opts.token === undefined ? {} : { token: opts.token }),
    // No session polling noise in replication tests.
    extraToml: '', env: { CLARE_LOG_LEVEL: 'info' },
  })));
  made.push(...ms);
  return ms;
}

async function state(m: TestMachine): Promise<State> {
  return (await m.api<State>('GET', '/sync/state?projections=1')).body;
}

async function converged(ms: readonly TestMachine[], timeoutMs = 20_000): Promise<State[]> {
  return waitFor(`${ms.map((m) => m.name).join(', ')} to converge`, async () => {
    const ss = await Promise.all(ms.map(state));
    return ss.every((s) => s.digest === ss[0]!.digest && s.projections_digest === ss[0]!.projections_digest && s.event_count === ss[0]!.event_count) ? ss : null;
  }, timeoutMs, 50);
}

async function writeProjects(m: TestMachine, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await m.api('POST', '/projects', { name: `${prefix}-${i}` });
    expect(r.status).toBe(201);
  }
}

describe('replication between daemons', () => {
  it('two peers with writes on both converge', async () => {
    const [a, b] = await fleet(['a', 'b'], (i) => (i === 0 ? [1] : []));
    // b first: a's first dial then meets a listening peer (a dial racing b's start-up
    // is retried, but leaves a last_error behind).
    await b!.start();
    await a!.start();
    await Promise.all([writeProjects(a!, 20, 'from-a'), writeProjects(b!, 20, 'from-b')]);
    const [sa] = await converged([a!, b!]);
    const names = (await b!.api<{ items: { name: string }[] }>('GET', '/projects')).body.items.map((p) => p.name);
    expect(names).toContain('from-a-19');
    expect(names).toContain('from-b-0');
    expect(Object.keys(sa!.watermarks)).toHaveLength(2);
    const st = (await a!.api<{ peers: PeerStatus[] }>('GET', '/status')).body.peers;
    expect(st).toHaveLength(1);
    expect(st[0]).toMatchObject({ name: 'b', connected: true, faulty: false });
    expect(st[0]!.events_received).toBeGreaterThanOrEqual(20);
  });

  it('relays along a line A–B–C and converges a full mesh of five with concurrent writers', async () => {
    const line = await fleet(['la', 'lb', 'lc'], (i) => (i === 1 ? [] : [1]));
    await Promise.all(line.map((m) => m.start()));
    await Promise.all(line.map((m, i) => writeProjects(m, 10, `line-${i}`)));
    await converged(line);
    const onC = (await line[2]!.api<{ items: { name: string }[] }>('GET', '/projects')).body.items.map((p) => p.name);
    expect(onC).toContain('line-0-9'); // A's events reached C through B

    const five = await fleet(['m0', 'm1', 'm2', 'm3', 'm4'], (i) => [0, 1, 2, 3, 4].filter((j) => j > i));
    await Promise.all(five.map((m) => m.start()));
    await Promise.all(five.map((m, i) => writeProjects(m, 15, `mesh-${i}`)));
    const ss = await converged(five, 30_000);
    expect(ss[0]!.event_count).toBeGreaterThanOrEqual(5 * 15);
    // Relaying must not flood: duplicates ≤ 50% of what each daemon received.
    let received = 0;
    let dups = 0;
    for (const m of five) {
      for (const p of (await m.api<{ peers: PeerStatus[] }>('GET', '/status')).body.peers) {
        received += p.events_received;
        dups += p.duplicates_received;
      }
    }
    expect(received).toBeGreaterThan(0);
    expect(dups / received).toBeLessThanOrEqual(0.5);
    // Eight daemons start in this test: 16–20 s on a quiet machine, past the default 30 s
    // when the whole suite runs beside it on two cores.
  }, 90_000);

  it('an offline laptop catches up by itself; its events reach a machine it never talks to', async () => {
    // desk — hub — laptop: desk and laptop only know the hub.
    const [desk, hub, laptop] = await fleet(['desk', 'hub', 'laptop'], (i) => (i === 1 ? [] : [1]));
    await Promise.all([desk!.start(), hub!.start()]);
    await writeProjects(desk!, 5, 'desk-early');
    await converged([desk!, hub!]);
    // The laptop works offline: the hub is away while it writes.
    await hub!.stop();
    await laptop!.start();
    await writeProjects(laptop!, 8, 'laptop-offline');
    // Meanwhile the desk writes too (newer HLCs than the laptop's offline work).
    await writeProjects(desk!, 5, 'desk-late');
    await hub!.start();
    const ss = await converged([desk!, hub!, laptop!], 30_000);
    const onDesk = (await desk!.api<{ items: { name: string }[] }>('GET', '/projects')).body.items.map((p) => p.name);
    expect(onDesk).toEqual(expect.arrayContaining(['laptop-offline-0', 'laptop-offline-7', 'desk-late-4']));
    expect(Object.keys(ss[0]!.watermarks)).toHaveLength(3);
  });

  it('heals partitions and converges to the digest of a full rebuild', async () => {
    const ms = await fleet(['p0', 'p1', 'p2'], (i) => [0, 1, 2].filter((j) => j !== i));
    await Promise.all(ms.map((m) => m.start()));
    // Partition: stop p1 and p2 in turn while the others write, restart in another order.
    await ms[1]!.stop();
    await writeProjects(ms[0]!, 5, 'part-a');
    await ms[2]!.stop();
    await ms[1]!.start();
    await writeProjects(ms[1]!, 5, 'part-b');
    await ms[2]!.start();
    await writeProjects(ms[2]!, 5, 'part-c');
    const [s] = await converged(ms, 30_000);
    await ms[0]!.stop();
    const r = ms[0]!.cli(['rebuild', '--json']);
    expect(r.code).toBe(0);
    const rebuilt = JSON.parse(r.stdout) as { digest_after: string; changed: boolean };
    expect(rebuilt.changed).toBe(false);
    expect(rebuilt.digest_after).toBe(s!.projections_digest);
  });

  it('clare sync runs an HTTP round and --check reports convergence', async () => {
    // No gossip link: the two only meet through `clare sync`.
    const [x, y] = await fleet(['sx', 'sy'], () => []);
    await Promise.all([x!.start(), y!.start()]);
    await writeProjects(x!, 3, 'sx');
    await writeProjects(y!, 4, 'sy');
    const notYet = x!.cli(['sync', y!.url, '--check']);
    expect(notYet.code).toBe(11);
    const r = x!.cliJson<{ peer: string; pulled: number; pushed: number; ok: boolean }[]>(['sync', y!.url]);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ ok: true, pulled: 5, pushed: 4 }); // y: 4 projects + machine.named; x: 3 + machine.named
    const none = x!.cli(['sync', '--check', '--json']); // no configured peers to check
    expect([none.code, (JSON.parse(none.stdout) as { converged: boolean }).converged]).toEqual([11, false]);
    x!.cli(['peer', 'add', y!.url]);
    await waitFor('sync --check to pass', () => x!.cli(['sync', '--check']).code === 0, 15_000, 100);
    const bad = x!.cli(['sync', 'http://127.0.0.1:1']);
    expect(bad.code).toBe(11);
    expect(bad.stdout).toContain('CLARE_PEER');
    const badJson = x!.cli(['sync', 'http://127.0.0.1:1', '--json']);
    expect(badJson.code).toBe(11);
    expect((JSON.parse(badJson.stdout) as { ok: boolean }[])[0]!.ok).toBe(false);
  });
});

describe('a mesh with a token refuses strangers and bad input', () => {
  it('401 without the token, on HTTP sync routes and the WebSocket', async () => {
    const [m] = await fleet(['t0'], () => [], { token: TOKEN });
    await m!.start();
    for (const [method, path] of [['GET', '/sync/state'], ['GET', `/sync/events?since=${HLC_ZERO}`], ['POST', '/sync/events']] as const) {
      const r = await m!.api<{ error: { code: string } }>(method, path, method === 'POST' ? { events: [] } : undefined, { authorization: 'Bearer wrong-token-wrong-token' });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('CLARE_UNAUTHORIZED');
    }
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${m!.port}/api/v1/sync/ws`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });

  it('answers bad frames, unknown protocol versions and skewed clocks with coded errors, writing nothing', async () => {
    const [m] = await fleet(['t1'], () => [], { token: TOKEN });
    await m!.start();
    const before = await state(m!);
    const frames = async (send: string): Promise<{ msgs: { type: string; code?: string }[]; code: number }> => new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${m!.port}/api/v1/sync/ws`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const msgs: { type: string; code?: string }[] = [];
      ws.on('open', () => ws.send(send));
      ws.on('message', (d: Buffer) => msgs.push(JSON.parse(d.toString('utf8')) as { type: string }));
      ws.on('close', (code) => resolve({ msgs, code }));
      ws.on('error', reject);
    });
    const garbage = await frames('{not json');
    expect(garbage.msgs.find((x) => x.type === 'error')?.code).toBe('CLARE_PROTOCOL');
    const future = await frames(JSON.stringify({ type: 'hello', versions: [99] }));
    expect(future.msgs.find((x) => x.type === 'error')?.code).toBe('CLARE_PROTOCOL_VERSION');

    const skewed = {
      id: '01a20000-0000-7000-8000-000000000001', hlc: `${String(Date.now() + 3_600_000).padStart(15, '0')}:00000:4a8d2f10-1b2c-4d5e-8f90-a1b2c3d4e5f6`,
      origin: '4a8d2f10-1b2c-4d5e-8f90-a1b2c3d4e5f6', type: 'project.created', v: 1,
      payload: { project_id: newProjectId(), name: 'from the future', path: null, description: '', weight: 1 },
    };
    const r = await m!.api<{ error: { code: string; message: string } }>('POST', '/sync/events', { events: [skewed] });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('CLARE_HLC_SKEW');
    expect(r.body.error.message).toContain('4a8d2f10-1b2c-4d5e-8f90-a1b2c3d4e5f6');
    const malformed = await m!.api<{ error: { code: string } }>('POST', '/sync/events', { events: [{ ...skewed, hlc: 'yesterday' }] });
    expect(malformed.body.error.code).toBe('CLARE_BAD_EVENT');
    const after = await state(m!);
    expect(after.digest).toBe(before.digest);
    expect(after.event_count).toBe(before.event_count);
  });
});
