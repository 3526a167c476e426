/**
 * A [groups] table edited after its one-time import does nothing; the daemon says
 * so once in its log at start (issue 11), as `clare doctor` does (doctor.test.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { machinePool } from '../helpers/daemon.js';

const pool = machinePool();
afterAll(() => pool.release());

const warnings = (log: string): string[] => log.split('\n').filter((l) => l.includes('[groups] in clare.toml differs'));

describe('the [groups] drift warning', () => {
  it('is not logged after the import, and is logged once at the next start after an edit', async () => {
    const m = await pool.machine({ name: 'grp', extraToml: '[groups]\nops = ["grp:*"]' });
    await m.start();
    expect(warnings(m.log())).toEqual([]);
    await m.stop();
    writeFileSync(m.configFile, readFileSync(m.configFile, 'utf8').replace('ops = ["grp:*"]', 'ops = ["grp:*", "nas:*"]'));
    await m.start();
    const lines = warnings(m.log());
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '{}') as { level?: unknown; drift?: unknown };
    expect(line.drift).toEqual(['ops: clare.toml has grp:* nas:*, the mesh has grp:*']);
    expect(String(line.level)).toMatch(/warn|40/);
  }, 90_000);
});
