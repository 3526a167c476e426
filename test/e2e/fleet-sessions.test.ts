/**
 * Session discovery against real daemons and real tmux (through the rclaude
 * stand-in): events only on change, bad listings write nothing, rclaude failures
 * are coded errors, peek, and the start-up refusal when rclaude does not run.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, machinePool, type TestMachine } from '../helpers/daemon.js';
import type { ErrorBody } from '../../src/protocol/error-body.js';
import { waitFor } from '../helpers/wait-for.js';
import { capture, editConfig, eventCount, firstPullDone, listedSessions, rclaude, spawnSessions } from './fleet-helpers.js';

interface Pull { host: string; sessions: number; appeared: number; changed: number; gone: number }

const { machine, release } = machinePool();
afterAll(release);

function pullJson(m: TestMachine): { code: number; body: Pull | ErrorBody; stderr: string } {
  const r = m.cli(['pull', '--json']);
  return { code: r.code, body: JSON.parse(r.stdout) as Pull | ErrorBody, stderr: r.stderr };
}

describe('pulling sessions', () => {
  let m: TestMachine;
  beforeAll(async () => {
    m = await machine({ name: 'desk' });
    // Only explicit pulls in this test, so event counts are exact.
    editConfig(m, 'poll_interval_s = 10', 'poll_interval_s = 3600');
    await m.start();
    await firstPullDone(m);
  });

  it('appends events only for what changed: appeared, state changed, gone', async () => {
    spawnSessions(m, 'api-1', 'api-2');
    let p = pullJson(m);
    expect(p.body).toEqual({ host: 'desk', at: expect.any(String), sessions: 2, appeared: 2, changed: 0, gone: 0 });

    const before = await eventCount(m);
    p = pullJson(m);
    expect(p.body).toMatchObject({ sessions: 2, appeared: 0, changed: 0, gone: 0 });
    expect(await eventCount(m)).toBe(before);
    expect(m.cli(['pull']).stdout).toBe('desk: 2 sessions; no changes\n');

    // A question leaves the fake agent waiting for its human.
    expect(rclaude(m, ['send', 'desk:api-1', 'shall I proceed?']).code).toBe(0);
    await waitFor('api-1 waiting', () => /\tapi-1\t[^\t]*\twaiting\t/.test(rclaude(m, ['_claude-projects', '--sessions']).stdout), 5000);
    p = pullJson(m);
    expect(p.body).toMatchObject({ sessions: 2, appeared: 0, changed: 1, gone: 0 });
    expect(await eventCount(m)).toBe(before + 1);
    const sessions = await listedSessions(m);
    expect(sessions.map((s) => [s.session, s.state])).toEqual([['api-1', 'waiting'], ['api-2', 'idle']]);

    expect(rclaude(m, ['_kill', 'desk:api-2']).code).toBe(0);
    p = pullJson(m);
    expect(p.body).toMatchObject({ sessions: 1, appeared: 0, changed: 0, gone: 1 });
    expect(await eventCount(m)).toBe(before + 2);
    expect((await listedSessions(m)).map((s) => s.session)).toEqual(['api-1']);
    const all = await listedSessions(m, { gone: true });
    expect(all.find((s) => s.session === 'api-2')).toMatchObject({ gone: true, state: 'idle' });
    p = pullJson(m);
    expect(p.body).toMatchObject({ appeared: 0, changed: 0, gone: 0 });
    expect(await eventCount(m)).toBe(before + 2);

    // The same name again is a reappearance.
    spawnSessions(m, 'api-2');
    expect(pullJson(m).body).toMatchObject({ appeared: 1, gone: 0 });

    const status = m.cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/desk\s+api-1\s+waiting\s+\d+s\s+-/);
    expect(status.stdout).toContain('last pull');
  });

  it('peeks at a screen of this host, and says clearly when another host is out of reach', async () => {
    expect(rclaude(m, ['send', 'desk:api-1', 'print the plan']).code).toBe(0);
    await waitFor('the agent answered', () => capture(m, 'api-1').includes('done: print the plan'), 5000);
    const r = m.cli(['peek', 'desk:api-1', '--lines', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('done: print the plan');
    expect(r.stdout.trimEnd().split('\n').length).toBeLessThanOrEqual(3);
    const api = await m.api<{ host: string; session: string; lines: number; text: string }>('GET', '/sessions/desk/api-1/screen?lines=50');
    expect(api.body).toMatchObject({ host: 'desk', session: 'api-1', lines: 50 });
    expect(api.body.text).toContain('fake-agent api-1 ready');

    const other = m.cli(['peek', 'build:api-1']);
    expect(other.code).toBe(11);
    expect(other.stderr).toContain('no link from desk reaches host build');
    const unknown = m.cli(['peek', 'desk:nope']);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain('no session desk:nope');
  });

  it('spawns a session through the daemon and records it at once', () => {
    const r = m.cli(['spawn', 'desk', '--name', 'web-1', '--cwd', m.dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`spawned desk:web-1 in ${m.dir} (idle)\n`);
    expect(m.cli(['spawn', 'desk', '--name', 'web-1', '--cwd', m.dir]).stderr).toContain('already exists');
    expect(m.cli(['spawn', 'build', '--name', 'x', '--cwd', m.dir]).code).toBe(11);
  });
});

describe('bad rclaude output and failures write nothing', () => {
  let m: TestMachine;
  let before = 0;
  beforeAll(async () => {
    m = await machine({ name: 'faulty' });
    editConfig(m, 'poll_interval_s = 10', 'poll_interval_s = 3600');
    // The session exists before any pull: a listing that fails must not record it either.
    spawnSessions(m, 'good-1');
    m.env['RCLAUDE_STANDIN_FAULT_VERBS'] = '_claude-projects';
  });

  async function restartWith(fault: string, extra: NodeJS.ProcessEnv = {}): Promise<void> {
    await m.stop();
    m.env['RCLAUDE_STANDIN_FAULT'] = fault;
    Object.assign(m.env, extra);
    await m.start();
    await firstPullDone(m);
    if (before === 0) before = await eventCount(m);
  }

  it.each([
    ['garbage', '"<<< this is not the tab-separated output you were looking for >>>"'],
    ['bad-state', 'state "confused" is not one of working, waiting, idle, exited'],
    ['bad-date', 'last_activity "2026-13-45T25:61:00.000Z" is not an ISO-8601 instant'],
    ['missing-column', 'the header lacks the column last_activity'],
  ])('%s: CLARE_RCLAUDE_OUTPUT quoting the line, exit 10, nothing recorded', async (fault, quoted) => {
    await restartWith(fault);
    const p = pullJson(m);
    expect(p.code).toBe(10);
    const err = (p.body as ErrorBody).error;
    expect(err.code).toBe('CLARE_RCLAUDE_OUTPUT');
    expect(err.message).toContain(quoted);
    expect(err.message).toContain('nothing was recorded');
    expect(p.stderr).toContain(quoted);
    expect(await eventCount(m)).toBe(before);
    expect(await listedSessions(m, { gone: true })).toEqual([]);
    const st = (await m.api<{ fleet: { last_error: { code: string } | null } }>('GET', '/status')).body.fleet;
    expect(st.last_error?.code).toBe('CLARE_RCLAUDE_OUTPUT');
    expect(m.cli(['status']).stdout).toContain('session pulls are failing (CLARE_RCLAUDE_OUTPUT');
  });

  it('fail: CLARE_RCLAUDE_FAILED with the exit code and stderr', async () => {
    await restartWith('fail');
    const p = pullJson(m);
    expect(p.code).toBe(10);
    expect((p.body as ErrorBody).error.code).toBe('CLARE_RCLAUDE_FAILED');
    expect((p.body as ErrorBody).error.message).toContain('exited with code 3');
    expect((p.body as ErrorBody).error.message).toContain('injected failure for _claude-projects');
    expect(await eventCount(m)).toBe(before);
  });

  it('extra-column is valid output: accepted, and the session recorded', async () => {
    await restartWith('extra-column');
    const p = pullJson(m);
    expect(p.code).toBe(0);
    // The start-up pull may already have recorded it.
    expect(p.body).toMatchObject({ sessions: 1, changed: 0, gone: 0 });
    expect((await listedSessions(m)).map((s) => s.key)).toEqual(['faulty:good-1']);
    expect(await eventCount(m)).toBe(before + 1);
    before += 1;
    const st = (await m.api<{ fleet: { last_error: unknown; last_pull: { sessions: number } } }>('GET', '/status')).body.fleet;
    expect(st.last_error).toBeNull();
  });

  it('slow: a timeout is CLARE_RCLAUDE_FAILED, nothing recorded', async () => {
    // Last in this block: a short timeout only here, so the other listings never race it.
    editConfig(m, 'timeout_ms = 10000', 'timeout_ms = 1500');
    await restartWith('slow', { RCLAUDE_STANDIN_SLOW_MS: '5000' });
    const p = pullJson(m);
    expect((p.body as ErrorBody).error.code).toBe('CLARE_RCLAUDE_FAILED');
    expect((p.body as ErrorBody).error.message).toContain('timed out after 1500 ms');
    expect(await eventCount(m)).toBe(before);
  });
});

describe('clare serve refuses to start when rclaude does not run', () => {
  function serve(m: TestMachine, env: NodeJS.ProcessEnv): { code: number | null; stderr: string } {
    const r = spawnSync(process.execPath, [CLI, 'serve'], { env: { ...m.env, ...env }, encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, stderr: r.stderr };
  }

  it('when rclaude --version fails, or CLARE_RCLAUDE points nowhere', async () => {
    const m = await machine({ name: 'broken' });
    const failing = serve(m, { RCLAUDE_STANDIN_FAULT: 'fail', RCLAUDE_STANDIN_FAULT_VERBS: 'version' });
    expect(failing.code).toBe(10);
    expect(failing.stderr).toContain('does not run');
    expect(failing.stderr).toContain('injected failure for version');
    expect(failing.stderr).toContain('rclaude is the program Clare uses to reach Claude Code sessions');
    expect(failing.stderr).toContain('[rclaude] path');
    const nowhere = serve(m, { CLARE_RCLAUDE: '/nonexistent/rclaude' });
    expect(nowhere.code).toBe(10);
    expect(nowhere.stderr).toContain('rclaude not found or not executable at /nonexistent/rclaude');
    expect(nowhere.stderr).toContain('CLARE_RCLAUDE');
  });
});
