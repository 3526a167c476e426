import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { loadScaleNow } from './test/helpers/wait-for.js';

// Deadlines stretch on a loaded machine (two cores shared by a team, a busy core beside
// the suite): by CLARE_TEST_TIME_SCALE when set, else by the load per core at start,
// between 1 and 4. test/helpers/wait-for.ts applies the same factor to every waitFor.
const scale = Number(process.env.CLARE_TEST_TIME_SCALE ?? '') || loadScaleNow();

/**
 * The longest files first, so the two workers end together: vitest's own order (by the
 * last run's durations, or by file size on a fresh clone) put the fault campaign, a
 * small file that runs five minutes, last — a five-minute tail with one worker idle.
 */
const FIRST: readonly RegExp[] = [/\/test\/torture\/torture-short\.test\.ts$/, /\/test\/e2e\//, /\/test\/fuzz\//, /\/test\/integration\//];
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = FIRST.findIndex((re) => re.test(f.moduleId));
      return i === -1 ? FIRST.length : i;
    };
    // Array.prototype.sort is stable: within a rank, vitest's order stands.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: Math.round(30_000 * scale),
    hookTimeout: Math.round(60_000 * scale),
    // Real daemons, tmux and SQLite files: keep parallelism modest on a 2-core machine.
    maxWorkers: 2,
    reporters: ['default'],
    sequence: { sequencer: LongestFirst },
    env: {
      // Every API answer is checked against its route's response schema (src/server/route.ts).
      CLARE_CHECK_RESPONSES: '1',
      CLARE_TEST_TIME_SCALE: scale.toFixed(2),
    },
  },
});
