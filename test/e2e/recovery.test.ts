/**
 * Recovery between real daemons (docs/operations.md, "Losing a database"): a machine
 * wiped and re-initialised with its old config gets all its earlier projects and
 * tasks back from its peers, and one restored from an older copy of its database
 * gets its later own events back too — before it appends anything under its id.
 * While it waits, writes answer CLARE_RECOVERING and status says RECOVERING.
 */
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createMachine, freePort, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const made: TestMachine[] = [];
afterEach(async () => {
  await Promise.all(made.map((m) => m.stop()));
  for (const m of made.splice(0)) m.cleanup();
});

interface State { event_count: number; digest: string; projections_digest: string; counts: Record<string, number>; watermarks: Record<string, string> }
interface Status { recovery: { state: string; reason: string; outcome: string | null } | null; machine: { id: string } }

/** a, b, c: c dials a and b, a dials b. Ports fixed first so each can list the others. */
async function trio(): Promise<[TestMachine, TestMachine, TestMachine]> {
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const url = (i: number): string => `http://127.0.0.1:${ports[i]!}`;
  const peers = [[url(1)], [], [url(0), url(1)]];
  const ms = await Promise.all(['ra', 'rb', 'rc'].map((name, i) => createMachine({ name, port: ports[i]!, peers: peers[i]!, env: { CLARE_LOG_LEVEL: 'info' } })));
  made.push(...ms);
  return ms as [TestMachine, TestMachine, TestMachine];
}

async function state(m: TestMachine): Promise<State> {
  return (await m.api<State>('GET', '/sync/state?projections=1')).body;
}

async function converged(ms: readonly TestMachine[], timeoutMs = 30_000): Promise<State[]> {
  return waitFor(`${ms.map((m) => m.name).join(', ')} to converge`, async () => {
    const ss = await Promise.all(ms.map(state));
    return ss.every((s) => s.digest === ss[0]!.digest && s.projections_digest === ss[0]!.projections_digest) ? ss : null;
  }, timeoutMs, 100);
}

async function work(m: TestMachine, prefix: string, projects: number, tasksEach: number): Promise<string[]> {
  const titles: string[] = [];
  for (let i = 0; i < projects; i++) {
    const p = await m.api<{ id: string }>('POST', '/projects', { name: `${prefix}-${i}` });
    expect(p.status).toBe(201);
    for (let j = 0; j < tasksEach; j++) {
      const t = await m.api('POST', '/tasks', { project: p.body.id, title: `${prefix}-${i}-task-${j}` });
      expect(t.status).toBe(201);
      titles.push(`${prefix}-${i}-task-${j}`);
    }
  }
  return titles;
}

const dbFiles = (m: TestMachine): string[] => ['clare.db', 'clare.db-wal', 'clare.db-shm'].map((f) => join(m.dir, 'data', 'clare', f));

