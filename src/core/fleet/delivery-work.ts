/**
 * What this host still has to deliver, read from the projections, and the local
 * intent rows that make a delivery exactly-once across crashes. Synchronous reads
 * and writes on the handle passed in; the delivery service decides when to run them.
 */
import { cachedStatement as stmt, type Db } from '../db.js';
import { matchesPattern, sessionKey } from '../domain.js';
import { hlcMs } from '../hlc.js';

/** One send to one session: an assignment, one copy of a broadcast, or the news that its claim lost (ref: the claim event). */
export type DeliveryItem =
  | { readonly kind: 'assignment'; readonly ref: string; readonly host: string; readonly session: string; readonly taskId: string }
  | { readonly kind: 'claim'; readonly ref: string; readonly host: string; readonly session: string; readonly taskId: string }
  | { readonly kind: 'broadcast'; readonly ref: string; readonly host: string; readonly session: string; readonly group: string; readonly text: string; readonly expiresMs: number | null };

/** A stable key of an item: one per (kind, ref, host, session). */
export function itemKey(i: { kind: string; ref: string; host: string; session: string }): string {
  return `${i.kind}/${i.ref}/${i.host}:${i.session}`;
}

/** Active assignments to sessions of `host` with no delivery outcome yet, oldest first (task known here). */
export function pendingAssignments(db: Db, host: string): DeliveryItem[] {
  const rows = stmt(db, `SELECT a.id, a.task_id, a.session FROM assignments a
    WHERE a.created = 1 AND a.removed = 0 AND a.delivery IS NULL AND a.host = ?
      AND EXISTS (SELECT 1 FROM tasks t WHERE t.id = a.task_id AND t.created = 1)
    ORDER BY a.created_hlc, a.id`).all(host) as { id: string; task_id: string; session: string }[];
  return rows.map((r) => ({ kind: 'assignment', ref: r.id, host, session: r.session, taskId: r.task_id }));
}

/** Most lost-claim notices one scan queues (the rest wait for the next scan). */
const CLAIM_NOTICES_PER_SCAN = 100;

/** Claims of this host's sessions that lost a merge and whose session was not told yet (index lost_claims_pending). */
export function pendingClaimNotices(db: Db, host: string): DeliveryItem[] {
  const rows = stmt(db, `SELECT claim_event, task_id, session FROM lost_claims WHERE host = ? AND status IS NULL AND lost = 1
    ORDER BY claim_event LIMIT ?`).all(host, CLAIM_NOTICES_PER_SCAN) as { claim_event: string; task_id: string; session: string }[];
  return rows.map((r) => ({ kind: 'claim', ref: r.claim_event, host, session: r.session, taskId: r.task_id }));
}

/** The task of a lost claim, if the merge recorded it here. */
export function lostClaimTask(db: Db, claimEvent: string): string | null {
  const r = stmt(db, 'SELECT task_id FROM lost_claims WHERE claim_event = ? AND task_id IS NOT NULL').get(claimEvent) as { task_id: string } | undefined;
  return r?.task_id ?? null;
}

/**
 * Copies of broadcasts this host owes: for each broadcast, the host's sessions that
 * are not gone, match one of the group's member patterns (on `host:session`), have
 * no receipt yet, and had appeared by the time the broadcast was sent.
 *
 * A broadcast goes to the group as it was when sent: member patterns added later
 * do not count (a pattern's register HLC is newer than the broadcast's). No grace is
 * needed there: the sender held the group's members when it broadcast, so its
 * clock had seen their HLCs and the broadcast's is greater.
 *
 * "Had appeared" is the session's current appearance (its `seen` register's HLC) at
 * most `graceMs` after the broadcast's HLC time. Without it every new session would
 * get every old broadcast typed into it. The grace covers a session started just
 * before the broadcast but not yet polled (the poll interval) and the clocks of the
 * two machines disagreeing (the mesh's skew bound).
 */
