// The dashboard as a person keeps it open all day, in the real browser against a
// daemon with the rclaude stand-in: sessions waiting for input first and marked,
// a browser notification when one starts waiting (permission granted in the
// browser context), search and filters that live in the URL, keyboard shortcuts
// with their `?` sheet, and a live peek. Screenshots under test-output/screenshots.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/protocol/models.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { machinePool, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';
import { cliOutput, editConfig, rclaude, spawnSessions, taskTitled } from './fleet-helpers.js';

const { machine, release } = machinePool();
let browser: TestBrowser;
let m: TestMachine;

const cliOk = (args: readonly string[]): string => cliOutput(m, args);
const task = (title: string): Promise<Task> => taskTitled(m, title);

const hash = (page: Page): Promise<string> => page.evaluate<string>('decodeURIComponent(window.location.hash)');

beforeAll(async () => {
  m = await machine({ name: 'dk' });
  editConfig(m, 'poll_interval_s = 10', 'poll_interval_s = 1');
  spawnSessions(m, 'api-1', 'api-2', 'web-1');
  await m.start();
  await waitFor('three sessions', async () => (await m.api<{ items: unknown[] }>('GET', '/sessions')).body.items.length === 3, 15_000);
  // Tasks of two projects, one per priority that the filters pick out.
  cliOk(['project', 'add', 'web']);
  cliOk(['project', 'add', 'api']);
  cliOk(['task', 'add', 'api', 'Rate limiter', '-p', '0']);
  cliOk(['task', 'add', 'api', 'Pagination for /items', '-p', '2']);
  cliOk(['task', 'add', 'web', 'Login page', '-p', '1']);
  cliOk(['task', 'add', 'web', 'Password reset flow', '-p', '3']);
  browser = await launchBrowser();
  // Notifications: granted for the daemon's origin, as a person's "Allow" would.
  await browser.context.grantPermissions(['notifications'], { origin: m.url });
  // Records each notification the page shows (the real constructor still runs).
  await browser.context.addInitScript(`
    window.__notes = [];
    const Real = window.Notification;
    window.Notification = class extends Real {
      constructor(title, opts) { super(title, opts); window.__notes.push(title); }
    };`);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await release();
});

