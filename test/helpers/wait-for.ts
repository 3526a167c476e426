/**
 * The one way tests wait: poll a condition until it holds or a deadline passes.
 * No fixed sleeps. The first check is immediate and the poll interval grows from
 * 1 ms to `everyMs`, so microtask-driven in-memory delivery is seen at once and
 * a slow daemon is not polled hard.
 */
import { cpus, loadavg } from 'node:os';

/** Deadlines stretch by `CLARE_TEST_TIME_SCALE` (vitest.config.ts sets it from the load per core; default 1). */
export const TIME_SCALE = Math.max(1, Number(process.env.CLARE_TEST_TIME_SCALE ?? '1') || 1);

/**
 * The load per core now, clamped to 1–4: how much slower than on an idle machine a
 * process may start. For long runs (the fault campaign) whose load changes while they
 * run, where a scale fixed at start would not do.
 */
export function loadScaleNow(): number {
  return Math.min(4, Math.max(1, loadavg()[0]! / cpus().length));
}

/**
 * Polls `check` until it returns a truthy value (returned) or `timeoutMs` (times
 * TIME_SCALE) passes; then throws naming `what` and the last error `check` threw.
 */
export async function waitFor<T>(what: string | (() => string), check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const limit = timeoutMs * TIME_SCALE;
  const end = performance.now() + limit;
  let last: unknown;
  let delay = 1;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > end) {
      throw new Error(`timed out after ${limit} ms waiting for ${typeof what === 'string' ? what : what()}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(everyMs, delay * 2);
  }
}
