/**
 * The previous release, for the "peer restarted with the previous protocol
 * version" fault: the real code of a recorded commit, built by the one release
 * builder (test/fixtures/previous-release/build-release.mjs: `git archive`, the
 * current node_modules, cached under the temp dir by commit).
 *
 * Where the history is missing (a shallow clone), there is nothing to build: the
 * fault is skipped and the report says so loudly.
 */
import { buildRelease, missingReason } from '../../test/fixtures/previous-release/build-release.mjs';

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

/** Builds (or finds in the cache) the previous release's `dist/cli/clare.js`. */
export function previousRelease(commit = PREVIOUS_RELEASE): PreviousRelease {
  const t0 = Date.now();
  try {
    const r = buildRelease(commit);
    if (r === null) return { commit, cli: null, reason: missingReason(commit), buildMs: 0 };
    return { commit: r.commit, cli: r.cli, reason: null, buildMs: Date.now() - t0 };
  } catch (e) {
    return { commit, cli: null, reason: e instanceof Error ? e.message.slice(0, 2000) : String(e), buildMs: Date.now() - t0 };
  }
}
