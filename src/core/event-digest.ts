/**
 * Event-set digests: what two stores compare to know they hold the same events,
 * without listing them.
 *
 * - **Event hash** `h`: the first 8 bytes of SHA-256 over the event's id, hlc,
 *   origin, type, v and stored payload text, as a signed 64-bit integer (SQLite's
 *   INTEGER). Stored in `events.h` when the event is stored.
 * - **Origin digest**: the sum of `h` over all events held of one origin, modulo
 *   2^64. Order-independent, and O(1) to keep: the transaction that stores events
 *   adds their hashes to `watermarks.digest`. Two stores hold the same events of an
 *   origin exactly when their counts and digests agree (up to 2^-64 accidents).
 * - **Range summary**: count and digest of an origin's events in an HLC range
 *   `(after, upto]`, computed on demand with SQL over the `(origin, hlc, h)` index;
 *   anti-entropy halves ranges whose summaries differ (src/replication/anti-entropy.ts).
 * - **Event-set digest**: one SHA-256 over every origin's watermark, count and
 *   digest. Equal event-set digests: equal event sets. It costs O(origins), so
 *   `GET /api/v1/sync/state` answers with it. The projection digest
 *   (`digest.ts`) stays for explicit checks: it says the projections match too.
 *
 * Wire form of a digest: 16 lower-case hex digits of the unsigned 64-bit value.
 */
import { createHash, hash } from 'node:crypto';
import { cachedStatement as stmt, type Db } from './db.js';
import type { Hlc } from './hlc.js';
import { trustedHlc } from './ids.js';

/** A count and a digest: of an origin, or of a range of its events. */
export interface Summary {
  readonly count: number;
  /** Sum of the events' hashes modulo 2^64, as a signed 64-bit value. */
  readonly digest: bigint;
}

/** What a store holds of one origin: its watermark, count and digest. */
export interface OriginSummary extends Summary {
  readonly hlc: Hlc;
}

/** The 64-bit hash of one event's identity and content (signed, as SQLite stores it). */
export function eventHash(id: string, hlc: string, origin: string, type: string, v: number, payloadJson: string): bigint {
  // The fields are validated uuids, HLCs, a dotted type and an integer: none holds a newline.
  return hash('sha256', `${id}\n${hlc}\n${origin}\n${type}\n${v}\n${payloadJson}`, 'buffer').readBigInt64BE(0);
}

/** Adds two digests (or a digest and a hash) modulo 2^64. */
export function addDigest(a: bigint, b: bigint): bigint {
  return BigInt.asIntN(64, a + b);
}

/** The wire form: 16 hex digits of the unsigned value. */
export function digestHex(d: bigint): string {
  return BigInt.asUintN(64, d).toString(16).padStart(16, '0');
}

/** Parses the wire form back (the caller has checked it is 16 hex digits). */
export function parseDigestHex(s: string): bigint {
  return BigInt.asIntN(64, BigInt(`0x${s}`));
}

/** Count and digest of `origin`'s events with `after < hlc <= upto` (`after` '' = from the start). */
export function rangeSummary(db: Db, origin: string, after: string, upto: string): Summary {
  if (after === '') {
    // The whole origin up to its watermark or beyond: the maintained figures, no scan.
    const w = stmt(db, 'SELECT hlc, count, digest FROM watermarks WHERE origin = ?').safeIntegers(true).get(origin) as { hlc: string; count: bigint; digest: bigint } | undefined;
    if (w === undefined) return { count: 0, digest: 0n };
    if (upto >= w.hlc) return { count: Number(w.count), digest: w.digest };
  }
  // h = hi·2^32 + lo exactly (arithmetic shift), and the sums of the 32-bit halves cannot
  // overflow SQLite's 64-bit integers below 2^31 events, so the digest needs no custom SQL.
  const r = stmt(db, `SELECT count(*) AS n, coalesce(sum(h >> 32), 0) AS hi, coalesce(sum(h & 4294967295), 0) AS lo
    FROM events WHERE origin = ? AND hlc > ? AND hlc <= ?`).safeIntegers(true).get(origin, after, upto) as { n: bigint; hi: bigint; lo: bigint };
  return { count: Number(r.n), digest: BigInt.asIntN(64, (r.hi << 32n) + r.lo) };
}

/** Per origin held: watermark, count and digest, read from the maintained `watermarks` table. */
export function originSummaries(db: Db): Map<string, OriginSummary> {
  const rows = stmt(db, 'SELECT origin, hlc, count, digest FROM watermarks ORDER BY origin').safeIntegers(true).all() as { origin: string; hlc: string; count: bigint; digest: bigint }[];
  return new Map(rows.map((r) => [r.origin, { hlc: trustedHlc(r.hlc), count: Number(r.count), digest: r.digest }]));
}

/** Per origin, the wire form of its digest. */
export function originDigests(db: Db): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [origin, s] of originSummaries(db)) out[origin] = digestHex(s.digest);
  return out;
}

/**
 * The event-set digest: SHA-256 (hex) over every origin's watermark, count and
 * digest, in origin order. O(origins); equal on two stores exactly when they hold
 * the same events.
 */
export function eventSetDigest(db: Db): string {
  const h = createHash('sha256');
  for (const [origin, s] of originSummaries(db)) h.update(`${origin} ${s.hlc} ${s.count} ${digestHex(s.digest)}\n`);
  return h.digest('hex');
}

/**
 * Registers the SQL functions migration 3 uses to hash the events already held:
 * `clare_event_hash(id, hlc, origin, type, v, payload)` and the aggregate
 * `clare_hsum(h)` (sum modulo 2^64). Called by `openDb` before migrating.
 */
export function registerDigestFunctions(db: Db): void {
  db.function('clare_event_hash', { deterministic: true, safeIntegers: true }, (id: unknown, hlc: unknown, origin: unknown, type: unknown, v: unknown, payload: unknown) =>
    eventHash(String(id), String(hlc), String(origin), String(type), Number(v), String(payload)));
  db.aggregate('clare_hsum', {
    start: 0n,
    step: (acc: bigint, h: unknown) => addDigest(acc, BigInt(h as bigint)),
    safeIntegers: true,
    deterministic: true,
  });
}
