// The dashboard pages (live protocol 2), in a real browser against a real daemon
// whose store holds more than a snapshot carries: the board's columns show the
// daemon's totals and load further pages as you scroll or press "Load more"; a
// title search and a project the snapshot does not cover load their own pages; a
// new task shows live within the loaded window and not beyond it; Activity loads
// older notes as you scroll. No console errors or failed requests throughout.
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMachineId } from '../../src/core/ids.js';
import { launchBrowser, type DashboardPage, type TestBrowser } from '../helpers/browser.js';
import { createMachine, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const OPEN = 450;
const DONE = 80;
const NOTES = 200;

let m: TestMachine;
let browser: TestBrowser;

beforeAll(async () => {
  m = await createMachine({ name: 'pages', env: { CLARE_LOG_LEVEL: 'warn' } });
  await m.start();
  const peer = newMachineId();
  // An hour ago: done tasks older than a day fold behind a button on the Board.
  let ms = Date.now() - 3_600_000;
  const ev = (type: string, payload: Record<string, unknown>) => ({ id: randomUUID(), hlc: `${String(ms++).padStart(15, '0')}:00000:${peer}`, origin: peer, type, v: type === 'task.created' ? 2 : 1, payload });
  const alpha = randomUUID();
  const beta = randomUUID();
  const events = [
    ev('project.created', { project_id: alpha, name: 'alpha', path: null, description: '', weight: 1 }),
    ev('project.created', { project_id: beta, name: 'beta', path: null, description: '', weight: 1 }),
  ];
  const task = (project: string, title: string, priority: number) => {
    const id = randomUUID();
    events.push(ev('task.created', { task_id: id, project_id: project, title, description: 'enough words to make a card look like a card', priority, depends_on: [] }));
    return id;
  };
  for (let i = 0; i < OPEN; i++) task(alpha, `alpha task ${i}`, i % 4);
  for (let i = 0; i < 3; i++) task(alpha, `needle ${i}`, 4); // last in urgency order: beyond the snapshot
  for (let i = 0; i < 5; i++) task(beta, `beta task ${i}`, 4);
  for (let i = 0; i < DONE; i++) events.push(ev('task.status_changed', { task_id: task(alpha, `done task ${i}`, 2), base: null, status: 'done' }));
  for (let i = 0; i < NOTES; i++) events.push(ev('update.posted', { update_id: randomUUID(), text: `old note ${i}`, task_id: null, host: null, session: null }));
  const r = await m.api('POST', '/sync/events', { events });
  expect(r.status).toBe(200);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await m.stop();
  m.cleanup();
});

const column = (page: Page, status: string) => page.locator(`clare-board-column section[data-status="${status}"]`);
const cards = (page: Page, status: string) => column(page, status).locator('clare-task-card');

async function countAtLeast(page: Page, status: string, n: number): Promise<number> {
  return waitFor(`${n} cards in ${status}`, async () => {
    const c = await cards(page, status).count();
    return c >= n ? c : null;
  }, 15_000);
}

describe('dashboard paging', () => {
  it('columns show the totals and load further pages as you scroll or ask', async () => {
    const p: DashboardPage = await browser.open(`${m.url}/#/board`);
    const { page } = p;
    await expect.poll(() => column(page, 'open').locator('[data-count]').textContent()).toBe(String(OPEN + 8));
    await expect.poll(() => column(page, 'done').locator('[data-count]').textContent()).toBe(String(DONE));
    // The snapshot holds a window of each column.
    const openLoaded = await cards(page, 'open').count();
    expect(openLoaded).toBeGreaterThan(0);
    expect(openLoaded).toBeLessThan(OPEN);
    expect(await cards(page, 'done').count()).toBeLessThan(DONE);
    // Recently done first: the last one done is on top.
    await expect.poll(() => cards(page, 'done').first().locator('article').getAttribute('aria-label')).toBe(`done task ${DONE - 1}`);

    // Scrolling to the column's end (where its "Load more" button is) loads the rest.
    await column(page, 'done').getByRole('button', { name: /Load more/ }).scrollIntoViewIfNeeded();
    await countAtLeast(page, 'done', DONE);
    await expect.poll(() => column(page, 'done').getByRole('button', { name: /Load more/ }).count()).toBe(0);

    // Scrolling to the end of the open column loads the next page.
    await column(page, 'open').locator('.sentinel').scrollIntoViewIfNeeded();
    await countAtLeast(page, 'open', openLoaded + 1);
    expect(p.problems).toEqual([]);
    await page.close();
  });

  it('a search and a project the snapshot does not cover load their own pages; a new task shows live within the window, not beyond it', async () => {
    const p = await browser.open(`${m.url}/#/board`);
    const { page } = p;
    await countAtLeast(page, 'open', 1);
    expect(await page.locator('clare-task-card article[aria-label="needle 0"]').count()).toBe(0);

    await page.getByLabel('Search task titles').fill('NEEDLE');
    await countAtLeast(page, 'open', 3);
    await expect.poll(() => cards(page, 'open').count()).toBe(3);
    await page.getByLabel('Search task titles').fill('');
    await expect.poll(() => cards(page, 'open').count()).toBeGreaterThan(3);

    await page.getByLabel('Project shown').selectOption({ label: 'beta' });
    await expect.poll(() => cards(page, 'open').count()).toBe(5);
    await page.getByLabel('Project shown').selectOption({ label: 'All projects' });

    // Priority 0 sorts within the loaded window (after the older priority-0 tasks): it shows, live.
    const t = await m.api<{ id: string }>('POST', '/tasks', { project: 'alpha', title: 'urgent from the API', priority: 0 });
    expect(t.status).toBe(201);
    await column(page, 'open').locator('clare-task-card article[aria-label="urgent from the API"]').waitFor({ timeout: 10_000 });
    // One that sorts beyond the window does not show out of place (it would after the loaded P0–P3 cards).
    await m.api('POST', '/tasks', { project: 'alpha', title: 'lowly from the API', priority: 4 });
    await m.api('POST', '/tasks', { project: 'alpha', title: 'marker', priority: 0 });
    await column(page, 'open').locator('clare-task-card article[aria-label="marker"]').waitFor({ timeout: 10_000 });
    expect(await column(page, 'open').locator('clare-task-card article[aria-label="lowly from the API"]').count()).toBe(0);
    expect(p.problems).toEqual([]);
    await page.close();
  });

  it('activity loads older notes as you scroll', async () => {
    const p = await browser.open(`${m.url}/#/activity`);
    const { page } = p;
    const oldest = page.locator('clare-activity-view li[data-kind="note"] p', { hasText: /^old note 0$/ });
    await page.locator('clare-activity-view li[data-kind="note"]').first().waitFor();
    expect(await oldest.count()).toBe(0);
    // Scroll to the end, wait for the list to grow, again, until all is loaded (the stream
    // also holds the tasks' lifecycle, older than the notes).
    const more = page.getByRole('button', { name: 'Load older' });
    for (let i = 0; i < 40 && (await more.count()) > 0; i++) {
      const shown = await page.locator('clare-activity-view li').count();
      await page.mouse.wheel(0, 1_000_000);
      await waitFor('older activity', async () => (await more.count()) === 0 || (await page.locator('clare-activity-view li').count()) > shown, 10_000);
    }
    await oldest.waitFor({ timeout: 15_000 });
    expect(await more.count()).toBe(0);
    expect(p.problems).toEqual([]);
    await page.close();
  });
});
