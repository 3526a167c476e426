/**
 * The event log as JSON lines, for archiving and for moving events between Clare
 * versions: one event envelope per line (`{"id","hlc","origin","type","v","payload"}`),
 * in HLC order, so every origin's events come in the order they were written.
 *
 * Export streams from the database (memory does not grow with the log); import
 * reads lines into bounded batches that the CLI hands to the daemon's sync ingest,
 * the same validated door peers' events come through.
 */
import type { Db } from './db.js';
import { ClareError } from './errors.js';
import { MAX_PAYLOAD_BYTES } from './events/envelope.js';
import { parseJsonBounded } from './json-bounds.js';

/** Longest line import accepts: a maximal payload plus its envelope. */
export const MAX_LINE_BYTES = MAX_PAYLOAD_BYTES + 4096;

interface Row { id: string; hlc: string; origin: string; type: string; v: number; payload: string }

/**
 * Every event as one JSON line, in HLC order. The payload is written as the JSON
 * text stored (as it was received), so an export re-imports byte for byte.
 */
export function* eventLines(db: Db): Generator<string> {
  for (const r of db.prepare('SELECT id, hlc, origin, type, v, payload FROM events ORDER BY hlc').iterate() as IterableIterator<Row>) {
    yield `{"id":${JSON.stringify(r.id)},"hlc":${JSON.stringify(r.hlc)},"origin":${JSON.stringify(r.origin)},"type":${JSON.stringify(r.type)},"v":${r.v},"payload":${r.payload}}\n`;
  }
}

/** A batch of parsed lines, with the line numbers it came from (for error messages). */
export interface LineBatch {
  readonly events: unknown[];
  readonly firstLine: number;
  readonly lastLine: number;
}

export interface BatchLimits {
  /** Most events per batch. */
  readonly events: number;
  /** Most bytes of line text per batch. */
  readonly bytes: number;
}

/**
 * Groups JSON lines into batches within `limits`. Blank lines are skipped; a line
 * that is too long, not JSON, nested too deep or not an object fails with
 * CLARE_BAD_REQUEST naming its line number, before anything of it is sent.
 */
export async function* lineBatches(lines: AsyncIterable<string>, limits: BatchLimits, source: string): AsyncGenerator<LineBatch> {
  let events: unknown[] = [];
  let bytes = 0;
  let first = 0;
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    const where = `${source}:${n}`;
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) throw new ClareError('CLARE_TOO_LARGE', `${where}: a line of more than ${MAX_LINE_BYTES} bytes is not an event Clare writes`);
    const v = parseJsonBounded(line, `line ${where}`);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ClareError('CLARE_BAD_REQUEST', `${where}: expected one event object per line`);
    if (events.length > 0 && (events.length >= limits.events || bytes + line.length > limits.bytes)) {
      yield { events, firstLine: first, lastLine: n - 1 };
      events = [];
      bytes = 0;
    }
    if (events.length === 0) first = n;
    events.push(v);
    bytes += line.length + 1;
  }
  if (events.length > 0) yield { events, firstLine: first, lastLine: n };
}
