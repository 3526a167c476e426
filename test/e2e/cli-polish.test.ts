/**
 * The built CLI's small manners (issue 11): --version from any folder, help for
 * `completion --help` instead of the script, friendly messages for bad numbers.
 * No daemon needed: all of these are answered before any request.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/daemon.js';

const elsewhere = mkdtempSync(join(tmpdir(), 'clare-cli-polish-'));
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

function clare(...args: string[]): { code: number; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: elsewhere, XDG_CONFIG_HOME: join(elsewhere, 'config'), XDG_DATA_HOME: join(elsewhere, 'data') };
  delete env['CLARE_URL'];
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: elsewhere, env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('the CLI', () => {
  it('prints its version from a folder outside the checkout', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const r = clare('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('answers completion --help with help, not the script', () => {
    const r = clare('completion', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Print a shell completion script');
    expect(r.stdout).not.toContain('COMPREPLY');
  });

  it('names the flag and what it takes for a bad number, with exit 2', () => {
    const r = clare('task', 'add', 'api', 'Fix it', '--priority', 'high');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--priority is a whole number from 0 (most urgent) to 4; got "high"');
    const w = clare('project', 'add', 'api', '--weight', 'lots');
    expect(w.code).toBe(2);
    expect(w.stderr).toContain('--weight is a number from 0.1 to 10');
  });
});
