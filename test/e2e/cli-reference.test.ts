/** docs/cli.md is generated from the yargs definitions; this fails when it drifts from the CLI. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/daemon.js';
import { TIME_SCALE } from '../helpers/wait-for.js';

describe('the CLI reference', () => {
  it('docs/cli.md is what scripts/cli-reference.mjs writes from the built CLI', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/cli-reference.mjs'), '--check'], { encoding: 'utf8', timeout: 140_000 * TIME_SCALE });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    // The script runs `clare <verb> --help` for every verb: beside the fault campaign at load 20
    // that took two minutes, so the test waits as long as the spawn may take.
  }, 150_000 * TIME_SCALE);
});
