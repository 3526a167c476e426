/** docs/cli.md is generated from the yargs definitions; this fails when it drifts from the CLI. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/daemon.js';

describe('the CLI reference', () => {
  it('docs/cli.md is what scripts/cli-reference.mjs writes from the built CLI', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/cli-reference.mjs'), '--check'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});
