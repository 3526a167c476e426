/**
 * Delivery against real daemons and real tmux (through the rclaude stand-in):
 * assignments typed once into the right pane, broadcasts to exactly the matching
 * sessions with receipts, TTL expiry, and a crash in the middle of a send.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { commitLocal } from '../../src/core/context.js';
import { openDb } from '../../src/core/db.js';
import { hlcMs } from '../../src/core/hlc.js';
import { newUpdateId } from '../../src/core/ids.js';
import { openContext } from '../../src/core/setup.js';
import { freePort, machinePool, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';
import { capture, editConfig, firstPullDone, pidAlive, rclaude, sends, spawnSessions } from './fleet-helpers.js';
import { silentLogger } from '../../src/core/log.js';

interface Assignment { id: string; task_id: string; host: string; session: string; delivery: string; error: string | null }
interface Receipt { host: string; session: string; status: string; detail: string | null }
interface Update { id: string; text: string; receipts: Receipt[]; expires_at: string | null }

const { machine, release } = machinePool();
afterAll(release);

async function assignment(m: TestMachine, id: string): Promise<Assignment> {
  const all = (await m.api<{ items: Assignment[] }>('GET', '/assignments?removed=true&limit=1000')).body.items;
  const a = all.find((x) => x.id === id);
  if (a === undefined) throw new Error(`no assignment ${id}`);
  return a;
}

async function settled(m: TestMachine, id: string): Promise<Assignment> {
  return waitFor(`assignment ${id} settled`, async () => {
    const a = await assignment(m, id);
    return a.delivery === 'pending' ? null : a;
  }, 15_000);
}

async function update(m: TestMachine, id: string): Promise<Update> {
  const r = await m.api<{ items: Update[] }>('GET', '/updates?kind=broadcast&limit=100');
  const u = r.body.items.find((x) => x.id === id);
  if (u === undefined) throw new Error(`no broadcast ${id}`);
  return u;
}

const sentTo = (m: TestMachine, session: string, needle: string): number => sends(m).filter((s) => s.session === session && s.text.includes(needle)).length;

describe('assignments and broadcasts on one host', () => {
  let m: TestMachine;
  let project = '';
  beforeAll(async () => {
    m = await machine({ name: 'desk' });
    editConfig(m, 'poll_interval_s = 10', 'poll_interval_s = 1');
    spawnSessions(m, 'api-1', 'api-2', 'web-1');
    await m.start();
    await waitFor('three sessions', async () => (await m.api<{ items: unknown[] }>('GET', '/sessions')).body.items.length === 3, 10_000);
    project = m.cliJson<{ id: string }>(['project', 'add', 'api', '--path', m.dir]).id;
  });

  it('types an assignment once into the right pane, with how to report back', async () => {
    const t = m.cliJson<{ id: string }>(['task', 'add', project, 'Fix the login bug', '--description', 'Users cannot log in.\nCheck the cookie.']);
    const a = m.cliJson<Assignment>(['assign', t.id, 'desk:api-2']);
    expect((await settled(m, a.id)).delivery).toBe('delivered');
    expect(sentTo(m, 'api-2', t.id)).toBe(1);
    expect(sends(m).filter((s) => s.text.includes(t.id)).map((s) => s.session)).toEqual(['api-2']);
    const screen = await waitFor('the agent received it', () => {
      const s = capture(m, 'api-2');
      return s.includes('> received: [clare] You are assigned task') ? s : null;
    }, 5000);
    expect(screen).toContain('Fix the login bug');
    expect(screen).toContain(m.dir);
    expect(screen).toContain('Users cannot log in. / Check the cookie.');
    expect(screen.replace(/\n/g, '')).toContain(`clare task done ${t.id}`);
    expect(capture(m, 'api-1')).not.toContain(t.id);
    expect(capture(m, 'web-1')).not.toContain(t.id);
    const peek = m.cli(['peek', 'desk:api-2', '--lines', '100']);
    expect(peek.stdout).toContain('> received: [clare] You are assigned task');

    // A restart does not deliver it again; a new assignment afterwards is delivered once.
    await m.stop();
    await m.start();
    const t2 = m.cliJson<{ id: string }>(['task', 'add', project, 'Write the changelog']);
    const a2 = m.cliJson<Assignment>(['assign', t2.id, 'desk:api-1']);
    expect((await settled(m, a2.id)).delivery).toBe('delivered');
    expect(sentTo(m, 'api-1', t2.id)).toBe(1);
    expect(sentTo(m, 'api-2', t.id)).toBe(1);
  });

  it('records a failed delivery with rclaude\'s error, and does not retry it', async () => {
    const t = m.cliJson<{ id: string }>(['task', 'add', project, 'Doomed']);
    // Known to the store (a pull saw it), then killed before the assignment arrives.
    spawnSessions(m, 'tmp-1');
    await waitFor('tmp-1 seen', async () => (await m.api<{ items: { session: string }[] }>('GET', '/sessions')).body.items.some((s) => s.session === 'tmp-1'), 10_000);
    expect(rclaude(m, ['_kill', 'desk:tmp-1']).code).toBe(0);
    const a = m.cliJson<Assignment>(['assign', t.id, 'desk:tmp-1']);
    const s = await settled(m, a.id);
    expect(s.delivery).toBe('failed');
    expect(s.error).toContain('rclaude send exited with code 1');
    expect(s.error).toContain('unknown session desk:tmp-1');
    expect(sentTo(m, 'tmp-1', t.id)).toBe(0);
  });

  it('broadcasts to exactly the matching sessions, once each, with a receipt each', async () => {
    m.cliJson(['group', 'add', 'api', 'desk:api-*', 'build:*']);
    const b = m.cliJson<Update>(['broadcast', 'api', 'please rebase on main']);
    const u = await waitFor('two receipts', async () => {
      const x = await update(m, b.id);
      return x.receipts.length >= 2 ? x : null;
    }, 15_000);
    expect(u.receipts).toEqual([
      { host: 'desk', session: 'api-1', status: 'delivered', detail: null },
      { host: 'desk', session: 'api-2', status: 'delivered', detail: null },
    ]);
    const line = '[clare broadcast to api] please rebase on main';
    expect(sends(m).filter((s) => s.text === line).map((s) => s.session).sort()).toEqual(['api-1', 'api-2']);
    expect(capture(m, 'api-1')).toContain(line);
    expect(capture(m, 'web-1')).not.toContain('please rebase');

    // Later triggers (a new session, a new member, a restart) never send it again.
    m.cliJson(['group', 'add', 'api', 'desk:web-*']);
    await m.stop();
    await m.start();
    const b2 = m.cliJson<Update>(['broadcast', 'api', 'second message']);
    await waitFor('three receipts', async () => (await update(m, b2.id)).receipts.length === 3, 15_000);
    expect(sends(m).filter((s) => s.text === line)).toHaveLength(2);
    expect((await update(m, b.id)).receipts).toHaveLength(2);
  });
});

describe('two peered hosts', () => {
  it('each host delivers to its own sessions: a broadcast reaches exactly the matching ones, an assignment from the other host arrives', async () => {
    const [pd, pb] = [await freePort(), await freePort()];
    const desk = await machine({ name: 'desk', port: pd, peers: [`http://127.0.0.1:${pb}`] });
    const build = await machine({ name: 'build', port: pb, peers: [`http://127.0.0.1:${pd}`] });
    for (const m of [desk, build]) editConfig(m, 'poll_interval_s = 10', 'poll_interval_s = 1');
    spawnSessions(desk, 'api-1', 'web-1');
    spawnSessions(build, 'api-2', 'ci-1');
    await Promise.all([desk.start(), build.start()]);
    // Desk knows build's sessions only through replication.
    await waitFor('desk sees all four sessions', async () => (await desk.api<{ items: unknown[] }>('GET', '/sessions')).body.items.length === 4, 20_000);

    desk.cliJson(['group', 'add', 'api', '*:api-*']);
    const b = desk.cliJson<Update>(['broadcast', 'api', 'rebase on main please']);
    const u = await waitFor('both receipts on desk', async () => {
      const x = await update(desk, b.id);
      return x.receipts.length === 2 ? x : null;
    }, 20_000);
    expect(u.receipts.map((r) => [`${r.host}:${r.session}`, r.status])).toEqual([['build:api-2', 'delivered'], ['desk:api-1', 'delivered']]);
    const line = '[clare broadcast to api] rebase on main please';
    expect(sends(desk).filter((x) => x.text === line).map((x) => x.session)).toEqual(['api-1']);
    expect(sends(build).filter((x) => x.text === line).map((x) => x.session)).toEqual(['api-2']);

    const p = desk.cliJson<{ id: string }>(['project', 'add', 'ci']);
    const t = desk.cliJson<{ id: string }>(['task', 'add', p.id, 'Cache the dependencies']);
    const a = desk.cliJson<Assignment>(['assign', t.id, 'build:ci-1']);
    expect((await settled(desk, a.id)).delivery).toBe('delivered');
    expect(sentTo(build, 'ci-1', t.id)).toBe(1);
    expect(sends(desk).filter((x) => x.text.includes(t.id))).toEqual([]);
    expect(capture(build, 'ci-1')).toContain('Cache the dependencies');
  });
});

describe('a broadcast past its TTL', () => {
  it('is recorded expired on every matching session and not typed', async () => {
    const m = await machine({ name: 'laptop' });
    editConfig(m, 'poll_interval_s = 10', 'poll_interval_s = 3600');
    spawnSessions(m, 's-1', 's-2');
    await m.start();
    await waitFor('two sessions', async () => (await m.api<{ items: unknown[] }>('GET', '/sessions')).body.items.length === 2, 10_000);
    m.cliJson(['group', 'add', 'all', 'laptop:*']);
    await m.stop();

    // While the laptop's daemon is down, two broadcasts land in its store: one whose
    // TTL runs out before the daemon is back, one without a TTL.
    const stale = newUpdateId();
    const fresh = newUpdateId();
    const db = openDb(join(m.env['XDG_DATA_HOME']!, 'clare', 'clare.db'));
    let expiresMs = 0;
    try {
      const ctx = openContext(db, loadConfig(m.configFile), silentLogger);
      const c = commitLocal(ctx, [
        { type: 'broadcast.sent', payload: { update_id: stale, group: 'all', text: 'stale instruction', ttl_s: 1 } },
        { type: 'broadcast.sent', payload: { update_id: fresh, group: 'all', text: 'fresh instruction', ttl_s: null } },
      ]);
      expiresMs = hlcMs(c.events[0]!.hlc) + 1000;
    } finally {
      db.close();
    }
    // The daemon comes back only once the TTL has passed (a condition, not a guess).
    await waitFor('the TTL to pass', () => Date.now() > expiresMs, 5000);
    await m.start();
    expect((await update(m, stale)).expires_at).toBe(new Date(expiresMs).toISOString());

    const expired = await waitFor('expired receipts', async () => {
      const u = await update(m, stale);
      return u.receipts.length === 2 ? u : null;
    }, 15_000);
    expect(expired.receipts.map((r) => [r.session, r.status])).toEqual([['s-1', 'expired'], ['s-2', 'expired']]);
    expect(expired.receipts[0]!.detail).toContain('not typed');
    await waitFor('fresh receipts', async () => (await update(m, fresh)).receipts.length === 2, 15_000);
    expect(sends(m).map((s) => s.text)).toEqual(['[clare broadcast to all] fresh instruction', '[clare broadcast to all] fresh instruction']);
    expect(capture(m, 's-1')).not.toContain('stale instruction');
  });
});

describe('a restart in the middle of a delivery', () => {
  it('does not send twice, and the receipt says what happened', async () => {
    const m = await machine({
      name: 'build',
      env: { RCLAUDE_STANDIN_FAULT: 'slow', RCLAUDE_STANDIN_FAULT_VERBS: 'send', RCLAUDE_STANDIN_SLOW_MS: '5000' },
    });
    editConfig(m, 'timeout_ms = 10000', 'timeout_ms = 20000');
    spawnSessions(m, 'w-1');
    await m.start();
    await firstPullDone(m);
    await waitFor('w-1 seen', async () => (await m.api<{ items: unknown[] }>('GET', '/sessions')).body.items.length === 1, 10_000);
    const p = m.cliJson<{ id: string }>(['project', 'add', 'core']);
    const t = m.cliJson<{ id: string }>(['task', 'add', p.id, 'Port the parser']);
    const a = m.cliJson<Assignment>(['assign', t.id, 'build:w-1']);

    // The send is in flight (the stand-in sleeps before typing): kill the daemon now.
    const pid = await waitFor('the send to start', () => {
      const line = m.log().split('\n').find((l) => l.includes('"msg":"sending"') && l.includes(a.id));
      return line === undefined ? null : (JSON.parse(line) as { pid: number }).pid;
    }, 10_000);
    await m.kill();
    const db = openDb(join(m.env['XDG_DATA_HOME']!, 'clare', 'clare.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT kind, ref, session FROM delivery_intents').all()).toEqual([{ kind: 'assignment', ref: a.id, session: 'w-1' }]);
    } finally {
      db.close();
    }

    delete m.env['RCLAUDE_STANDIN_FAULT'];
    await m.start();
    const s = await settled(m, a.id);
    expect(s.delivery).toBe('failed');
    expect(s.error).toBe('interrupted during delivery; not resent to avoid a duplicate (it may or may not have arrived)');
    // The worst case for a duplicate: the orphaned rclaude outlives the daemon and does
    // type the text. The restarted daemon must not add a second copy.
    await waitFor('the interrupted rclaude to exit', () => !pidAlive(pid), 10_000);
    expect(sentTo(m, 'w-1', t.id)).toBe(1);

    // Delivery carries on normally afterwards.
    const t2 = m.cliJson<{ id: string }>(['task', 'add', p.id, 'Next one']);
    const a2 = m.cliJson<Assignment>(['assign', t2.id, 'build:w-1']);
    expect((await settled(m, a2.id)).delivery).toBe('delivered');
    expect(sentTo(m, 'w-1', t2.id)).toBe(1);
    expect(sentTo(m, 'w-1', t.id)).toBe(1);
  });
});
