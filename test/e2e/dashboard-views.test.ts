// Every view of the dashboard against a daemon with a realistic fleet: no console
// errors and no failed requests, a screenshot per view (light, dark, phone) under
// test-output/screenshots for a person to look at, and the board's actions —
// create, edit, complete, assign by picker and by drag, peek — done as a person
// would, landing in the API and coming back live.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/protocol/models.js';
import { launchBrowser, type DashboardPage, type TestBrowser } from '../helpers/browser.js';
import { createMachine, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

let browser: TestBrowser;
let m: TestMachine;

function cliOk(args: readonly string[]): string {
  const r = m.cli(args);
  if (r.code !== 0) throw new Error(`clare ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function task(title: string): Promise<Task> {
  const all = (await m.api<{ items: Task[] }>('GET', `/tasks?q=${encodeURIComponent(title)}`)).body.items;
  const t = all.find((x) => x.title === title);
  if (t === undefined) throw new Error(`no task ${title}`);
  return t;
}

beforeAll(async () => {
  m = await createMachine({ name: 'desk' });
  await m.start();
  for (const s of ['api-agent', 'web-agent', 'docs-agent']) expect((await m.api('POST', '/sessions', { host: 'desk', session: s, cwd: m.dir })).status).toBe(201);
  cliOk(['project', 'add', 'web']);
  cliOk(['project', 'add', 'api']);
  cliOk(['task', 'add', 'web', 'Login page', '-p', '1']);
  cliOk(['task', 'add', 'web', 'Login tests', '-d', 'Login page']);
  cliOk(['task', 'add', 'web', 'Password reset flow', '-p', '3', '--description', 'Email a one-time link']);
  cliOk(['task', 'add', 'api', 'Rate limiter', '-p', '0']);
  cliOk(['task', 'add', 'api', 'Token refresh']);
  cliOk(['task', 'add', 'api', 'Pagination for /items', '-p', '2']);
  cliOk(['task', 'block', 'Token refresh', '--note', 'waiting for the auth team']);
  cliOk(['task', 'start', 'Pagination for /items']);
  cliOk(['task', 'add', 'api', 'Health endpoint']);
  cliOk(['task', 'done', 'Health endpoint']);
  cliOk(['assign', 'Rate limiter', 'desk:api-agent']);
  cliOk(['group', 'add', 'everyone', 'desk:*']);
  cliOk(['broadcast', 'everyone', 'Stand-up in 10 minutes: post a one-line status']);
  cliOk(['update', 'Rate limiter: token bucket in place, writing tests', '--task', 'Rate limiter']);
  // Receipts and the assignment's delivery come from the fleet's delivery service.
  await waitFor('receipts for the broadcast', async () => {
    const u = (await m.api<{ items: { kind: string; receipts: unknown[] }[] }>('GET', '/updates?kind=broadcast')).body.items;
    return u[0]?.receipts.length === 3;
  }, 20_000);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await m.stop();
  m.cleanup();
});

const VIEWS = ['Fleet', 'Board', 'Activity', 'Mesh', 'Broadcast'] as const;
const VARIANTS = [
  { name: 'laptop-light', colorScheme: 'light', viewport: { width: 1366, height: 900 } },
  { name: 'laptop-dark', colorScheme: 'dark', viewport: { width: 1366, height: 900 } },
  { name: 'phone-light', colorScheme: 'light', viewport: { width: 390, height: 844 } },
  { name: 'phone-dark', colorScheme: 'dark', viewport: { width: 390, height: 844 } },
] as const;

function card(page: Page, title: string) {
  return page.locator(`clare-task-card article[aria-label="${title}"]`);
}

describe('dashboard views', () => {
  it.each(VARIANTS)('renders every view ($name) with no console errors or failed requests', async (v) => {
    const p: DashboardPage = await browser.open(`${m.url}/`, { colorScheme: v.colorScheme, viewport: v.viewport });
    for (const view of VIEWS) {
      await p.view(view);
      // Wait for content, not for time: each view has something known to show.
      const ready = {
        Fleet: 'clare-session-row .row[data-session="desk:api-agent"]',
        Board: 'clare-task-card article[aria-label="Login tests"]',
        Activity: 'clare-activity-view li[data-kind="broadcast"] [data-receipt]',
        Mesh: 'clare-mesh-view table',
        Broadcast: 'clare-broadcast-view clare-receipt-list [data-receipt]',
      }[view];
      await p.page.locator(ready).first().waitFor();
      await p.screenshot(`${view.toLowerCase()}-${v.name}`);
    }
    if (v.name === 'laptop-light' || v.name === 'phone-dark') {
      await p.view('Board');
      await card(p.page, 'Login tests').getByRole('button', { name: 'Edit' }).click();
      await p.page.locator('clare-task-dialog dialog[open]').waitFor();
      await p.screenshot(`board-edit-dialog-${v.name}`, { fullPage: false });
      await p.page.keyboard.press('Escape');
      await p.page.locator('clare-task-dialog dialog[open]').waitFor({ state: 'detached' });
      await p.view('Fleet');
      await p.page.getByRole('button', { name: 'Show the screen of desk:api-agent' }).click();
      await p.page.locator('clare-screen-dialog pre', { hasText: 'fake-agent api-agent ready' }).waitFor();
      await p.screenshot(`fleet-peek-${v.name}`, { fullPage: false });
      await p.page.keyboard.press('Escape');
    }
    expect(p.problems).toEqual([]);
    await p.page.close();
  });

  it('creates, edits, completes and assigns tasks from the board, through the API', async () => {
    const p = await browser.open(`${m.url}/#/board`);
    const page = p.page;

    // Create: the dialog posts to the API; the card comes back over the live stream.
    await page.getByRole('button', { name: 'New task' }).click();
    const dialog = page.locator('clare-task-dialog dialog[open]');
    await dialog.getByLabel('Project').selectOption({ label: 'web' });
    await dialog.getByLabel('Title').fill('Remember me checkbox');
    await dialog.getByLabel('Priority').selectOption('1');
    await dialog.getByLabel(/Depends on/).selectOption({ label: 'Login page' });
    await dialog.getByRole('button', { name: 'Create task' }).click();
    await dialog.waitFor({ state: 'detached' });
    await card(page, 'Remember me checkbox').locator('.badge', { hasText: 'waiting for 1' }).waitFor();
    const created = await task('Remember me checkbox');
    expect(created).toMatchObject({ priority: 1, project: 'web', depends_on: [(await task('Login page')).id] });

    // Edit the title.
    await card(page, 'Remember me checkbox').getByRole('button', { name: 'Edit' }).click();
    await dialog.getByLabel('Title').fill('Remember-me checkbox');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await card(page, 'Remember-me checkbox').waitFor();
    expect((await task('Remember-me checkbox')).id).toBe(created.id);

    // Complete the dependency: the waiting mark goes away live.
    await card(page, 'Login page').getByRole('button', { name: 'Complete' }).click();
    await page.locator('clare-board-column section[data-status="done"] clare-task-card article[aria-label="Login page"]').waitFor();
    await card(page, 'Remember-me checkbox').locator('.badge', { hasText: 'ready' }).waitFor();
    expect((await task('Login page')).status).toBe('done');

    // Assign with the picker (keyboard-friendly path).
    await card(page, 'Remember-me checkbox').getByRole('button', { name: 'Assign…' }).click();
    await card(page, 'Remember-me checkbox').getByLabel(/Session for/).selectOption('desk:web-agent');
    await card(page, 'Remember-me checkbox').getByRole('button', { name: 'Assign', exact: true }).click();
    await card(page, 'Remember-me checkbox').locator('.who', { hasText: 'desk:web-agent' }).waitFor();
    expect((await task('Remember-me checkbox')).assignment).toMatchObject({ host: 'desk', session: 'web-agent' });

    // Assign by dragging a card onto a session.
    await card(page, 'Password reset flow').dragTo(page.locator('clare-board-view aside clare-session-row .row[data-session="desk:docs-agent"]'));
    await card(page, 'Password reset flow').locator('.who', { hasText: 'desk:docs-agent' }).waitFor();
    expect((await task('Password reset flow')).assignment).toMatchObject({ session: 'docs-agent' });

    // And by keyboard alone: focus the Complete button of a card and press Enter.
    await card(page, 'Login tests').getByRole('button', { name: 'Complete' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('clare-board-column section[data-status="done"] clare-task-card article[aria-label="Login tests"]').waitFor();

    // A refused write (a dependency cycle) is shown in the dialog, and nothing changes.
    await card(page, 'Login page').getByRole('button', { name: 'Edit' }).click();
    await dialog.getByLabel('Add a dependency').selectOption({ label: 'Remember-me checkbox' });
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('alert').filter({ hasText: /cycle/ }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await task('Login page')).depends_on).toEqual([]);

    await p.screenshot('board-after-actions-laptop-light');
    // The only failed request is the refused dependency (409), which the page showed.
    const refused = (x: string): boolean => /409/.test(x) && /dependencies|status of 409/.test(x);
    expect(p.problems.filter(refused).length).toBeGreaterThan(0);
    expect(p.problems.filter((x) => !refused(x))).toEqual([]);
    await page.close();
  });
});
