// `clare init --mesh` writes a random 32-byte token (base64url) into clare.toml —
// never printing it — keeps an existing one, and adds one to a config made without.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { CLI } from '../helpers/daemon.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function home(): { env: NodeJS.ProcessEnv; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'clare-init-'));
  dirs.push(dir);
  return { env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data') }, file: join(dir, 'config', 'clare', 'clare.toml') };
}

const clare = (env: NodeJS.ProcessEnv, args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

describe('clare init --mesh', () => {
  it('writes a fresh random token into a new config, without printing it', () => {
    const a = home();
    const r = clare(a.env, ['init', '--name', 'desk', '--mesh']);
    expect(r.code, r.stderr).toBe(0);
    const token = loadConfig(a.file).mesh.token!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stdout).toContain('[mesh] token');
    const b = home();
    expect(clare(b.env, ['init', '--name', 'desk', '--mesh']).code).toBe(0);
    expect(loadConfig(b.file).mesh.token).not.toBe(token);
  });

  it('keeps an existing token, and adds one to a config made without', () => {
    const a = home();
    expect(clare(a.env, ['init', '--name', 'desk']).code).toBe(0);
    expect(loadConfig(a.file).mesh.token).toBeUndefined();
    const machineId = loadConfig(a.file).machine_id;
    const added = clare(a.env, ['init', '--mesh', '--json']);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ created: false, mesh_token: 'written', machine_id: machineId });
    const token = loadConfig(a.file).mesh.token;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = clare(a.env, ['init', '--mesh', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ mesh_token: 'kept' });
    expect(loadConfig(a.file).mesh.token).toBe(token);
    expect(readFileSync(a.file, 'utf8').match(/^token = /gm)).toHaveLength(1);
  });
});
