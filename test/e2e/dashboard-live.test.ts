// The dashboard updates itself, in a real browser against real daemons: a task
// created through the CLI (here, and on a peer one hop away), a session state
// change found by a pull, and changes made around a daemon restart all appear
// without a reload.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StatusDoc } from '../../src/protocol/status.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { createMachine, freePort, STANDIN_DIR, type MachineOptions, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const machines: TestMachine[] = [];
let browser: TestBrowser;

async function machine(o: MachineOptions, edit?: (toml: string) => string): Promise<TestMachine> {
  const m = await createMachine(o);
  machines.push(m);
  if (edit !== undefined) writeFileSync(m.configFile, edit(readFileSync(m.configFile, 'utf8')));
  return m;
}

/** Only explicit pulls (and the one at start-up) find session changes: no poller race in the test. */
const noPolling = (toml: string): string => toml.replace(/^poll_interval_s = .*$/m, 'poll_interval_s = 3600');

/**
 * Whether replication is plugged into the daemon: a daemon with a configured peer
 * lists it in GET /api/v1/status `peers` (connected or not) only if it is.
 */
async function probeReplication(): Promise<boolean> {
  const m = await createMachine({ name: 'probe', peers: [`http://127.0.0.1:${await freePort()}`] });
  try {
    await m.start();
    return await waitFor('a peer in the status', async () => (await m.api<StatusDoc>('GET', '/status')).body.peers.length > 0, 3000).then(() => true, () => false);
  } finally {
    await m.stop();
    m.cleanup();
  }
}

const replicationAvailable = await probeReplication();

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
});
afterEach(async () => {
  for (const m of machines.splice(0)) {
    await m.stop();
    m.cleanup();
  }
});

function taskCard(page: Page, title: string) {
  return page.locator(`clare-task-card article[aria-label="${title}"]`);
}

/** Marks the window; `stillSamePage` is false after any reload or navigation. */
async function markPage(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate('window.__clareMark = 1');
  return async () => (await page.evaluate('window.__clareMark === 1')) === true;
}

