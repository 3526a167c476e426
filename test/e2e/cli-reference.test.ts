/** docs/cli.md is generated from the yargs definitions; this fails when it drifts from the CLI. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/daemon.js';
import { loadScaleNow, TIME_SCALE } from '../helpers/wait-for.js';

// The script runs `clare <verb> --help` for all 51 commands, six at a time: 8 s on a quiet
// machine, over two minutes one at a time beside the fault campaign. The deadline follows
// the load when this file is collected, which may be higher than when the suite started.
const SCALE = Math.max(TIME_SCALE, loadScaleNow());

describe('the CLI reference', () => {
  it('docs/cli.md is what scripts/cli-reference.mjs writes from the built CLI', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/cli-reference.mjs'), '--check'], { encoding: 'utf8', timeout: Math.round(140_000 * SCALE) });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/docs\/cli\.md is current \(\d+ commands\)/);
  }, Math.round(150_000 * SCALE));
});
