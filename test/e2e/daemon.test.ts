/** `clare serve`: refusals before listening, the one-time [groups] import, clean SIGTERM. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, machinePool, type TestMachine } from '../helpers/daemon.js';

const { machine, release } = machinePool();
afterEach(release);

function serve(m: TestMachine): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'serve'], { env: m.env, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stderr: r.stderr };
}

describe('clare serve refuses to start', () => {
  it('on a non-loopback address without a mesh token', async () => {
    const m = await machine({ name: 'open' });
    writeFileSync(m.configFile, readFileSync(m.configFile, 'utf8').replace('host = "127.0.0.1"', 'host = "0.0.0.0"'));
    const r = serve(m);
    expect(r.code).toBe(12);
    expect(r.stderr).toContain('refusing to listen on 0.0.0.0 without a mesh token');
  });

  it('when the port is taken', async () => {
    const m = await machine({ name: 'busy' });
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(m.port, '127.0.0.1', res));
    try {
      const r = serve(m);
      expect(r.code).toBe(12);
      expect(r.stderr).toContain(`port ${m.port} on 127.0.0.1 is taken`);
    } finally {
      await new Promise((res) => blocker.close(res));
    }
  });

  it('with a broken config, naming file and line', async () => {
    const m = await machine({ name: 'broken' });
    writeFileSync(m.configFile, readFileSync(m.configFile, 'utf8').replace('port = ', 'port = "eighty" #'));
    const r = serve(m);
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(new RegExp(`${m.configFile}:\\d+: key server.port`));
  });

  it('without rclaude on PATH, saying what it is and how to point at it', async () => {
    const m = await machine({ name: 'bare', rclaude: false });
    const r = serve(m);
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('rclaude is not on PATH');
    expect(r.stderr).toContain('CLARE_RCLAUDE');
    expect(r.stderr).toContain('[rclaude] path');
  });
});

describe('a running daemon', () => {
  it('imports the first version\'s [groups] once, leaving the file alone, and stops cleanly on SIGTERM', async () => {
    const m = await machine({ name: 'legacy', extraToml: '[groups]\napi = ["legacy:api-*"]\nall = ["*:*"]' });
    const before = readFileSync(m.configFile, 'utf8');
    await m.start();
    const groups = await m.api<{ items: { name: string; members: string[] }[] }>('GET', '/groups');
    expect(groups.body.items).toEqual([{ name: 'all', members: ['*:*'], archived: false }, { name: 'api', members: ['legacy:api-*'], archived: false }]);
    expect(m.log()).toContain('imported groups from the [groups] table');
    // Removed by a person; a restart must not bring it back.
    await m.api('DELETE', '/groups/api');
    expect(await m.stop()).toBe(0);
    expect(m.log()).toContain('daemon stopped');
    await m.start();
    expect((await m.api<{ items: { name: string }[] }>('GET', '/groups')).body.items.map((g) => g.name)).toEqual(['all']);
    expect(m.log()).not.toContain('imported groups');
    expect(readFileSync(m.configFile, 'utf8')).toBe(before);
  });

  it('adds and removes peers in clare.toml without a restart', async () => {
    const m = await machine({ name: 'peers' });
    await m.start();
    const add = m.cli(['peer', 'add', 'http://127.0.0.1:1/']);
    expect(add.stdout).toContain('added peer http://127.0.0.1:1');
    expect(readFileSync(m.configFile, 'utf8')).toContain('peers = ["http://127.0.0.1:1"]');
    expect(m.cliJson<{ url: string }[]>(['peer', 'list']).map((p) => p.url)).toEqual(['http://127.0.0.1:1']);
    expect(m.cli(['peer', 'remove', 'http://127.0.0.1:1']).code).toBe(0);
    expect(readFileSync(m.configFile, 'utf8')).toContain('peers = []');
  });
});
