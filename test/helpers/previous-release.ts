/**
 * The previous release of Clare, built from git, for rolling-upgrade tests: a
 * daemon of that release speaks only sync protocol 1. Built once per commit into
 * the temp dir (`git archive` of the commit, this checkout's node_modules linked
 * in, tsc + the CLI bundle) and reused; a build in progress elsewhere is waited for
 * by building into a private dir and renaming it into place.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './daemon.js';

/** The last commit whose Clare speaks only protocol 1 (before protocol 2, anti-entropy). */
export const PROTOCOL_1_RELEASE = '6d8a3effbee61739bb25c43a7c1264c4adf9e954';

/** Path of that release's `clare` bundle, building it first if needed. Throws, saying why, when it cannot. */
export function previousReleaseCli(commit: string = PROTOCOL_1_RELEASE): string {
  const dir = join(tmpdir(), `clare-release-${commit.slice(0, 12)}`);
  const cli = join(dir, 'dist/cli/clare.js');
  if (existsSync(cli)) return cli;
  const work = mkdtempSync(join(tmpdir(), `clare-release-build-`));
  try {
    try {
      const archive = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', commit], { maxBuffer: 256 * 1024 * 1024 });
      execFileSync('tar', ['-x', '-C', work], { input: archive });
    } catch (e) {
      throw new Error(`cannot check out the previous release ${commit} from git (a shallow clone? fetch it with \`git fetch --unshallow\`): ${(e as Error).message}`);
    }
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: work, stdio: 'pipe' });
    execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: work, stdio: 'pipe' });
    try {
      renameSync(work, dir);
    } catch {
      // Another run built it meanwhile: use theirs.
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!existsSync(cli)) throw new Error(`building the previous release ${commit} left no ${cli}`);
  return cli;
}
