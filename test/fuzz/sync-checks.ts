/**
 * Checks shared by the two sync doors (HTTP batches and WebSocket frames), made
 * once a batch was accepted: every event of it is now held exactly as sent
 * (same id, HLC, origin, type, version and — normalised as the store normalises —
 * payload), the HLC it carries belongs to no other id, and no origin was given an
 * event below what the store already held of it without having it.
 */
import type Database from 'better-sqlite3';
import { checkPayload, EVENT_CATALOG, isEventType } from '../../src/core/events/catalog.js';
import type { StoredEvent } from './fuzz-daemon.js';
import type { BuiltEvent } from './event-arb.js';
import { wireText } from './hostile.js';
import { brief } from './invariants.js';
import { violation } from './known-open.js';

/** The payload text the store keeps for a payload as sent (current versions are stored as parsed). */
function storedForm(type: string, v: number, payloadText: string): string {
  const payload = JSON.parse(payloadText) as unknown;
  if (isEventType(type) && v === EVENT_CATALOG[type].v) {
    const c = checkPayload(type, v, payload);
    if (c.kind === 'known') return JSON.stringify(c.draft.payload);
  }
  return JSON.stringify(payload);
}

/** Per origin, the newest HLC held (read before a batch is sent). */
export function readWatermarks(read: Database.Database): Record<string, string> {
  const rows = read.prepare('SELECT origin, hlc FROM watermarks').all() as { origin: string; hlc: string }[];
  return Object.fromEntries(rows.map((r) => [r.origin, r.hlc]));
}

/**
 * After a batch was accepted: each of its events is held as sent, under its own
 * HLC, and none landed below its origin's earlier watermark.
 */
export function checkAccepted(door: string, what: string, built: readonly BuiltEvent[], read: Database.Database, before: Readonly<Record<string, string>>, heldBefore: ReadonlySet<string>): void {
  const byId = read.prepare('SELECT seq, id, hlc, origin, type, v, payload FROM events WHERE id = ?');
  const byHlc = read.prepare('SELECT id FROM events WHERE hlc = ?').pluck();
  for (const b of built) {
    const e = b.wire as { id?: unknown; hlc?: unknown; origin?: unknown; type?: unknown; v?: unknown; payload?: unknown };
    if (typeof b.id !== 'string' || typeof b.hlc !== 'string') continue;
    const row = byId.get(b.id) as StoredEvent | undefined;
    if (row === undefined) {
      violation(door, 'identity', `the batch was accepted, yet event ${b.id} (${b.spec.type}, ${b.spec.idMode}) is not held; input: ${what}`);
      continue;
    }
    const sent = { hlc: b.hlc, origin: b.origin, type: e.type, v: e.v };
    const same = row.hlc === sent.hlc && row.origin === sent.origin && row.type === sent.type && row.v === sent.v;
    let payloadSame = true;
    if (same && e.payload !== undefined) {
      try {
        payloadSame = storedForm(row.type, row.v, wireText(e.payload as never)) === row.payload;
      } catch {
        payloadSame = false;
      }
    }
    if (!same || !payloadSame) {
      const proto = e.payload !== undefined && /"__proto__"\s*:/.test(wireText(e.payload as never)) ? ', payload has a "__proto__" key' : '';
      violation(door, 'identity', `event id ${b.id} was accepted, but the store holds other content under it (${b.spec.idMode}${proto}): sent ${brief(sent)} ${brief(e.payload === undefined ? null : wireText(e.payload as never), 120)}, held ${brief({ hlc: row.hlc, origin: row.origin, type: row.type, v: row.v })} ${brief(row.payload, 120)}; input: ${what}`);
    }
    const owner = byHlc.get(b.hlc) as string | undefined;
    if (owner !== undefined && owner !== b.id) violation(door, 'identity', `HLC ${b.hlc} was accepted under id ${b.id}, but the store holds it under ${owner} (${b.spec.idMode}); input: ${what}`);
    const wm = b.origin === null ? undefined : before[b.origin];
    if (wm !== undefined && b.hlc < wm && !heldBefore.has(b.id)) {
      violation(door, 'accepted-invalid', `event ${b.id} of origin ${b.origin} at ${b.hlc} was accepted below that origin's watermark ${wm}, which no peer will ever be sent; input: ${what}`);
    }
  }
}
