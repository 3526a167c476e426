// A broadcast sent from the page: the fleet's delivery service types it into every
// session of the group and records a receipt per session; the page shows each
// receipt as it lands, without a reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusDoc } from '../../src/protocol/status.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { createMachine, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

let browser: TestBrowser;
let m: TestMachine;
let fleetAvailable = false;

beforeAll(async () => {
  m = await createMachine({ name: 'desk' });
  await m.start();
  // Delivery is part of the fleet: the status document has a `fleet` section when it is plugged in.
  fleetAvailable = (await m.api<StatusDoc>('GET', '/status')).body.fleet !== null;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  await m.stop();
  m.cleanup();
});

describe('broadcast from the page', () => {
  it('sends to a group and shows the receipts as they arrive', async (ctx) => {
    if (!fleetAvailable) ctx.skip();
    for (const s of ['agent-1', 'agent-2']) expect((await m.api('POST', '/sessions', { host: 'desk', session: s, cwd: m.dir })).status).toBe(201);
    expect(m.cli(['group', 'add', 'crew', 'desk:*']).code).toBe(0);

    const p = await browser.open(`${m.url}/#/broadcast`);
    const view = p.page.locator('clare-broadcast-view');
    await view.locator('select[name="group"]').selectOption('crew');
    await view.locator('.members', { hasText: '2 known sessions match' }).waitFor();
    await view.getByLabel('Message').fill('Please commit and push your work');
    await view.getByRole('button', { name: 'Send broadcast' }).click();

    const sent = view.locator('li.sent');
    await sent.locator('p', { hasText: 'Please commit and push your work' }).waitFor({ timeout: 5000 });
    for (const s of ['desk:agent-1', 'desk:agent-2']) {
      await sent.locator(`[data-receipt="${s}"]`, { hasText: 'delivered' }).waitFor({ timeout: 15_000 });
    }
    await sent.locator('.summary', { hasText: '2 delivered · 0 failed · 0 expired' }).waitFor();
    // The page's view matches the API's.
    const updates = (await m.api<{ items: { kind: string; text: string; receipts: { status: string }[] }[] }>('GET', '/updates?kind=broadcast')).body.items;
    expect(updates[0]).toMatchObject({ text: 'Please commit and push your work', receipts: [{ status: 'delivered' }, { status: 'delivered' }] });
    // And the agents got it.
    await waitFor('the text on both screens', async () => {
      const screens = await Promise.all(['agent-1', 'agent-2'].map((s) => m.api<{ text: string }>('GET', `/sessions/desk/${s}/screen?lines=40`)));
      return screens.every((r) => r.body.text.includes('Please commit and push your work'));
    });
    expect(p.problems).toEqual([]);
  });
});
