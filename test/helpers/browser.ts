/**
 * A real browser for dashboard tests: Debian's Chromium driven by playwright-core,
 * headless, with a fresh empty profile per launch. Each page records console
 * errors, page errors and failed requests so a test can assert the page is clean.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from './daemon.js';

export const CHROMIUM = process.env['CLARE_CHROMIUM'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface TestBrowser {
  readonly context: BrowserContext;
  /** Opens `url` in a new page that records problems; waits for the dashboard to be live. */
  open(url: string, opts?: OpenOptions): Promise<DashboardPage>;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly colorScheme?: 'light' | 'dark';
  readonly viewport?: { readonly width: number; readonly height: number };
  /** Wait until the live badge says Live (default true). */
  readonly waitLive?: boolean;
}

export interface DashboardPage {
  readonly page: Page;
  /** Console errors, uncaught page errors and failed or 4xx/5xx requests, in order. */
  readonly problems: string[];
  /** Waits until the connection badge shows `state` (live, reconnecting, connecting). */
  waitConnection(state: 'live' | 'reconnecting' | 'connecting', timeoutMs?: number): Promise<void>;
  /** Navigates to a view by its tab, as a person would. */
  view(name: 'Fleet' | 'Board' | 'Activity' | 'Mesh' | 'Broadcast'): Promise<void>;
  /** Writes test-output/screenshots/<name>.png: the whole page, or (`fullPage: false`) what the viewport shows. */
  screenshot(name: string, opts?: { fullPage?: boolean }): Promise<string>;
}

/**
 * Launches Chromium with a new empty user data dir (removed on close). `args` adds
 * command-line switches (e.g. `--host-resolver-rules` to point a name at loopback).
 */
export async function launchBrowser(opts: { readonly args?: readonly string[] } = {}): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'clare-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: [...ARGS, ...(opts.args ?? [])], headless: true, viewport: { width: 1366, height: 900 } });
  return {
    context,
    async open(url, opts = {}) {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
      page.on('response', (r) => { if (r.status() >= 400) problems.push(`http ${r.status()}: ${r.request().method()} ${r.url()}`); });
      if (opts.viewport !== undefined) await page.setViewportSize({ width: opts.viewport.width, height: opts.viewport.height });
      await page.emulateMedia({ colorScheme: opts.colorScheme ?? 'light' });
      await page.goto(url);
      const dp: DashboardPage = {
        page,
        problems,
        async waitConnection(state, timeoutMs = 15_000) {
          await page.locator(`clare-connection-badge [data-state="${state}"]`).waitFor({ timeout: timeoutMs });
        },
        async view(name) {
          await page.locator('clare-app nav a', { hasText: name }).click();
          await page.locator(`clare-${name.toLowerCase()}-view`).waitFor();
        },
        async screenshot(name, o = {}) {
          mkdirSync(SCREENSHOTS, { recursive: true });
          const file = join(SCREENSHOTS, `${name}.png`);
          await page.screenshot({ path: file, fullPage: o.fullPage ?? true });
          return file;
        },
      };
      if (opts.waitLive !== false) await dp.waitConnection('live');
      return dp;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
