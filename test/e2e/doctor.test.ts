/**
 * `clare doctor` against real daemons: a healthy mesh, and one broken in the ways
 * people break meshes. The outputs are written to test-output/ (the report quotes them).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, machinePool, ROOT, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const TOKEN = 'doctor-test-token-0123456789abcdef0123';
const pool = machinePool();
afterEach(() => pool.release());

interface Report { healthy: boolean; checks: { id: string; level: string; detail: string; fix: string | null }[] }

function keep(name: string, text: string): void {
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
  writeFileSync(join(ROOT, 'test-output', name), text);
}

function doctor(m: TestMachine): { code: number; report: Report; text: string } {
  const j = m.cli(['doctor', '--json']);
  const t = m.cli(['doctor']);
  return { code: j.code, report: JSON.parse(j.stdout) as Report, text: `$ clare doctor   (exit ${t.code})\n${t.stdout}${t.stderr}` };
}

const check = (r: Report, id: string) => r.checks.find((c) => c.id === id);

async function linked(m: TestMachine, n: number): Promise<void> {
  await waitFor(`${m.name} to have ${n} link(s) up`, async () => (await m.api<{ peers: { connected: boolean }[] }>('GET', '/status')).body.peers.filter((p) => p.connected).length >= n, 20_000);
}

describe('clare doctor', () => {
  it('says healthy for a healthy mesh, and exits 0', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await pool.machine({ name: 'desk', port: pa, token: TOKEN, peers: [`http://127.0.0.1:${pb}`] });
    const b = await pool.machine({ name: 'laptop', port: pb, token: TOKEN, peers: [`http://127.0.0.1:${pa}`] });
    await b.start();
    await a.start();
    await linked(a, 1);
    const d = doctor(a);
    keep('doctor-healthy.txt', d.text);
    expect(d.code, d.text).toBe(0);
    expect(d.report.healthy).toBe(true);
    expect(d.report.checks.filter((c) => c.level !== 'ok'), d.text).toEqual([]);
    expect(check(d.report, `peer http://127.0.0.1:${pb}`)?.detail).toMatch(/laptop .* token accepted; link up since .*; protocol \d+; clock offset -?\d+ ms; lag: it lacks \d+, we lack \d+/);
    expect(check(d.report, 'rclaude')?.detail).toMatch(/lists \d+ session\(s\) on desk/);
    expect(check(d.report, 'database')?.detail).toMatch(/integrity ok, schema \d+/);
    expect(d.text).toMatch(/\nhealthy\n/);
  });

  it('names each problem of a broken mesh with what to do, and exits 13', async () => {
    const ports = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
    const url = (i: number): string => `http://127.0.0.1:${ports[i]}`;
    const short = 'short-token-0123456';
    const a = await pool.machine({ name: 'desk', port: ports[0]!, token: short, peers: [url(1), url(2), url(3), url(4)], extraToml: '[groups]\nops = ["desk:*"]' });
    const down = await pool.machine({ name: 'build', port: ports[1]!, token: short });
    const wrong = await pool.machine({ name: 'laptop', port: ports[2]!, token: 'a-different-token-0123456789' });
    const clone = await pool.machine({ name: 'desk-copy', port: ports[3]!, token: short });
    const good = await pool.machine({ name: 'nas', port: ports[4]!, token: short });
    // The clone: desk's clare.toml copied to another machine, port changed.
    const deskId = /^machine_id = "([^"]+)"/m.exec(readFileSync(a.configFile, 'utf8'))![1]!;
    writeFileSync(clone.configFile, readFileSync(clone.configFile, 'utf8').replace(/^machine_id = "[^"]+"/m, `machine_id = "${deskId}"`));
    void down; // configured as a peer, never started
    await Promise.all([wrong.start(), clone.start(), good.start()]);
    await a.start();
    await linked(a, 1);
    // [groups] edited after the one-time import: the edit does nothing, and doctor says so.
    writeFileSync(a.configFile, readFileSync(a.configFile, 'utf8').replace('ops = ["desk:*"]', 'ops = ["desk:*", "nas:*"]'));

    const d = doctor(a);
    keep('doctor-broken.txt', d.text);
    expect(d.code, d.text).toBe(13);
    expect(d.report.healthy).toBe(false);
    expect(check(d.report, 'token')).toMatchObject({ level: 'warn' });
    expect(check(d.report, 'token')?.detail).toMatch(/19 characters, shorter than 32/);
    expect(check(d.report, `peer ${url(1)}`)).toMatchObject({ level: 'fail' });
    expect(check(d.report, `peer ${url(1)}`)?.detail).toMatch(/unreachable/);
    expect(check(d.report, `peer ${url(2)}`)?.detail).toMatch(/refuses our mesh token/);
    expect(check(d.report, `peer ${url(3)}`)?.detail).toMatch(/this machine's own id/);
    expect(check(d.report, 'machine-ids')).toMatchObject({ level: 'fail' });
    expect(check(d.report, 'machine-ids')?.fix).toMatch(/clare init/);
    expect(check(d.report, `peer ${url(4)}`)).toMatchObject({ level: 'ok' });
    expect(check(d.report, 'groups')).toMatchObject({ level: 'warn' });
    expect(check(d.report, 'groups')?.detail).toMatch(/ops: clare\.toml has desk:\* nas:\*, the mesh has desk:\*/);
    for (const c of d.report.checks) if (c.level === 'fail' || c.level === 'warn') expect(c.fix, c.id).toBeTruthy();

    // No daemon, no rclaude: both are failures with their fix.
    await a.stop();
    const bare = a.cli(['doctor', '--json'], { PATH: (a.env['PATH'] ?? '').split(':').filter((p) => !p.endsWith('fixtures/rclaude')).join(':') });
    const r = JSON.parse(bare.stdout) as Report;
    expect(bare.code).toBe(13);
    expect(check(r, 'daemon')?.detail).toMatch(/no daemon answers/);
    expect(check(r, 'rclaude')?.fix).toMatch(/install rclaude/);
  });
});