describe('a machine that lost its database', () => {
  it('wiped and re-initialised with its old config: all its earlier projects and tasks come back, and all digests agree', async () => {
    const [a, b, c] = await trio();
    await b.start();
    await a.start();
    await c.start();
    const mine = await work(c, 'c-early', 3, 3);
    await work(a, 'a-early', 2, 1);
    const [before] = await converged([a, b, c]);
    const id = (await c.api<Status>('GET', '/status')).body.machine.id;

    await c.stop();
    rmSync(join(c.dir, 'data'), { recursive: true, force: true });
    const init = c.cli(['init', '--name', 'rc']);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/keeping machine_id/);
    expect(init.stdout).toMatch(/fetches them from the peers before writing anything/);
    await c.start();

    await waitFor("c's earlier tasks to come back", async () => {
      const titles = new Set((await c.api<{ items: { title: string }[] }>('GET', '/tasks?limit=500')).body.items.map((t) => t.title));
      return mine.every((t) => titles.has(t));
    }, 30_000, 100);
    const [after] = await converged([a, b, c]);
    const ownCount = before!.counts[id]!;
    expect(after!.counts[id]).toBe(ownCount); // not one more: nothing was appended before they came back
    expect(after!.watermarks[id]).toBe(before!.watermarks[id]);
    const st = (await c.api<Status>('GET', '/status')).body;
    expect(st.recovery).toMatchObject({ state: 'done', outcome: expect.stringMatching(/gave back/) });
    expect(c.log()).toMatch(/recovering: this database may lack events of this machine/);
    expect(c.log()).toMatch(/recovery done/);
    // Writing again; the new event sorts after every old one of this machine.
    await work(c, 'c-late', 1, 1);
    const [last] = await converged([a, b, c]);
    expect(last!.counts[id]).toBe(ownCount + 2);
    expect(last!.watermarks[id]! > before!.watermarks[id]!).toBe(true);
    expect(c.cli(['sync', '--check']).code).toBe(0);
  }, 180_000);

  for (const how of ['marked as `clare restore` marks it', 'put back by hand, unmarked'] as const) it(`restored from an older copy of its database (${how}): its later own events come back too`, async () => {
    const [a, b, c] = await trio();
    await Promise.all([b.start(), a.start()]);
    await c.start();
    await work(c, 'c-kept', 2, 2);
    await converged([a, b, c]);
    // The backup: the database files while the daemon is stopped.
    await c.stop();
    const backup = dbFiles(c).map((f) => `${f}.bak`);
    dbFiles(c).forEach((f, i) => {
      if (existsSync(f)) copyFileSync(f, backup[i]!);
    });
    await c.start();
    const later = await work(c, 'c-later', 2, 2);
    const [before] = await converged([a, b, c]);
    const id = (await c.api<Status>('GET', '/status')).body.machine.id;

    await c.stop();
    dbFiles(c).forEach((f, i) => {
      rmSync(f, { force: true });
      if (existsSync(backup[i]!)) copyFileSync(backup[i]!, f);
    });
    if (how === 'marked as `clare restore` marks it') {
      // What `clare restore` leaves behind (the local_meta contract): recover before appending.
      const db = new Database(dbFiles(c)[0]);
      db.prepare("INSERT INTO local_meta (key, value) VALUES ('recovery', 'pending') ON CONFLICT (key) DO UPDATE SET value = 'pending'").run();
      db.close();
    }
    await c.start();
    // Unmarked, the stamp beside the database (clare.db-own) shows it lacks own events.
    if (how === 'put back by hand, unmarked') expect((await c.api<Status>('GET', '/status')).body.recovery?.reason).toMatch(/older copy put back by hand/);

    const [after] = await converged([a, b, c]);
    expect(after!.counts[id]).toBe(before!.counts[id]);
    expect(after!.watermarks[id]).toBe(before!.watermarks[id]);
    const tasks = (await c.api<{ items: { title: string }[] }>('GET', '/tasks?limit=500')).body.items.map((t) => t.title);
    expect(tasks).toEqual(expect.arrayContaining(later));
    expect((await c.api<Status>('GET', '/status')).body.recovery).toMatchObject({ state: 'done' });
  }, 180_000);

  it('while no peer is up it waits: writes answer CLARE_RECOVERING, status says RECOVERING; a peer coming back ends it', async () => {
    const [a, b, c] = await trio();
    await Promise.all([b.start(), a.start()]);
    await c.start();
    await work(c, 'c-before', 1, 2);
    await converged([a, b, c]);
    await Promise.all([a.stop(), b.stop(), c.stop()]);
    rmSync(join(c.dir, 'data'), { recursive: true, force: true });
    await c.start();

    const refused = await c.api<{ error: { code: string; message: string } }>('POST', '/projects', { name: 'too-early' });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('CLARE_RECOVERING');
    expect(refused.body.error.message).toMatch(/fetching its own events from its peers/);
    const cli = c.cli(['project', 'add', 'too-early']);
    expect(cli.code).toBe(3);
    expect(cli.stderr).toMatch(/CLARE_RECOVERING|fetching its own events/);
    expect(c.cli(['status']).stdout).toMatch(/RECOVERING/);
    expect((await c.api<Status>('GET', '/status')).body.recovery).toMatchObject({ state: 'recovering' });

    await b.start();
    await waitFor('recovery to end', async () => (await c.api<Status>('GET', '/status')).body.recovery?.state === 'done', 30_000, 100);
    const names = (await c.api<{ items: { name: string }[] }>('GET', '/projects?limit=500')).body.items.map((p) => p.name);
    expect(names).toContain('c-before-0');
    expect((await c.api('POST', '/projects', { name: 'after' })).status).toBe(201);
  }, 180_000);
});
