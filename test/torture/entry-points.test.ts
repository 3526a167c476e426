/**
 * The documented commands `npm run torture` and `npm run soak` run their entry
 * through tools/torture/run-ts.mjs, which bundles it with esbuild. A module that
 * decides "am I the main script?" from import.meta once took the bundle for itself
 * and exited before the campaign began; these run the real entry points as the
 * npm scripts do.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function runEntry(entry: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['tools/torture/run-ts.mjs', entry, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('campaign entry points, bundled as npm runs them', () => {
  it('npm run torture -- --help prints its usage and exits 0', () => {
    const r = runEntry('tools/torture/main.ts', ['--seed', '7', '--help']);
    expect(r.err).toBe('');
    expect(r.out).toContain('npm run torture -- [--duration 60] [--seed N]');
    expect(r.code).toBe(0);
  }, 150_000);

  it('npm run soak -- --help prints its usage and exits 0', () => {
    const r = runEntry('tools/soak/main.ts', ['--minutes', '1', '--help']);
    expect(r.err).toBe('');
    expect(r.out).toContain('npm run soak');
    expect(r.code).toBe(0);
  }, 150_000);

  it('the release builder, bundled into an entry, still finds the checkout (the old-version fault needs its git history)', () => {
    const r = runEntry('test/torture/print-release-root.ts', []);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toEqual({ root: ROOT });
    expect(r.code).toBe(0);
  }, 150_000);
});
