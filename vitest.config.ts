import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real daemons, tmux and SQLite files: keep parallelism modest on a 2-core machine.
    maxWorkers: 2,
    reporters: ['default'],
    // Every API answer is checked against its route's response schema (src/server/route.ts).
    env: { CLARE_CHECK_RESPONSES: '1' },
  },
});
