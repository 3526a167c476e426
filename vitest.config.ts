import { defineConfig } from 'vitest/config';
import { loadScaleNow } from './test/helpers/wait-for.js';

// Deadlines stretch on a loaded machine (two cores shared by a team, a busy core beside
// the suite): by CLARE_TEST_TIME_SCALE when set, else by the load per core at start,
// between 1 and 4. test/helpers/wait-for.ts applies the same factor to every waitFor.
const scale = Number(process.env.CLARE_TEST_TIME_SCALE ?? '') || loadScaleNow();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: Math.round(30_000 * scale),
    hookTimeout: Math.round(60_000 * scale),
    // Real daemons, tmux and SQLite files: keep parallelism modest on a 2-core machine.
    maxWorkers: 2,
    reporters: ['default'],
    env: {
      // Every API answer is checked against its route's response schema (src/server/route.ts).
      CLARE_CHECK_RESPONSES: '1',
      CLARE_TEST_TIME_SCALE: scale.toFixed(2),
    },
  },
});
