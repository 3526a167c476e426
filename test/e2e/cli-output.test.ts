/**
 * The built CLI's tables and colour against a real daemon (issue 11): colour only
 * on a terminal or with FORCE_COLOR, never with NO_COLOR, never in --json; tables
 * fit $COLUMNS with long titles cut by "…", wide characters and emoji counted as
 * two columns so the columns after them still line up.
 */
import stringWidth from 'string-width';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machinePool, type TestMachine } from '../helpers/daemon.js';

const pool = machinePool();
let m: TestMachine;
const NONE = { FORCE_COLOR: undefined, NO_COLOR: undefined, COLUMNS: undefined };
const ESC = '\u001b[';

beforeAll(async () => {
  m = await pool.machine({ name: 'out' });
  await m.start();
  expect(m.cli(['project', 'add', 'web']).code).toBe(0);
  for (const title of ['A plain title', 'ログイン画面の修正とテスト', 'Ship it 🚀👩‍💻 today', `A very long title ${'x'.repeat(80)}`]) {
    expect(m.cli(['task', 'add', 'web', title, '-p', '1'], NONE).code).toBe(0);
  }
}, 60_000);
afterAll(() => pool.release());

describe('clare task list', () => {
  it('prints no colour codes when piped, and none with --json even when forced', () => {
    expect(m.cli(['task', 'list'], NONE).stdout).not.toContain(ESC);
    expect(m.cli(['task', 'list', '--json'], { ...NONE, FORCE_COLOR: '1' }).stdout).not.toContain(ESC);
  });

  it('paints with FORCE_COLOR, and NO_COLOR wins over it', () => {
    expect(m.cli(['task', 'list'], { ...NONE, FORCE_COLOR: '1' }).stdout).toContain(`${ESC}1mID`);
    expect(m.cli(['task', 'list'], { ...NONE, FORCE_COLOR: '1', NO_COLOR: '1' }).stdout).not.toContain(ESC);
  });

  it('fits the width it is given, cutting long titles with … and counting wide characters right', () => {
    const r = m.cli(['task', 'list'], { ...NONE, COLUMNS: '60' });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(60);
    expect(r.stdout).toContain('…');
    // The SESSION column ("-") starts at the same display column on every row.
    const at = lines.slice(1).map((l) => stringWidth(l.slice(0, l.lastIndexOf(' -') + 1)));
    expect(new Set(at).size, lines.join('\n')).toBe(1);
  });

  it('does not fit piped output without a width to any terminal', () => {
    const lines = m.cli(['task', 'list'], NONE).stdout.trimEnd().split('\n');
    expect(Math.max(...lines.map((l) => stringWidth(l)))).toBeGreaterThan(90);
  });
});