function cliOk(m: TestMachine, args: readonly string[]): string {
  const r = m.cli(args);
  if (r.code !== 0) throw new Error(`clare ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('live dashboard', () => {
  it('shows a task created through the CLI without a reload', async () => {
    const a = await machine({ name: 'desk' });
    await a.start();
    cliOk(a, ['project', 'add', 'web']);
    const p = await browser.open(`${a.url}/#/board`);
    const samePage = await markPage(p.page);
    cliOk(a, ['task', 'add', 'web', 'Typed in a terminal', '-p', '1']);
    await taskCard(p.page, 'Typed in a terminal').waitFor({ timeout: 5000 });
    await expect(taskCard(p.page, 'Typed in a terminal').locator('.badge', { hasText: 'P1' }).count()).resolves.toBe(1);
    // A status change moves it to its column, also live.
    cliOk(a, ['task', 'start', 'Typed in a terminal']);
   
    await p.page.locator('clare-board-column section[data-status="in_progress"] clare-task-card article[aria-label="Typed in a terminal"]').waitFor({ timeout: 5000 });
   
    expect(await samePage()).toBe(true);
    expect(p.problems).toEqual([]);
  });

  it.skipIf(!replicationAvailable)('shows a task created through the CLI on peer B on the dashboard of peer A', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await machine({ name: 'alpha', port: pa, peers: [`http://127.0.0.1:${pb}`] });
    const b = await machine({ name: 'beta', port: pb, peers: [`http://127.0.0.1:${pa}`] });
    await a.start();
    await b.start();
    cliOk(b, ['project', 'add', 'shared']);
    const p = await browser.open(`${a.url}/#/board`);
    const samePage = await markPage(p.page);
    cliOk(b, ['task', 'add', 'shared', 'Made on beta']);
    await taskCard(p.page, 'Made on beta').waitFor({ timeout: 15_000 });
    // The mesh view shows beta as a connected peer (from the live `peers` frames).
    await p.view('Mesh');
    await p.page.locator('clare-mesh-view tr[data-peer]', { hasText: 'beta' }).locator('.badge', { hasText: 'connected' }).first().waitFor({ timeout: 10_000 });
    await p.screenshot('mesh-peers-laptop-light');
    expect(await samePage()).toBe(true);
    expect(p.problems).toEqual([]);
  });

  it('shows a session state change found by a pull', async () => {
    // The fake agent stays `working` for a minute after a line is sent to it.
    const a = await machine({ name: 'desk', env: { RCLAUDE_STANDIN_WORK_MS: '60000' } }, noPolling);
    await a.start();
    const spawned = await a.api('POST', '/sessions', { host: 'desk', session: 'agent-1', cwd: a.dir });
    expect(spawned.status).toBe(201);
    const p = await browser.open(`${a.url}/#/fleet`);
    const samePage = await markPage(p.page);
    const badge = (state: string) => p.page.locator(`clare-session-row .row[data-session="desk:agent-1"] .badge[data-state="${state}"]`);
    await badge('idle').waitFor({ timeout: 5000 });

    const sent = spawnSync(join(STANDIN_DIR, 'rclaude'), ['send', 'desk:agent-1', 'run the tests'], { env: a.env, encoding: 'utf8' });
    expect(sent.status, sent.stderr).toBe(0);
    // The page must not move before the pull: nothing has been recorded yet.
    expect(await badge('working').count()).toBe(0);
    const hasPullVerb = a.cli(['pull', '--help']).code === 0;
    if (hasPullVerb) cliOk(a, ['pull']);
    else expect((await a.api('POST', '/sessions/pull')).status).toBe(200);
    await badge('working').waitFor({ timeout: 5000 });
    expect(await samePage()).toBe(true);
    expect(p.problems).toEqual([]);
  });

  it('reconnects after a daemon restart and shows the changes made while it was away', async () => {
    const a = await machine({ name: 'desk' });
    await a.start();
    cliOk(a, ['project', 'add', 'web']);
    cliOk(a, ['task', 'add', 'web', 'Before the restart']);
    const p = await browser.open(`${a.url}/#/board`);
    const samePage = await markPage(p.page);
    await taskCard(p.page, 'Before the restart').waitFor();
    // From here on the page's live sockets go through this route; while `away` it turns
    // them down, so the page cannot reconnect until the test lets it.
    let away = true;
    await p.page.routeWebSocket(/\/api\/v1\/live/, async (ws) => {
      if (away) await ws.close({ code: 1013, reason: 'held back by the test' });
      else ws.connectToServer();
    });

    expect(await a.stop()).toBe(0);
    await p.waitConnection('reconnecting', 10_000);
    await a.start();
    cliOk(a, ['task', 'add', 'web', 'Made while the page was away']);
    cliOk(a, ['task', 'done', 'Before the restart']);
    expect(await taskCard(p.page, 'Made while the page was away').count()).toBe(0);

    away = false;
    await p.waitConnection('live', 15_000);
    await taskCard(p.page, 'Made while the page was away').waitFor({ timeout: 5000 });
    await p.page.locator('clare-board-column section[data-status="done"] clare-task-card article[aria-label="Before the restart"]').waitFor({ timeout: 5000 });
    // And the stream is live again after the reconnect.
    cliOk(a, ['task', 'add', 'web', 'After the reconnect']);
    await taskCard(p.page, 'After the reconnect').waitFor({ timeout: 5000 });
    expect(await samePage()).toBe(true);
    // While the daemon is down the page's reconnect attempts fail, and its one probe of
    // /api/v1/status (to tell a refused token from a daemon away) is refused or answered
    // 503 by the stopping daemon. Nothing else may fail.
    const expected = /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED|503/;
    expect(p.problems.filter((x) => !expected.test(x))).toEqual([]);
  });
});
