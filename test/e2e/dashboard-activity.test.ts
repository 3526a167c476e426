// Activity as the whole task lifecycle, in a real Chromium against a daemon with the
// rclaude stand-in: created, started, claimed, assigned, note, blocked, done,
// reopened and broadcasts in the stream; kind and task filters that live in the URL;
// a new note arriving live; a task's history paged as you scroll its dialog; and
// compact task cards whose actions show on hover and focus without keeping room.
// Screenshots under test-output/screenshots.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortId } from '../../src/protocol/short-id.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { machinePool, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';
import { cliOutput, taskTitled } from './fleet-helpers.js';

const { machine, release } = machinePool();
let browser: TestBrowser;
let m: TestMachine;
const cliOk = (args: readonly string[]): string => cliOutput(m, args);
const hash = (page: Page): Promise<string> => page.evaluate<string>('decodeURIComponent(window.location.hash)');
/** Notes on the long task: more than two pages of its history. */
const LONG_NOTES = 120;

beforeAll(async () => {
  m = await machine({ name: 'ac' });
  await m.start();
  for (const s of ['api-1', 'web-1']) expect((await m.api('POST', '/sessions', { host: 'ac', session: s, cwd: m.dir })).status).toBe(201);
  cliOk(['project', 'add', 'api']);
  cliOk(['task', 'add', 'api', 'Rate limiter', '-p', '0']);
  cliOk(['task', 'add', 'api', 'Long haul']);
  cliOk(['task', 'add', 'api', 'Quiet one', '-p', '3']);
  // The long task's notes first: the lifecycle below is then on the stream's first page.
  const long = await taskTitled(m, 'Long haul');
  for (let i = 0; i < LONG_NOTES; i++) expect((await m.api('POST', '/updates', { text: `step ${i}`, task: long.id })).status).toBe(201);
  cliOk(['assign', 'Rate limiter', 'ac:api-1']);
  await waitFor('the assignment delivered', async () => (await taskTitled(m, 'Rate limiter')).assignment?.delivery === 'delivered', 20_000);
  cliOk(['update', 'token bucket in place', '--task', 'Rate limiter']);
  cliOk(['task', 'block', 'Rate limiter', '--note', 'waiting for the auth team']);
  cliOk(['task', 'done', 'Rate limiter']);
  cliOk(['task', 'reopen', 'Rate limiter']);
  cliOk(['group', 'add', 'everyone', 'ac:*']);
  cliOk(['broadcast', 'everyone', 'Stand-up in 10 minutes']);
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await release();
});

