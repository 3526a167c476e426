/**
 * Dynamic completion through the built CLI and a real daemon: Tab after `task
 * done` offers the open tasks' short ids, after `broadcast` the groups; with no
 * daemon, or one that never answers, Tab still answers quickly with yargs' own
 * completions and prints no error.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machinePool, type TestMachine } from '../helpers/daemon.js';

const pool = machinePool();
let m: TestMachine;
let silent: Server;
let silentPort = 0;

beforeAll(async () => {
  m = await pool.machine({ name: 'tab' });
  await m.start();
  expect(m.cli(['project', 'add', 'web']).code).toBe(0);
  expect(m.cli(['group', 'add', 'ops', 'tab:*']).code).toBe(0);
  // A daemon address that accepts connections and never answers.
  silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const a = silent.address();
  silentPort = typeof a === 'object' && a !== null ? a.port : 0;
}, 60_000);
afterAll(async () => {
  silent.close();
  await pool.release();
});

const tab = (words: string[], env: NodeJS.ProcessEnv = {}) => m.cli(['--get-yargs-completions', 'clare', ...words], env);

describe('clare completion', () => {
  it('offers the open tasks\' short ids and the groups the daemon knows', () => {
    const t = m.cliJson<{ id: string }>(['task', 'add', 'web', 'Fix the login', '--json']);
    const r = tab(['task', 'done', '']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain(t.id.slice(-8));
    expect(tab(['broadcast', 'o']).stdout.trim()).toBe('ops');
  });

  it('prints yargs\' completions and no error when no daemon answers, within the deadline', () => {
    for (const url of ['http://127.0.0.1:1', `http://127.0.0.1:${silentPort}`]) {
      const t0 = Date.now();
      const r = tab(['task', 'done', ''], { CLARE_URL: url });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('--note');
      expect(Date.now() - t0).toBeLessThan(10_000);
    }
  });
});
