// Runs the fuzzers' regression tests that wait for fixes others are making
// (test/fuzz/waiting-for-fixes.waiting.ts): `npm run test:fuzz-waiting`.
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/fuzz/**/*.waiting.ts'] },
});
