/**
 * The invariants every door is held to, as checks that report violations
 * (known-open.ts decides which fail the run):
 *
 * - a refusal is `{ error: { code, message } }` with a catalog code, under the
 *   HTTP status the catalog gives that code (or an error frame and a close code);
 * - no 5xx;
 * - a refused input writes nothing (the store's data_version does not move);
 * - what is stored, a peer accepts: every new event, encoded as replication sends
 *   it, is ingested by a fresh peer into the same stored text (`PeerMirror`);
 * - text typed into sessions or terminals carries no control characters;
 * - nothing nested deeper than MAX_JSON_DEPTH is stored.
 */
import { commitRemote } from '../../src/core/context.js';
import type Database from 'better-sqlite3';
import { digest } from '../../src/core/digest.js';
import { PROJECTION_TABLES } from '../../src/core/schema.js';
import { ClareError, ERROR_CATALOG, isErrorCode } from '../../src/core/errors.js';
import { EVENT_CATALOG, isEventType } from '../../src/core/events/catalog.js';
import { jsonTextDepth, MAX_JSON_DEPTH } from '../../src/core/json-bounds.js';
import type { EventId, MachineId } from '../../src/core/ids.js';
import type { Hlc } from '../../src/core/hlc.js';
import { encodeRawEvent } from '../../src/replication/batch-codec.js';
import { memoryContext } from '../helpers/memory-context.js';
import type { StoredEvent } from './fuzz-daemon.js';
import { hasControlChars } from './hostile.js';
import { violation } from './known-open.js';

/** The coded error `fn` throws (anything else, or nothing, fails the test). */
export function thrownCoded(fn: () => unknown): ClareError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ClareError) return e;
    throw e;
  }
  throw new Error('expected a ClareError');
}

/** Shortens a value for a violation message. */
export function brief(v: unknown, max = 300): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}

/** Parses an error body and checks it is coded, with the catalog's status for its code. Returns the code, or null. */
export function checkErrorBody(door: string, what: string, status: number, text: string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    violation(door, 'uncoded-error', `${what} → ${status} with a body that is not JSON: ${brief(text)}`);
    return null;
  }
  const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof err !== 'object' || err === null || typeof err.code !== 'string' || typeof err.message !== 'string' || err.message === '') {
    violation(door, 'uncoded-error', `${what} → ${status} without {error:{code,message}}: ${brief(text)}`);
    return null;
  }
  if (!isErrorCode(err.code)) {
    violation(door, 'uncoded-error', `${what} → ${status} with code ${err.code}, which is not in the catalog`);
    return err.code;
  }
  if (ERROR_CATALOG[err.code].status !== status) {
    violation(door, 'uncoded-error', `${what} → HTTP ${status} with ${err.code}, whose catalog status is ${ERROR_CATALOG[err.code].status}: ${brief(err.message)}`);
  }
  return err.code;
}

/**
 * Payload fields whose text is typed into agent sessions or shown in terminals
 * (delivery-message.ts types titles, names, paths, descriptions and broadcast
 * text; cwd is passed to rclaude spawn and shown by `clare status`).
 */
export const TYPED_FIELDS: ReadonlySet<string> = new Set(['title', 'description', 'name', 'path', 'text', 'cwd']);

/** Checks a stored payload: typed fields without control characters, nesting within the bound. */
export function checkStoredPayload(door: string, what: string, e: StoredEvent): void {
  const depth = jsonTextDepth(e.payload, MAX_JSON_DEPTH + 8);
  if (depth > MAX_JSON_DEPTH) violation(door, 'too-deep-accepted', `stored ${e.type} ${e.id} with a payload nested ${depth > MAX_JSON_DEPTH + 8 ? `more than ${MAX_JSON_DEPTH + 8}` : depth} deep; input: ${what}`);
  if (depth > MAX_JSON_DEPTH + 8) return;
  // Unknown types and newer versions are stored opaque (relayed, never applied or typed by
  // this version); what this version applies must satisfy its own schemas.
  const known = isEventType(e.type) && e.v <= EVENT_CATALOG[e.type].v;
  const stack: { v: unknown; key: string }[] = [{ v: JSON.parse(e.payload) as unknown, key: '' }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { v, key } = top;
    if (typeof v === 'string') {
      if (known && TYPED_FIELDS.has(key) && hasControlChars(v)) violation(door, 'control-chars', `stored ${e.type} with control characters in ${key}: ${brief(JSON.stringify(v), 120)}; input: ${what}`);
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push({ v: x, key });
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) stack.push({ v: x, key: k });
    }
  }
}

