// The dashboard from another machine, where the API wants the mesh token: the page
// takes it once from its address (#token=…), sends it as a Bearer header on API
// calls and as ?token= on the live socket, and without it says what is missing.
import { networkInterfaces } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { createMachine, type TestMachine } from '../helpers/daemon.js';

const TOKEN = 'dashboard-token-0123456789abcdef';
/** A non-loopback address of this machine: requests to it are "remote" for the daemon. */
const address = Object.values(networkInterfaces()).flat().find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;

let browser: TestBrowser;
let m: TestMachine;

beforeAll(async () => {
  if (address === undefined) return;
  m = await createMachine({ name: 'desk', token: TOKEN });
  writeFileSync(m.configFile, readFileSync(m.configFile, 'utf8').replace(/^host = "127\.0\.0\.1"/m, 'host = "0.0.0.0"'));
  await m.start();
  browser = await launchBrowser();
});
afterAll(async () => {
  if (address === undefined) return;
  await browser.close();
  await m.stop();
  m.cleanup();
});

describe.skipIf(address === undefined)('dashboard from a non-loopback address', () => {
  it('works with the token given once in the address, and keeps it out of the address bar', async () => {
    const base = `http://${address}:${m.port}`;
    const p = await browser.open(`${base}/#/board?token=${TOKEN}`);
    expect(p.page.url()).toBe(`${base}/#/board`);
    // A write from the page carries the token (Bearer) and comes back over the socket (?token=).
    await p.page.getByLabel('New project').fill('remote-project');
    await p.page.getByRole('button', { name: 'Add project' }).click();
    await p.page.locator('clare-board-view select option', { hasText: 'remote-project' }).waitFor({ state: 'attached' });
    // The token lives in this tab's session storage: a reload stays authorised.
    await p.page.reload();
    await p.waitConnection('live');
    expect(p.problems).toEqual([]);
    await p.page.close();
  });

  it('says the token is missing when opened without it', async () => {
    const p = await browser.open(`http://${address}:${m.port}/`, { waitLive: false });
    await p.page.locator('clare-app .loading', { hasText: 'needs the mesh token' }).waitFor({ timeout: 10_000 });
    // The refusals are the expected ones: the socket and the status probe, both 401.
    expect(p.problems.filter((x) => !/401|WebSocket connection to/.test(x))).toEqual([]);
    await p.page.close();
  });
});
