/**
 * Nesting bounds for JSON at every door (HTTP bodies, WebSocket frames, event
 * payloads, stored payloads). Hostile input nested thousands deep overflows the
 * stack of recursive code — `JSON.stringify`, zod, structured clone — so depth is
 * measured without recursion, on the text before it is parsed and on values
 * before they are walked.
 *
 * Depth counts containers: `1`, `"x"`, `null` are 0; `{}` and `[]` are 1;
 * `{"a":[{}]}` is 3. A value of depth `MAX_JSON_DEPTH` passes; one deeper does not.
 */
import { ClareError } from './errors.js';

/** Deepest nesting of arrays and objects accepted anywhere. */
export const MAX_JSON_DEPTH = 64;

/**
 * Deepest nesting in JSON text, found by one scan without recursion. Strings (with
 * escapes) are skipped, so brackets inside them do not count. Stops scanning once
 * `stopAbove` is passed and returns `stopAbove + 1`. Text that is not JSON gets a
 * number too; parsing it afterwards reports the syntax error.
 */
export function jsonTextDepth(text: string, stopAbove: number = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return stopAbove + 1;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return max;
}

/**
 * Deepest nesting of a parsed value, walked with an explicit stack. Stops once
 * `stopAbove` is passed and returns `stopAbove + 1`.
 */
export function valueDepth(value: unknown, stopAbove: number = MAX_JSON_DEPTH): number {
  let max = 0;
  const stack: { v: unknown; d: number }[] = [{ v: value, d: 0 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { v, d } = top;
    if (typeof v !== 'object' || v === null) continue;
    const depth = d + 1;
    if (depth > max) {
      max = depth;
      if (max > stopAbove) return stopAbove + 1;
    }
    const children: readonly unknown[] = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push({ v: child, d: depth });
  }
  return max;
}

/** The CLARE_TOO_DEEP error for `what` (e.g. "request body", "sync frame", "event #3 payload"). */
export function tooDeep(what: string, limit: number = MAX_JSON_DEPTH): ClareError {
  return new ClareError('CLARE_TOO_DEEP', `${what} is nested more than ${limit} levels deep; nothing was written`, { limit });
}

/**
 * Parses JSON text whose nesting is within `limit`. Throws CLARE_TOO_DEEP when it
 * is deeper and CLARE_BAD_REQUEST when it is not JSON; either way nothing was parsed
 * recursively past the limit.
 */
export function parseJsonBounded(text: string, what: string, limit: number = MAX_JSON_DEPTH): unknown {
  if (jsonTextDepth(text, limit) > limit) throw tooDeep(what, limit);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ClareError('CLARE_BAD_REQUEST', `${what} is not valid JSON: ${(e as Error).message}`);
  }
}
