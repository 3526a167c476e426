/**
 * Bugs the fuzzers found, each as a plain test with its minimal counterexample,
 * once its fix is on this branch. Bugs whose fix is still being made by others
 * wait in waiting-for-fixes.waiting.ts (run with `npm run test:fuzz-waiting`).
 */
import { describe, expect, it } from 'vitest';
import { parseSessionListing } from '../../src/core/fleet/rclaude.js';
import { thrownCoded } from './invariants.js';


describe('regressions found by fuzzing', () => {
  it('rclaude listing: a huge bad cell gives a bounded error message (it was quoted whole, 6 characters per NUL)', () => {
    const header = 'host\tsession\tcwd\tstate\tlast_activity';
    for (const column of [0, 1, 3, 4]) {
      const cells = ['desk', 'api', '/srv', 'idle', '2025-01-01T00:00:00Z'];
      cells[column] = '\u0000'.repeat(100_000);
      const e = thrownCoded(() => parseSessionListing(`${header}\n${cells.join('\t')}\n`, 'desk'));
      expect(e.code).toBe('CLARE_RCLAUDE_OUTPUT');
      expect(e.message.length).toBeLessThan(4000);
    }
    const dupHeader = `host\tsession\tcwd\tstate\tlast_activity\t${'x'.repeat(50_000)}\t${'x'.repeat(50_000)}`;
    const e = thrownCoded(() => parseSessionListing(`${dupHeader}\n`, 'desk'));
    expect(e.message.length).toBeLessThan(4000);
  });
});
