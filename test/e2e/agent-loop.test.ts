/**
 * Issue 11's "done when": the loop a person and an agent run every day, on two real
 * daemons with the rclaude stand-in (real tmux). A assigns a task to a session on B;
 * the assignment is typed into it there and claims the task; the agent asks
 * `clare next --session`, starts, posts an update, finishes; the session is idle
 * again and `assign --auto` picks it. Then a task claimed on both sides of a
 * partition (each daemon stopped while the other claims) resolves as
 * docs/protocol.md says: the earliest claim holds it, the conflict is visible on
 * both machines, and the losing session is told through its host's delivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, machinePool, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';
import { capture, editConfig, spawnSessions } from './fleet-helpers.js';

interface Holder { host: string; session: string; since: string }
interface Task { id: string; title: string; status: string; holder: Holder | null; assignment: { id: string; host: string; session: string; delivery: string } | null }
interface Next extends Task { held: boolean; assigned: boolean }
interface Conflict { entity: string; entity_id: string; field: string; winner: { value: unknown }; loser: { value: unknown } }

const { machine, release } = machinePool();
afterAll(release);

const task = async (m: TestMachine, id: string): Promise<Task> => (await m.api<Task>('GET', `/tasks/${id}`)).body;

describe('the agent loop on two machines', () => {
  let a: TestMachine;
  let b: TestMachine;
  let project = '';
  const agent = (session: string) => ({ CLARE_SESSION: `build:${session}` });

  beforeAll(async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    a = await machine({ name: 'desk', port: pa, peers: [`http://127.0.0.1:${pb}`] });
    b = await machine({ name: 'build', port: pb, peers: [`http://127.0.0.1:${pa}`] });
    for (const m of [a, b]) editConfig(m, 'poll_interval_s = 10', 'poll_interval_s = 1');
    spawnSessions(b, 'w-1', 'w-2');
    spawnSessions(a, 'a-1');
    await b.start();
    await a.start();
    await waitFor('A sees the sessions of both hosts', async () => (await a.api<{ items: unknown[] }>('GET', '/sessions')).body.items.length === 3, 30_000);
    // The project lives where B's sessions work, so the scheduler prefers them for its tasks.
    project = a.cliJson<{ id: string }>(['project', 'add', 'api', '--path', b.dir]).id;
  }, 90_000);

  it('assign on A → typed and claimed on B → next, start, update, done → idle → assign --auto picks it', async () => {
    const busy = a.cliJson<Task>(['task', 'add', project, 'Keep w-2 busy']);
    const t = a.cliJson<Task>(['task', 'add', project, 'Parse the new config']);
    a.cliJson(['assign', busy.id, 'build:w-2']);
    a.cliJson(['assign', t.id, 'build:w-1']);

    // B's daemon types it into w-1 and the session claims the task; A hears of it.
    await waitFor('w-1 received the assignment', () => capture(b, 'w-1').includes(`You are assigned task ${t.id}`), 30_000);
    const claimed = await waitFor('A sees the claim', async () => {
      const x = await task(a, t.id);
      return x.holder !== null ? x : null;
    }, 30_000);
    expect(claimed).toMatchObject({ status: 'in_progress', holder: { host: 'build', session: 'w-1' } });

    // The agent, on B, in its own session.
    const next = b.cliJson<Next[]>(['next']);
    expect(next.every((n) => !n.held)).toBe(true); // no session given: nothing is "its own"
    const mine = JSON.parse(b.cli(['next', '--json'], agent('w-1')).stdout) as Next[];
    expect(mine[0]).toMatchObject({ id: t.id, held: true });
    expect(mine.slice(1).every((n) => !n.held && n.holder === null)).toBe(true);
    expect(b.cli(['task', 'start', t.id.slice(-8)], agent('w-1')).code).toBe(0);
    // Another session cannot take it without --force.
    const refused = b.cli(['task', 'start', t.id.slice(-8), '--json'], agent('w-2'));
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('CLARE_CONFLICT');
    expect(b.cli(['update', 'parser done, tests next', '--task', t.id.slice(-8)], agent('w-1')).code).toBe(0);

    const t2 = a.cliJson<Task>(['task', 'add', project, 'Document the config']);
    expect(b.cli(['task', 'done', t.id.slice(-8)], agent('w-1')).code).toBe(0);
    await waitFor('A sees it done', async () => (await task(a, t.id)).status === 'done', 30_000);
    expect((await task(a, t.id)).holder).toBeNull();
    const notes = (await a.api<{ items: { text: string; task_id: string | null; session: string | null }[] }>('GET', `/updates?task=${t.id}`)).body.items;
    expect(notes).toEqual([expect.objectContaining({ text: 'parser done, tests next', session: 'w-1' })]);

    // w-1 is idle again: --auto picks it (its cwd is the project's path; w-2 holds a task).
    // Were done to leave it busy (the bug), --auto would pick desk:a-1, the only other idle one.
    const picked = await waitFor('assign --auto picks w-1', () => {
      const r = a.cli(['assign', t2.id, '--auto', '--json']);
      if (r.code !== 0) return null; // w-1's agent may still be "working" on the last text for a poll
      return JSON.parse(r.stdout) as { host: string; session: string };
    }, 30_000);
    expect(picked).toMatchObject({ host: 'build', session: 'w-1' });
  }, 180_000);

  it('a task claimed on both sides of a partition: the earliest claim holds it, the conflict shows, the loser is told', async () => {
    const t = a.cliJson<Task>(['task', 'add', project, 'Contested']);
    await waitFor('B has the task', async () => (await b.api('GET', `/tasks/${t.id}`)).status === 200, 30_000);

    // Apart: B claims first (A is down), then A claims (B is down). Both succeed locally.
    await a.stop();
    expect(b.cli(['task', 'start', t.id], agent('w-2')).code).toBe(0);
    await b.stop();
    await a.start();
    const local = a.cliJson<Task>(['task', 'start', t.id, '--session', 'desk:a-1']);
    expect(local.holder).toMatchObject({ host: 'desk', session: 'a-1' });
    await b.start();

    // Together again: the earliest claim (B's) stands on both.
    for (const m of [a, b]) {
      await waitFor(`${m.name} resolves the holder`, async () => {
        const x = await task(m, t.id);
        return x.holder?.host === 'build' && x.holder.session === 'w-2';
      }, 30_000);
      const conflicts = (await m.api<{ items: Conflict[] }>('GET', '/conflicts')).body.items.filter((c) => c.entity_id === t.id);
      expect(conflicts).toHaveLength(1);
      expect(conflicts[0]).toMatchObject({ field: 'holder', winner: { value: 'build:w-2' }, loser: { value: 'desk:a-1' } });
    }
    // The losing session, on A, is told by A's own delivery service.
    const screen = await waitFor('a-1 is told its claim lost', () => {
      const s = capture(a, 'a-1').replace(/\n/g, '');
      return s.includes('Your claim on task') ? s : null;
    }, 30_000);
    expect(screen).toContain('build:w-2 claimed it first');
    expect(capture(b, 'w-2')).not.toContain('Your claim on task');
  }, 180_000);
});
