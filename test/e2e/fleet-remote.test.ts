/**
 * Remote sessions through the mesh, with real daemons on loopback and real tmux
 * behind the rclaude stand-in: a line A–B–C (A and C each linked only to B), where
 * A peeks at and spawns a session on C through B; C offline is a coded error; and
 * `clare attach C:SESSION` on A hands a terminal to C's session through rclaude.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, freePort, machinePool, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';
import { capture, editConfig, listedSessions, rclaude, spawnSessions } from './fleet-helpers.js';

const TOKEN = 'remote-calls-token-0123456789';
const { machine, release } = machinePool();
afterAll(release);

interface PeerStatus { name: string | null; connected: boolean; protocol: number | null }
interface Screen { host: string; session: string; lines: number; text: string }

async function linkedTo(m: TestMachine, name: string): Promise<void> {
  await waitFor(`${m.name} linked to ${name}`, async () => (await m.api<{ peers: PeerStatus[] }>('GET', '/status')).body.peers.some((p) => p.name === name && p.connected && p.protocol === 3), 20_000);
}

/** tmux clients attached to a session of a machine's stand-in. */
function clients(m: TestMachine, session: string): string[] {
  const r = spawnSync('tmux', ['-f', '/dev/null', '-L', m.env['RCLAUDE_TMUX_SOCKET']!, 'list-clients', '-t', `=${session}`, '-F', '#{client_tty}'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').filter((l) => l !== '') : [];
}

describe('remote sessions along a line A–B–C', () => {
  let a: TestMachine;
  let b: TestMachine;
  let c: TestMachine;
  beforeAll(async () => {
    const [pa, pb, pc] = await Promise.all([freePort(), freePort(), freePort()]);
    const url = (p: number): string => `http://127.0.0.1:${p}`;
    b = await machine({ name: 'rb', port: pb, token: TOKEN });
    a = await machine({ name: 'ra', port: pa, token: TOKEN, peers: [url(pb)] });
    c = await machine({ name: 'rc', port: pc, token: TOKEN, peers: [url(pb)] });
    editConfig(c, 'poll_interval_s = 10', 'poll_interval_s = 1');
    spawnSessions(c, 'api-1');
    await b.start();
    await Promise.all([a.start(), c.start()]);
    await Promise.all([linkedTo(a, 'rb'), linkedTo(c, 'rb')]);
    // A sees C's session once its listing has replicated through B.
    await waitFor('rc:api-1 on ra', async () => (await listedSessions(a)).some((s) => s.key === 'rc:api-1'), 20_000);
  }, 90_000);

  it('A peeks at a session on C through B (CLI and API)', async () => {
    expect(rclaude(c, ['send', 'rc:api-1', 'hello from the test']).code).toBe(0);
    await waitFor('the agent answered', () => capture(c, 'api-1').includes('done: hello from the test'), 10_000);
    const r = a.cli(['peek', 'rc:api-1', '--lines', '20']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('done: hello from the test');
    const api = await a.api<Screen>('GET', '/sessions/rc/api-1/screen?lines=50');
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ host: 'rc', session: 'api-1', lines: 50 });
    expect(api.body.text).toContain('fake-agent api-1 ready');
    // The owner's own refusal comes back with its code.
    const nope = a.cli(['peek', 'rc:nope']);
    expect(nope.code).toBe(5);
    expect(nope.stderr).toContain('no session rc:nope');
  });

  it('A spawns a session on C; it runs on C and is listed on A', () => {
    const r = a.cli(['spawn', 'rc', '--name', 'web-1', '--cwd', c.dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`spawned rc:web-1 in ${c.dir} (idle)\n`);
    expect(capture(c, 'web-1')).toContain('fake-agent web-1 ready');
    // A name C already has is C's refusal, through the mesh.
    const again = a.cli(['spawn', 'rc', '--name', 'web-1', '--cwd', c.dir]);
    expect(again.code).toBe(10);
    expect(again.stderr).toContain('already exists');
  });

  it('`clare attach rc:api-1` on A hands a terminal to the session through rclaude', async () => {
    const env = { ...a.env, TERM: 'xterm', RCLAUDE_STANDIN_REMOTES: `rc=${c.env['RCLAUDE_TMUX_SOCKET']!}` };
    // script(1) gives the attach a terminal, as a person's shell would.
    const p = spawn('script', ['-qec', `${process.execPath} ${CLI} attach rc:api-1`, '/dev/null'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((res) => p.once('exit', (code) => res(code)));
    try {
      await waitFor('a client attached to rc:api-1', () => clients(c, 'api-1').length === 1, 15_000);
      // Detaching ends the attach, as Ctrl-b d would.
      spawnSync('tmux', ['-f', '/dev/null', '-L', c.env['RCLAUDE_TMUX_SOCKET']!, 'detach-client', '-s', '=api-1']);
      expect(await exited).toBe(0);
    } finally {
      p.kill('SIGKILL');
    }
    const bad = a.cli(['attach', 'rc:nope'], { RCLAUDE_STANDIN_REMOTES: `rc=${c.env['RCLAUDE_TMUX_SOCKET']!}` });
    expect(bad.code).not.toBe(0);
  });

  it('with C offline, A gets CLARE_HOST_UNREACHABLE (exit 11) at once', async () => {
    await c.stop();
    await waitFor('rb lost rc', async () => !(await b.api<{ peers: PeerStatus[] }>('GET', '/status')).body.peers.some((p) => p.name === 'rc' && p.connected), 20_000);
    const t0 = Date.now();
    const r = a.cli(['peek', 'rc:api-1', '--json']);
    expect(r.code).toBe(11);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'CLARE_HOST_UNREACHABLE' } });
    expect(r.stderr).toContain('no link from ra reaches host rc (asked rb)');
    expect(Date.now() - t0).toBeLessThan(10_000);
    const api = await a.api<{ error: { code: string } }>('POST', '/sessions', { host: 'rc', session: 'x-1', cwd: '/tmp' });
    expect(api.status).toBe(503);
    expect(api.body.error.code).toBe('CLARE_HOST_UNREACHABLE');
  });
});