/**
 * A fresh peer that is sent every event the fuzzed store accepts, encoded the way
 * replication encodes stored rows. It must take each one, and store the same text.
 */
export class PeerMirror {
  readonly ctx = memoryContext();
  private readonly held = new Set<string>();

  /** Sends `events` (new rows of the fuzzed store, in seq order) to the mirror. */
  take(door: string, what: string, events: readonly StoredEvent[]): void {
    let fresh = events.filter((e) => !this.held.has(e.id));
    if (fresh.length === 0) return;
    for (const e of fresh) checkStoredPayload(door, what, e);
    // An event nested too deep is reported (checkStoredPayload) and kept from the peer; the rest go on.
    const tooDeep = fresh.filter((e) => jsonTextDepth(e.payload, MAX_JSON_DEPTH + 8) > MAX_JSON_DEPTH + 8);
    if (tooDeep.length > 0) {
      violation(door, 'roundtrip', `a batch of the stored events is nested too deep for any peer to parse safely; input: ${what}`);
      for (const e of tooDeep) this.held.add(e.id);
      fresh = fresh.filter((e) => !tooDeep.includes(e));
      if (fresh.length === 0) return;
    }
    const frame = `[${fresh.map((e) => encodeRawEvent({ id: e.id as EventId, hlc: e.hlc as Hlc, origin: e.origin as MachineId, type: e.type, v: e.v, payload: e.payload })).join(',')}]`;
    let parsed: unknown[];
    try {
      parsed = JSON.parse(frame) as unknown[];
    } catch (err) {
      violation(door, 'roundtrip', `the stored events do not encode as JSON: ${(err as Error).message}; input: ${what}`);
      return;
    }
    try {
      const r = commitRemote(this.ctx, parsed, 'fuzz');
      if (r.events.length !== fresh.length) violation(door, 'roundtrip', `a fresh peer took ${r.events.length} of ${fresh.length} new events (${r.duplicates} as known); input: ${what}`);
    } catch (err) {
      violation(door, 'roundtrip', `a fresh peer refuses what the store accepted (${fresh.map((e) => e.type).join(', ')}): ${(err as Error).message}; input: ${what}`);
      for (const e of fresh) this.held.add(e.id);
      return;
    }
    const get = this.ctx.db.prepare('SELECT payload FROM events WHERE id = ?').pluck();
    for (const e of fresh) {
      this.held.add(e.id);
      const mine = get.get(e.id) as string | undefined;
      if (mine !== e.payload) violation(door, 'roundtrip', `${e.type} ${e.id} is stored as ${brief(e.payload, 200)} but a peer stores ${brief(mine, 200)}; input: ${what}`);
    }
  }

  /** The mirror's projection digest (equal to the fuzzed store's once it holds everything). */
  digest(): string {
    return digest(this.ctx.db);
  }

  /** Where the mirror's projections differ from `other`'s: the first differing row per table, or '' when equal. */
  diff(other: Database.Database): string {
    const out: string[] = [];
    for (const t of PROJECTION_TABLES) {
      if (!t.digest) continue;
      const rows = (db: Database.Database): string[] => (db.prepare(`SELECT * FROM ${t.name} ORDER BY ${t.key}`).raw().all()).map((r) => JSON.stringify(r));
      const mine = rows(this.ctx.db);
      const theirs = rows(other);
      if (mine.join('\n') === theirs.join('\n')) continue;
      const theirSet = new Set(theirs);
      const mineSet = new Set(mine);
      const onlyMine = mine.filter((r) => !theirSet.has(r)).slice(0, 2);
      const onlyTheirs = theirs.filter((r) => !mineSet.has(r)).slice(0, 2);
      out.push(`${t.name} (${mine.length} rows at the peer, ${theirs.length} in the store): peer has ${onlyMine.map((r) => brief(r, 300)).join(' ; ')} where the store has ${onlyTheirs.map((r) => brief(r, 300)).join(' ; ')}`);
    }
    return out.join(' | ');
  }

  close(): void {
    this.ctx.db.close();
  }
}