describe('a dashboard to keep open all day', () => {
  it('puts sessions waiting for input first, marked, and notifies when one starts waiting', async () => {
    const p = await browser.open(`${m.url}/#/fleet`);
    const { page } = p;
    await page.locator('clare-session-row .row[data-session="dk:api-2"]').first().waitFor();
    await page.getByRole('button', { name: 'Notify me when a session waits' }).click();
    await page.getByRole('button', { name: 'Notifying when a session waits' }).waitFor();

    expect(rclaude(m, ['send', 'dk:api-2', 'shall I go on?']).code).toBe(0);
    const strip = page.locator('clare-fleet-view section.waiting');
    await strip.locator('.row[data-session="dk:api-2"]').waitFor({ timeout: 15_000 });
    expect(await strip.locator('h3').textContent()).toContain('Waiting for input (1)');
    // First in its host, and marked.
    const first = page.locator('clare-host-card clare-session-row .row').first();
    expect(await first.getAttribute('data-session')).toBe('dk:api-2');
    expect(await first.getAttribute('class')).toContain('waiting');
    await waitFor('a notification', async () => (await page.evaluate<string[]>('window.__notes')).includes('dk:api-2 is waiting for input'), 10_000);
    await p.screenshot('daily-fleet-waiting-laptop-light');
    for (const v of [{ name: 'laptop-dark', scheme: 'dark', w: 1440, h: 900 }, { name: 'phone-light', scheme: 'light', w: 390, h: 844 }, { name: 'phone-dark', scheme: 'dark', w: 390, h: 844 }] as const) {
      await page.emulateMedia({ colorScheme: v.scheme });
      await page.setViewportSize({ width: v.w, height: v.h });
      await p.screenshot(`daily-fleet-waiting-${v.name}`);
    }
    // Answered: it leaves the strip.
    expect(rclaude(m, ['send', 'dk:api-2', 'yes, go on']).code).toBe(0);
    await strip.waitFor({ state: 'detached', timeout: 15_000 });
    expect(p.problems).toEqual([]);
    await page.close();
  });

  it('keeps search and filters in the URL, on the fleet and the board', async () => {
    const p = await browser.open(`${m.url}/#/fleet`);
    const { page } = p;
    await page.locator('clare-host-card clare-session-row .row[data-session="dk:web-1"]').waitFor();
    await page.getByLabel('Search').fill('web');
    await waitFor('the search in the URL', async () => (await hash(page)) === '#/fleet?q=web');
    await expect.poll(() => page.locator('clare-host-card clare-session-row .row').count()).toBe(1);
    // A reload (or a shared link) shows the same.
    await page.reload();
    await page.locator('clare-host-card clare-session-row .row[data-session="dk:web-1"]').waitFor();
    expect(await page.locator('clare-host-card clare-session-row .row').count()).toBe(1);
    expect(await page.getByLabel('Search').inputValue()).toBe('web');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => page.locator('clare-host-card clare-session-row .row').count()).toBe(3);
    await page.getByLabel('State').selectOption('exited');
    await waitFor('the state filter in the URL', async () => (await hash(page)) === '#/fleet?state=exited');
    await page.getByText('No session matches these filters.').waitFor();

    await page.goto(`${m.url}/#/board?priority=0`);
    await page.locator('clare-task-card article[aria-label="Rate limiter"]').waitFor();
    expect(await page.locator('clare-task-card article').count()).toBe(1);
    await page.getByLabel('Priority').selectOption('');
    await page.locator('clare-task-card article[aria-label="Login page"]').waitFor();
    await page.getByLabel('Project shown').selectOption({ label: 'web' });
    await waitFor('the project in the URL', async () => /^#\/board\?project=[0-9a-f-]{36}$/.test(await hash(page)));
    await expect.poll(() => page.locator('clare-task-card article').count()).toBe(2);
    await p.screenshot('daily-board-filtered-laptop-light');
    expect(p.problems).toEqual([]);
    await page.close();
  });

  it('answers the keyboard: / to search, j/k to move, a to assign, d to finish, ? for the sheet', async () => {
    const p = await browser.open(`${m.url}/#/board`, { viewport: { width: 1440, height: 900 } });
    const { page } = p;
    await page.locator('clare-task-card article[aria-label="Rate limiter"]').waitFor();
    await page.keyboard.press('/');
    await page.keyboard.type('Pagination');
    await waitFor('the typed search in the URL', async () => (await hash(page)) === '#/board?q=Pagination');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => page.locator('clare-task-card article').count()).toBe(4);
    await page.getByRole('heading', { name: 'Board', exact: true }).click();

    await page.keyboard.press('j');
    const focused = page.locator('clare-task-card article:focus');
    expect(await focused.getAttribute('aria-label')).toBe('Rate limiter');
    await page.keyboard.press('j');
    expect(await focused.getAttribute('aria-label')).not.toBe('Rate limiter');
    await page.keyboard.press('k');
    expect(await focused.getAttribute('aria-label')).toBe('Rate limiter');
    // a: the session picker opens in that card, focused.
    await page.keyboard.press('a');
    const picker = page.locator('clare-task-card article[aria-label="Rate limiter"] select[name="session"]');
    await picker.waitFor();
    await picker.selectOption('dk:api-1');
    await page.locator('clare-task-card article[aria-label="Rate limiter"]').getByRole('button', { name: 'Assign', exact: true }).click();
    await waitFor('assigned', async () => (await task('Rate limiter')).assignment?.session === 'api-1', 10_000);
    // d: done.
    await page.locator('clare-task-card article[aria-label="Rate limiter"]').focus();
    await page.keyboard.press('d');
    await waitFor('done', async () => (await task('Rate limiter')).status === 'done', 10_000);

    await page.keyboard.press('?');
    const sheet = page.locator('clare-shortcut-sheet dialog[open]');
    await sheet.waitFor();
    expect(await sheet.textContent()).toContain('Mark the current task done');
    await p.screenshot('daily-shortcuts-sheet-laptop-light', { fullPage: false });
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached' });
    // Typing in a field is not a shortcut.
    await page.keyboard.press('/');
    await page.keyboard.type('?d');
    expect(await page.locator('clare-shortcut-sheet dialog[open]').count()).toBe(0);
    expect(p.problems).toEqual([]);
    await page.close();
  });

  it('folds done work older than a day behind a button', async () => {
    const done = await task('Rate limiter');
    expect(done.status).toBe('done');
    const p = await browser.open(`${m.url}/#/board?state=done`, { waitLive: false });
    const { page } = p;
    // Two days on, as the page sees it: today's done work is now old.
    await page.clock.setFixedTime(Date.now() + 2 * 24 * 3600_000);
    await page.reload();
    await p.waitConnection('live');
    const fold = page.getByRole('button', { name: 'Show 1 done more than a day ago' });
    await fold.waitFor();
    expect(await page.locator('clare-task-card article[aria-label="Rate limiter"]').count()).toBe(0);
    await fold.click();
    await page.locator('clare-task-card article[aria-label="Rate limiter"]').waitFor();
    await page.getByRole('button', { name: 'Fold done work older than a day' }).click();
    await expect.poll(() => page.locator('clare-task-card article[aria-label="Rate limiter"]').count()).toBe(0);
    expect(p.problems).toEqual([]);
    await page.close();
  });

  it('peek is live: the screen follows the agent while the dialog is open', async () => {
    const p = await browser.open(`${m.url}/#/fleet`);
    const { page } = p;
    await page.getByRole('button', { name: 'Show the screen of dk:web-1' }).first().click();
    const pre = page.locator('clare-screen-dialog pre');
    await pre.filter({ hasText: 'fake-agent web-1 ready' }).waitFor();
    expect(rclaude(m, ['send', 'dk:web-1', 'live line one']).code).toBe(0);
    // No click: the open dialog refreshes on its own.
    await pre.filter({ hasText: 'done: live line one' }).waitFor({ timeout: 15_000 });
    await p.screenshot('daily-peek-live-laptop-light', { fullPage: false });
    await page.keyboard.press('Escape');
    await page.locator('clare-screen-dialog dialog[open]').waitFor({ state: 'detached' });
    expect(p.problems).toEqual([]);
    await page.close();
  });
});
