/**
 * Polling a condition until it holds or a deadline passes: the one implementation
 * behind test/helpers/wait-for.ts (which stretches deadlines under load) and the
 * plain-JavaScript tools (tools/demo.mjs). The first check is immediate; the
 * interval grows from 1 ms to `everyMs`, so a condition met at once costs nothing
 * and a slow daemon is not polled hard.
 *
 * @template T
 * @param {string | (() => string)} what  named in the timeout error
 * @param {() => T | Promise<T>} check  its first truthy result is returned; a throw counts as "not yet"
 * @param {number} timeoutMs
 * @param {number} [everyMs]
 * @returns {Promise<NonNullable<T>>}
 */
export async function poll(what, check, timeoutMs, everyMs = 25) {
  const end = performance.now() + timeoutMs;
  let last;
  let delay = 1;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(everyMs, delay * 2);
  }
}
