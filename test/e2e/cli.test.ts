/**
 * The built `clare` binary against a real daemon process: init → serve →
 * project/task/assign/next/status through the CLI, checked again through the API;
 * bad input on every verb; no daemon.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMachine, type TestMachine } from '../helpers/daemon.js';

let m: TestMachine;

beforeAll(async () => {
  m = await createMachine({ name: 'desk' });
  await m.start();
});

afterAll(async () => {
  await m.stop();
  m.cleanup();
});

describe('the CLI against a real daemon', () => {
  it('init twice keeps the machine id and says so', () => {
    const before = m.cliJson<{ machine_id: string; created: boolean }>(['init']);
    expect(before.created).toBe(false);
    const again = m.cli(['init']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`keeping machine_id ${before.machine_id}`);
  });

  it('runs the first-day workflow and the API sees the same objects', async () => {
    const p = m.cliJson<{ id: string; name: string }>(['project', 'add', 'api', '--path', '/srv/api']);
    expect(p.name).toBe('api');
    const t1 = m.cliJson<{ id: string; priority: number }>(['task', 'add', 'api', 'Write the parser', '--priority', '1']);
    expect(t1.priority).toBe(1);
    const t2 = m.cliJson<{ id: string; blocked_by: string[] }>(['task', 'add', 'api', 'Test the parser', '--depends-on', t1.id]);
    expect(t2.blocked_by).toEqual([t1.id]);

    const next = m.cliJson<{ id: string }[]>(['next']);
    expect(next.map((t) => t.id)).toEqual([t1.id]);

    const list = m.cli(['task', 'list', 'api']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('Write the parser');
    expect(list.stdout).toContain('waiting(1)');

    const done = m.cli(['task', 'done', t1.id.slice(-8)]);
    expect(done.code).toBe(0);
    expect(m.cliJson<{ id: string }[]>(['next']).map((t) => t.id)).toEqual([t2.id]);

    const viaApi = await m.api<{ id: string; status: string }>('GET', `/tasks/${t1.id}`);
    expect(viaApi.body.status).toBe('done');
    const projects = await m.api<{ items: { id: string }[] }>('GET', '/projects');
    expect(projects.body.items.map((x) => x.id)).toEqual([p.id]);

    const note = m.cliJson<{ kind: string; task_id: string }>(['update', 'parser half done', '--task', t2.id]);
    expect(note).toMatchObject({ kind: 'note', task_id: t2.id });

    const g = m.cliJson<{ members: string[] }>(['group', 'add', 'api', 'desk:api-*']);
    expect(g.members).toEqual(['desk:api-*']);
    const b = m.cliJson<{ kind: string; ttl_s: number }>(['broadcast', 'api', 'please rebase', '--ttl', '1h']);
    expect(b).toMatchObject({ kind: 'broadcast', ttl_s: 3600 });

    const status = m.cliJson<{ counts: { projects: number; tasks: Record<string, number> } }>(['status']);
    expect(status.counts.projects).toBe(1);
    expect(status.counts.tasks['done']).toBe(1);
    const human = m.cli(['status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('desk');
  });

  it('refuses to assign to a session nobody has seen', () => {
    const p = m.cliJson<{ id: string }>(['project', 'add', 'web']);
    const t = m.cliJson<{ id: string }>(['task', 'add', p.id, 'Style the page']);
    const r = m.cli(['assign', t.id, 'desk:nobody']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('no session desk:nobody is known');
  });

  it.each([
    [['project', 'add'], 2, 'Not enough non-option arguments'],
    [['project', 'add', 'x', '--path', 'relative'], 2, '--path is an absolute path'],
    [['project', 'show', 'no-such-project'], 5, 'no project'],
    [['task', 'add', 'api', 'x', '--priority', '9'], 2, 'priority'],
    [['task', 'add', 'no-such-project', 'x'], 5, 'no project'],
    [['task', 'done', 'ffffffffff'], 5, 'no task'],
    [['task', 'list', '--status', 'sleeping'], 2, '--status is one of open, in_progress, blocked, done; got "sleeping"'],
    [['task', 'depend', 'a', 'b'], 5, 'no task'],
    [['assign', 'x'], 2, 'give a SESSION'],
    [['assign', 'x', 'nocolon'], 5, 'no task'],
    [['next', '--limit', '0'], 2, 'limit'],
    [['broadcast', 'no-such-group', 'hi'], 5, 'no group'],
    [['broadcast', 'api', 'hi', '--ttl', 'soon'], 2, '--ttl is a duration such as 90s'],
    [['group', 'add', 'g', 'no-colon'], 2, 'host:session'],
    [['group', 'rm', 'no-such-group'], 5, 'no group'],
    [['update', ''], 2, 'text'],
    [['peer', 'add', 'not a url'], 2, 'not a peer URL'],
    [['peer', 'remove', 'http://127.0.0.1:1'], 5, 'not in'],
    [['unassign', 'nope'], 5, 'no assignment'],
    [['frobnicate'], 2, 'Unknown argument'],
  ])('clare %j → exit %i', (args, code, message) => {
    const r = m.cli(args);
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(code);
  });

  it('--json errors print the API error body', () => {
    const r = m.cli(['project', 'show', 'nope', '--json']);
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'CLARE_NOT_FOUND', message: 'no project "nope"', details: { kind: 'project', ref: 'nope' } } });
  });

  it('offers help and shell completion', () => {
    const h = m.cli(['--help']);
    expect(h.code).toBe(0);
    for (const verb of ['init', 'serve', 'project', 'task', 'assign', 'next', 'status', 'broadcast', 'group', 'update', 'rebuild', 'peer']) expect(h.stdout).toContain(`clare ${verb}`);
    const c = m.cli(['completion']);
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('complete');
  });
});

describe('without a daemon', () => {
  it('says so in one line and exits 3', async () => {
    const idle = await createMachine({ name: 'idle' });
    try {
      for (const args of [['status'], ['task', 'list'], ['next', '--json']]) {
        const r = idle.cli(args);
        expect(r.code).toBe(3);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain('no Clare daemon answers');
        expect(r.stderr).toContain('clare serve');
      }
    } finally {
      idle.cleanup();
    }
  });
});
