import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { loadScaleNow } from './test/helpers/wait-for.js';

// Deadlines stretch on a loaded machine (two cores shared by a team, a busy core beside
// the suite): by CLARE_TEST_TIME_SCALE when set, else by the load per core at start,
// between 1 and 4. test/helpers/wait-for.ts applies the same factor to every waitFor.
const scale = Number(process.env.CLARE_TEST_TIME_SCALE ?? '') || loadScaleNow();

/**
 * The order files run in: e2e first, then fuzz and integration, then the fault
 * campaign beside the unit tests. vitest's own order (the last run's durations, or file
 * size on a fresh clone) put the campaign's six daemons wherever it liked; run first it
 * shared two cores with the browser and mesh tests, and three delivery tests beside it
 * missed their deadlines (the load rose from 2 to 12 per core after the deadlines were
 * scaled). Beside the unit tests it has the machine nearly to itself.
 */
const ORDER: readonly RegExp[] = [/\/test\/e2e\//, /\/test\/fuzz\//, /\/test\/integration\//, /\/test\/torture\/torture-short\.test\.ts$/];
class HeavyFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = ORDER.findIndex((re) => re.test(f.moduleId));
      return i === -1 ? ORDER.length : i;
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
    sequence: { sequencer: HeavyFirst },
    env: {
      // Every API answer is checked against its route's response schema (src/server/route.ts).
      CLARE_CHECK_RESPONSES: '1',
      CLARE_TEST_TIME_SCALE: scale.toFixed(2),
    },
  },
});
