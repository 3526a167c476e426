/**
 * The mesh over real WireGuard: three hosts in network namespaces, wireguard-go
 * tunnels between them, a daemon in each bound to all addresses with the mesh
 * token, peering over the overlay addresses. A host cut off the network writes on
 * its own and converges when its link comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMachine, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';
import { createMesh, meshSupport, type Mesh } from '../helpers/wg-mesh.js';

const TOKEN = 'wireguard-mesh-token-0123456789';
const PORT = 8765;
const unsupported = meshSupport();

let mesh: Mesh | null = null;
const machines: TestMachine[] = [];

beforeAll(async () => {
  if (unsupported !== null) return;
  mesh = createMesh(3);
  const names = ['desk', 'build', 'laptop'];
  for (const [i, h] of mesh.hosts.entries()) {
    // desk and build peer each other; the laptop knows only build (events relay through it).
    const peers = i === 2 ? [mesh.hosts[1]!] : mesh.hosts.filter((_, j) => j !== i && j !== 2);
    machines.push(await createMachine({
      name: names[i]!, port: PORT, netns: h.ns, bind: '0.0.0.0', reachAt: h.underlay, token: TOKEN,
      peers: peers.map((p) => `http://${p.overlay}:${PORT}`), env: { CLARE_LOG_LEVEL: 'info' },
    }));
  }
  await Promise.all(machines.map((m) => m.start()));
}, 60_000);

afterAll(async () => {
  await Promise.all(machines.map((m) => m.stop()));
  for (const m of machines) m.cleanup();
  mesh?.teardown();
});

async function digests(of: readonly TestMachine[] = machines): Promise<string[]> {
  return Promise.all(of.map(async (m) => (await m.api<{ digest: string }>('GET', '/sync/state')).body.digest));
}

describe.skipIf(unsupported !== null)(`mesh over WireGuard${unsupported === null ? '' : ` (skipped: ${unsupported})`}`, () => {
  it('converges across the tunnels, relaying the laptop through build', async () => {
    const [desk, , laptop] = machines;
    expect((await desk!.api('POST', '/projects', { name: 'from-desk' })).status).toBe(201);
    expect((await laptop!.api('POST', '/projects', { name: 'from-laptop' })).status).toBe(201);
    await waitFor('all three digests equal', async () => new Set(await digests()).size === 1, 30_000, 100);
    const names = (await desk!.api<{ items: { name: string }[] }>('GET', '/projects')).body.items.map((p) => p.name);
    expect(names).toEqual(['from-desk', 'from-laptop']);
    const peers = (await laptop!.api<{ peers: { name: string | null; connected: boolean }[] }>('GET', '/status')).body.peers;
    expect(peers.filter((p) => p.connected).map((p) => p.name)).toEqual(['build']);
  });

  it('a host cut off the network writes offline and reconciles when it is back', async () => {
    const [desk, build, laptop] = machines;
    mesh!.setLink(mesh!.hosts[2]!, false);
    // Only the laptop itself can reach its daemon now: the CLI inside its namespace.
    const offline = laptop!.cli(['project', 'add', 'written-offline']);
    expect(offline.code).toBe(0);
    await desk!.api('POST', '/projects', { name: 'written-meanwhile' });
    await waitFor('desk and build to agree', async () => {
      const [d, b] = await digests([desk!, build!]); // the laptop is unreachable now
      return d === b;
    }, 20_000, 100);
    const onBuild = (await build!.api<{ items: { name: string }[] }>('GET', '/projects')).body.items.map((p) => p.name);
    expect(onBuild).not.toContain('written-offline');
    mesh!.setLink(mesh!.hosts[2]!, true);
    await waitFor('all three digests equal again', async () => new Set(await digests()).size === 1, 60_000, 100);
    const onDesk = (await desk!.api<{ items: { name: string }[] }>('GET', '/projects')).body.items.map((p) => p.name);
    expect(onDesk).toEqual(expect.arrayContaining(['written-offline', 'written-meanwhile']));
  }, 90_000);
});
