/**
 * The previous release, for the "peer restarted with the previous protocol
 * version" fault: the real code of a recorded commit, taken from git history with
 * `git archive` (nothing in the repository is touched), built against the
 * current node_modules, and cached under the temp dir by commit.
 *
 * Where the history is missing (a shallow clone), there is nothing to build: the
 * fault is skipped and the report says so loudly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './node.js';

/**
 * The last release that speaks only sync protocol 1 (before protocol 2). Change it
 * when a release ships, so the campaign always runs the release before this one.
 */
export const PREVIOUS_RELEASE = '6d8a3ef';

export interface PreviousRelease {
  readonly commit: string;
  /** The built CLI bundle, or null when it could not be had. */
  readonly cli: string | null;
  /** Why not, when `cli` is null. */
  readonly reason: string | null;
  readonly buildMs: number;
}

function git(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Points the cached build's node_modules at this checkout's: the cache outlives the
 * checkout that built it, whose link would dangle. Left alone when it already points
 * here, so a daemon running from the cache never sees it missing.
 */
function linkModules(dir: string): void {
  const link = join(dir, 'node_modules');
  const want = join(ROOT, 'node_modules');
  let have: string | null = null;
  try {
    if (lstatSync(link).isSymbolicLink()) have = readlinkSync(link);
  } catch {
    have = null;
  }
  if (have === want) return;
  if (have !== null) unlinkSync(link);
  symlinkSync(want, link, 'dir');
}

/** Builds (or finds in the cache) the previous release's `dist/cli/clare.js`. */
export function previousRelease(commit = PREVIOUS_RELEASE): PreviousRelease {
  const t0 = Date.now();
  const full = git(['rev-parse', '--verify', '--quiet', `${commit}^{commit}`]);
  if (full.code !== 0) {
    const shallow = git(['rev-parse', '--is-shallow-repository']).stdout.trim() === 'true';
    return { commit, cli: null, reason: `commit ${commit} is not in this checkout's history${shallow ? ' (a shallow clone: fetch with --unshallow)' : ''}`, buildMs: 0 };
  }
  const sha = full.stdout.trim();
  const dir = join(tmpdir(), `clare-torture-release-${sha.slice(0, 12)}`);
  const cli = join(dir, 'dist', 'cli', 'clare.js');
  if (existsSync(cli)) {
    linkModules(dir);
    return { commit: sha, cli, reason: null, buildMs: 0 };
  }
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const archive = spawnSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', ROOT, sha, work], { encoding: 'utf8', timeout: 120_000 });
  if (archive.status !== 0) return { commit: sha, cli: null, reason: `git archive ${sha} failed: ${archive.stderr}`, buildMs: Date.now() - t0 };
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  for (const step of [['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], ['scripts/build-cli.mjs'], ['scripts/build-ui.mjs']]) {
    const r = spawnSync(process.execPath, step, { cwd: work, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) {
      return { commit: sha, cli: null, reason: `building ${sha} failed at ${step.join(' ')}: ${(r.stdout + r.stderr).slice(0, 2000)}`, buildMs: Date.now() - t0 };
    }
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return { commit: sha, cli, reason: null, buildMs: Date.now() - t0 };
}