describe('activity shows the whole task lifecycle', () => {
  it('lists every step, filters by kind and by task in the URL, and takes a new note live', async () => {
    const p = await browser.open(`${m.url}/#/activity?kind=tasks`);
    const { page } = p;
    const view = page.locator('clare-activity-view');
    const rate = await taskTitled(m, 'Rate limiter');
    // Task changes only: created, started, blocked, done, reopened; no notes.
    for (const label of ['created', 'started', 'blocked', 'done', 'reopened']) {
      await view.locator('li[data-kind="created"], li[data-kind="status"]').locator('.badge', { hasText: new RegExp(`^${label}$`) }).first().waitFor();
    }
    expect(await view.locator('li[data-kind="note"]').count()).toBe(0);
    expect(await view.locator('li', { hasText: 'waiting for the auth team' }).count()).toBe(1);

    // All kinds: claims, assignments, notes and the broadcast too.
    await view.getByRole('button', { name: 'All', exact: true }).click();
    expect(await hash(page)).toBe('#/activity');
    for (const kind of ['claimed', 'assigned', 'note', 'broadcast']) await view.locator(`li[data-kind="${kind}"]`).first().waitFor();
    expect(await view.locator('li[data-kind="assigned"]', { hasText: 'ac:api-1' }).count()).toBe(1);
    expect(await view.locator('li[data-kind="claimed"]', { hasText: 'ac:api-1' }).count()).toBe(1);
    await p.screenshot('activity-lifecycle');

    // Kind filter in the URL.
    await view.getByRole('button', { name: 'Claims', exact: true }).click();
    expect(await hash(page)).toBe('#/activity?kind=claims');
    await expect.poll(async () => view.locator('li[data-kind="claimed"]').count()).toBeGreaterThan(0);
    expect(await view.locator('li:not([data-kind="claimed"]):not([data-kind="claim_lost"])').count()).toBe(0);

    // A task's title leads to its history alone (the kind filter stays).
    await view.getByRole('button', { name: 'All', exact: true }).click();
    await view.locator('li[data-kind="status"] a.task', { hasText: 'Rate limiter' }).first().click();
    expect(await hash(page)).toBe(`#/activity?task=${shortId(rate.id)}`);
    await view.locator('.scope', { hasText: 'Rate limiter' }).waitFor();
    await expect.poll(async () => view.locator('li', { hasText: 'Long haul' }).count()).toBe(0);
    const whole = (await m.api<{ items: { kind: string }[] }>('GET', `/tasks/${rate.id}/history`)).body.items;
    expect(whole.map((e) => e.kind).sort()).toEqual(['assigned', 'claimed', 'created', 'note', 'status', 'status', 'status', 'status']);
    await expect.poll(async () => view.locator('li').count()).toBe(whole.length);
    await p.screenshot('activity-task-history');

    // A note posted now shows on top of the history without a reload.
    cliOk(['update', 'written live', '--task', 'Rate limiter']);
    await view.locator('li[data-kind="note"]', { hasText: 'written live' }).waitFor({ timeout: 10_000 });
    expect(await view.locator('li').first().getAttribute('data-kind')).toBe('note');

    // A reload keeps both filters (they are the URL).
    await page.goto(`${m.url}/#/activity?kind=notes&task=${shortId(rate.id)}`);
    await p.waitConnection('live');
    await view.locator('li[data-kind="note"]', { hasText: 'written live' }).waitFor();
    expect(await view.locator('li:not([data-kind="note"])').count()).toBe(0);
    expect(p.problems).toEqual([]);
  }, 60_000);

  it('pages a task\'s history in its dialog as you scroll', async () => {
    const p = await browser.open(`${m.url}/#/board`);
    const { page } = p;
    const card = page.locator('clare-task-card article[aria-label="Long haul"]');
    await card.hover();
    await card.getByRole('button', { name: 'Edit' }).click();
    const history = page.locator('clare-task-dialog .history');
    await history.locator('li[data-kind="note"]').first().waitFor();
    const items = history.locator('li[data-kind]');
    // The newest page first (50), then more as the list scrolls to its end.
    await expect.poll(async () => items.count()).toBe(50);
    expect(await items.first().innerText()).toContain(`step ${LONG_NOTES - 1}`);
    for (let shown = 50; shown < LONG_NOTES + 1;) {
      await history.locator('ol').evaluate((ol) => { ol.scrollTop = ol.scrollHeight; });
      await waitFor(`more than ${shown} history items`, async () => (await items.count()) > shown, 10_000);
      shown = await items.count();
    }
    // Every note and the create, each once, newest first.
    expect(await items.count()).toBe(LONG_NOTES + 1);
    expect(await items.last().getAttribute('data-kind')).toBe('created');
    await p.screenshot('task-dialog-history', { fullPage: false });
    expect(p.problems).toEqual([]);
  }, 60_000);

  it('keeps cards compact: actions show on hover and focus, and hidden they take no room', async () => {
    const p = await browser.open(`${m.url}/#/board`, { viewport: { width: 1440, height: 900 } });
    const { page } = p;
    const card = page.locator('clare-task-card article[aria-label="Quiet one"]');
    await card.waitFor();
    await page.mouse.move(0, 0);
    const measure = (): Promise<{ height: number; gap: number; opacity: string; title: { width: number; font: number } }> => card.evaluate((a) => {
      const style = (el: typeof a): { position: string; opacity: string; fontSize: string } => {
        const cs = a.ownerDocument.defaultView?.getComputedStyle(el);
        return { position: cs?.position ?? '', opacity: cs?.opacity ?? '', fontSize: cs?.fontSize ?? '' };
      };
      const actions = a.querySelector('.actions')!;
      // The last child in the flow (the actions float over the card on a device that hovers).
      const inFlow = [...a.children].filter((c) => style(c).position !== 'absolute');
      const h4 = a.querySelector('h4')!;
      return {
        height: a.getBoundingClientRect().height,
        gap: a.getBoundingClientRect().bottom - inFlow.at(-1)!.getBoundingClientRect().bottom,
        opacity: style(actions).opacity,
        title: { width: h4.getBoundingClientRect().width, font: parseFloat(style(h4).fontSize) },
      };
    });
    const idle = await measure();
    expect(idle.opacity).toBe('0');
    // No reserved room: below the last thing shown lie only the padding and the border.
    expect(idle.gap).toBeLessThan(14);
    // Titles readable at 1440 px: at least 15 px type on a card at least 200 px wide.
    expect(idle.title.font).toBeGreaterThanOrEqual(15);
    expect(idle.title.width).toBeGreaterThanOrEqual(200);
    await card.hover();
    await expect.poll(async () => (await measure()).opacity).toBe('1');
    expect((await measure()).height).toBe(idle.height);
    await p.screenshot('board-card-hover-1440', { fullPage: false });
    await page.mouse.move(0, 0);
    await card.focus();
    await expect.poll(async () => (await measure()).opacity).toBe('1');
    expect(p.problems).toEqual([]);
  }, 60_000);
});
