/**
 * Test hosts in network namespaces joined by real WireGuard (wireguard-go), for
 * mesh tests. Underlay: veths on a bridge, 198.18.N.0/24. Overlay: a wg interface in each
 * namespace, 198.19.N.0/24 — both in 198.18.0.0/15, the range reserved for network
 * testing. N is drawn per mesh, so meshes of concurrent test runs (several checkouts
 * on one machine) never put the same address on two bridges. Needs root (CI and the dev machines run as root); `meshSupport()` says why not otherwise.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MeshHost {
  readonly name: string;
  readonly ns: string;
  /** Underlay address (reachable from the test process through the bridge). */
  readonly underlay: string;
  /** WireGuard overlay address. */
  readonly overlay: string;
  /** Name of its WireGuard interface. */
  readonly wg: string;
  /** Runs a command inside the namespace. */
  exec(cmd: string, args: readonly string[]): string;
}

export interface Mesh {
  readonly hosts: readonly MeshHost[];
  /** Cuts (or restores) the underlay link of a host: WireGuard packets stop flowing. */
  setLink(host: MeshHost, up: boolean): void;
  teardown(): void;
}

function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Null when namespaces + wireguard-go can be used here, else the reason. */
export function meshSupport(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  for (const bin of ['ip', 'wg', 'wireguard-go']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed (bash scripts/install-system-deps.sh)`;
  }
  return null;
}

/**
 * Builds `count` hosts, each with WireGuard peers to every other host (so the
 * overlay is a full mesh at the IP level; which daemons talk is up to their config).
 */
export function createMesh(count: number): Mesh {
  const tag = `c${(process.pid % 10000).toString(36)}${Math.floor(Math.random() * 36 * 36).toString(36)}`;
  const bridge = `${tag}br`;
  // One /24 per mesh (1..250): the bridge address lives in the root namespace, shared by every run.
  const net = 1 + Math.floor(Math.random() * 250);
  const dir = mkdtempSync(join(tmpdir(), 'clare-wg-'));
  const wgProcs: ChildProcess[] = [];
  const hosts: MeshHost[] = [];
  const teardown = (): void => {
    // SIGTERM lets wireguard-go remove its control socket; the namespace goes after.
    for (const p of wgProcs) if (p.exitCode === null) p.kill('SIGTERM');
    for (const h of hosts) {
      spawnSync('ip', ['netns', 'del', h.ns]);
      rmSync(`/var/run/wireguard/${h.wg}.sock`, { force: true });
    }
    spawnSync('ip', ['link', 'del', bridge]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `198.18.${net}.254/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);
    const keys: { priv: string; pub: string }[] = [];
    for (let i = 0; i < count; i++) {
      const name = `h${i}`;
      const ns = `${tag}${name}`;
      const underlay = `198.18.${net}.${i + 1}`;
      const overlay = `198.19.${net}.${i + 1}`;
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['link', 'add', `${tag}v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh('ip', ['link', 'set', `${tag}v${i}`, 'master', bridge, 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      sh('ip', ['-n', ns, 'addr', 'add', `${underlay}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      const priv = sh('wg', ['genkey']).trim();
      const pub = execFileSync('wg', ['pubkey'], { input: priv, encoding: 'utf8' }).trim();
      keys.push({ priv, pub });
      // Foreground wireguard-go (-f) so the test owns the process and kills it. Its
      // control socket lives in /var/run/wireguard, shared by all namespaces: unique names.
      const p = spawn('ip', ['netns', 'exec', ns, 'wireguard-go', '-f', `${tag}w${i}`], {
        env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1', LOG_LEVEL: 'error' }, stdio: 'ignore',
      });
      wgProcs.push(p);
      hosts.push({ name, ns, underlay, overlay, wg: `${tag}w${i}`, exec: (cmd, args) => sh('ip', ['netns', 'exec', ns, cmd, ...args]) });
    }
    for (let i = 0; i < count; i++) {
      const h = hosts[i]!;
      const end = Date.now() + 5000;
      while (spawnSync('ip', ['-n', h.ns, 'link', 'show', h.wg]).status !== 0) {
        if (Date.now() > end) throw new Error(`wireguard-go did not create ${h.wg} in ${h.ns}`);
        spawnSync('sleep', ['0.05']);
      }
      const keyFile = join(dir, `${h.name}.key`);
      writeFileSync(keyFile, `${keys[i]!.priv}\n`, { mode: 0o600 });
      const args = ['set', h.wg, 'private-key', keyFile, 'listen-port', '51820'];
      for (let j = 0; j < count; j++) {
        if (j === i) continue;
        args.push('peer', keys[j]!.pub, 'endpoint', `${hosts[j]!.underlay}:51820`, 'allowed-ips', `${hosts[j]!.overlay}/32`, 'persistent-keepalive', '1');
      }
      h.exec('wg', args);
      h.exec('ip', ['addr', 'add', `${h.overlay}/24`, 'dev', h.wg]);
      h.exec('ip', ['link', 'set', h.wg, 'up']);
    }
  } catch (e) {
    teardown();
    throw e;
  }
  return {
    hosts,
    setLink(host, up) {
      const i = hosts.indexOf(host);
      sh('ip', ['link', 'set', `${tag}v${i}`, up ? 'up' : 'down']);
    },
    teardown,
  };
}
