/**
 * The bind check resolves `[server] host` before listening. A name that looks like
 * loopback (`127.mesh.lan`) but resolves to a mesh address used to pass as loopback
 * and serve the API there without a token. The names are made to resolve in a
 * private mount namespace whose /etc/hosts is a bind-mounted copy (needs root; the
 * machine's own /etc/hosts is never touched); the IP-literal case needs nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, machinePool } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const ROOT = process.getuid?.() === 0;
const SKIP_REASON = 'SKIPPED: needs root (unshare --mount) to give a name an address without touching /etc/hosts';
if (!ROOT) console.warn(`test/e2e/bind-check.test.ts: ${SKIP_REASON}`);
const { machine, release } = machinePool();
afterAll(release);

/** The command line that runs `clare serve` with `hosts` as /etc/hosts (private mount namespace; no fork, so a signal reaches the daemon). */
function withHosts(hostsFile: string): [string, string[]] {
  return ['unshare', ['--mount', 'sh', '-c', `mount --bind "$0" /etc/hosts && exec "$1" "$2" serve`, hostsFile, process.execPath, CLI]];
}

describe('an IP literal', () => {
  it('that is not loopback is refused without a token, naming the rule', async () => {
    const m = await machine({ name: 'desk', bind: '198.18.0.1' });
    const r = m.cli(['serve']);
    expect(r.code).toBe(12);
    expect(r.stderr).toContain('refusing to listen on 198.18.0.1 without a mesh token');
  });
});

describe.skipIf(!ROOT)(ROOT ? 'a name' : `a name (${SKIP_REASON})`, () => {
  it('that resolves to a non-loopback address is refused without a token, naming the address', async () => {
    const m = await machine({ name: 'desk', bind: '127.mesh.lan' });
    const hosts = join(m.dir, 'hosts');
    writeFileSync(hosts, `${readFileSync('/etc/hosts', 'utf8')}\n198.18.0.5 127.mesh.lan\n`);
    const [cmd, args] = withHosts(hosts);
    const r = spawnSync(cmd, args, { env: m.env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(12);
    expect(r.stderr).toContain('refusing to listen on 127.mesh.lan (198.18.0.5) without a mesh token');
  });

  it('that resolves to loopback only is served, at that address', async () => {
    const m = await machine({ name: 'desk', bind: 'desk.loop.test' });
    const hosts = join(m.dir, 'hosts');
    writeFileSync(hosts, `${readFileSync('/etc/hosts', 'utf8')}\n127.0.0.1 desk.loop.test\n`);
    const [cmd, args] = withHosts(hosts);
    const child = spawn(cmd, args, { env: m.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    try {
      await waitFor('the daemon on desk.loop.test', async () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`);
        return (await fetch(`http://127.0.0.1:${m.port}/api/v1/status`).catch(() => null))?.status === 200;
      }, 20_000);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    }
  });
});