export function pendingBroadcastCopies(db: Db, host: string, graceMs: number): DeliveryItem[] {
  const sessions = stmt(db, 'SELECT session, seen_hlc FROM sessions WHERE host = ? AND gone = 0 AND seen = 1 AND seen_hlc IS NOT NULL ORDER BY session')
    .all(host) as { session: string; seen_hlc: string }[];
  if (sessions.length === 0) return [];
  const appeared = sessions.map((s) => ({ session: s.session, ms: hlcMs(s.seen_hlc) }));
  // Broadcasts older than every session's appearance (minus the grace) owe nothing here.
  const oldest = Math.max(0, Math.min(...appeared.map((s) => s.ms)) - graceMs);
  const broadcasts = stmt(db, "SELECT id, hlc, group_name, text, expires_ms FROM updates WHERE kind = 'broadcast' AND hlc >= ? ORDER BY hlc")
    .all(String(oldest).padStart(15, '0')) as { id: string; hlc: string; group_name: string; text: string; expires_ms: number | null }[];
  const members = stmt(db, 'SELECT pattern FROM group_members WHERE group_name = ? AND present = 1 AND hlc < ?');
  const receipt = stmt(db, 'SELECT 1 FROM receipts WHERE update_id = ? AND host = ? AND session = ? AND status IS NOT NULL');
  const out: DeliveryItem[] = [];
  for (const b of broadcasts) {
    const patterns = (members.all(b.group_name, b.hlc) as { pattern: string }[]).map((m) => m.pattern);
    if (patterns.length === 0) continue;
    const sentMs = hlcMs(b.hlc);
    for (const s of appeared) {
      if (s.ms > sentMs + graceMs) continue;
      const key = sessionKey(host, s.session);
      if (!patterns.some((p) => matchesPattern(p, key))) continue;
      if (receipt.get(b.id, host, s.session) !== undefined) continue;
      out.push({ kind: 'broadcast', ref: b.id, host, session: s.session, group: b.group_name, text: b.text, expiresMs: b.expires_ms });
    }
  }
  return out;
}

/** Whether the item still needs sending: not delivered or recorded, not removed meanwhile. */
export function stillPending(db: Db, i: DeliveryItem): boolean {
  if (i.kind === 'assignment') {
    return stmt(db, 'SELECT 1 FROM assignments WHERE id = ? AND removed = 0 AND delivery IS NULL').get(i.ref) !== undefined;
  }
  if (i.kind === 'claim') return !hasOutcome(db, i);
  return stmt(db, 'SELECT 1 FROM receipts WHERE update_id = ? AND host = ? AND session = ? AND status IS NOT NULL').get(i.ref, i.host, i.session) === undefined;
}

/** Whether an outcome (delivered/failed/expired) is recorded for the item. */
export function hasOutcome(db: Db, i: { kind: string; ref: string; host: string; session: string }): boolean {
  if (i.kind === 'assignment') return stmt(db, 'SELECT 1 FROM assignments WHERE id = ? AND delivery IS NOT NULL').get(i.ref) !== undefined;
  if (i.kind === 'claim') return stmt(db, 'SELECT 1 FROM lost_claims WHERE claim_event = ? AND status IS NOT NULL').get(i.ref) !== undefined;
  return stmt(db, 'SELECT 1 FROM receipts WHERE update_id = ? AND host = ? AND session = ? AND status IS NOT NULL').get(i.ref, i.host, i.session) !== undefined;
}

export interface Intent {
  readonly kind: 'assignment' | 'broadcast' | 'claim';
  readonly ref: string;
  readonly host: string;
  readonly session: string;
  readonly started_at: string;
}

/** Records that a send is about to start. Must be durable before the send runs. */
export function writeIntent(db: Db, i: DeliveryItem, at: Date): void {
  stmt(db, 'INSERT OR REPLACE INTO delivery_intents (kind, ref, host, session, started_at) VALUES (?, ?, ?, ?, ?)')
    .run(i.kind, i.ref, i.host, i.session, at.toISOString());
}

export function clearIntent(db: Db, i: { kind: string; ref: string; host: string; session: string }): void {
  stmt(db, 'DELETE FROM delivery_intents WHERE kind = ? AND ref = ? AND host = ? AND session = ?').run(i.kind, i.ref, i.host, i.session);
}

export function listIntents(db: Db): Intent[] {
  return stmt(db, 'SELECT kind, ref, host, session, started_at FROM delivery_intents ORDER BY started_at').all() as Intent[];
}
