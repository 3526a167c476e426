/**
 * The claim register of a task (which session holds it) and the record of claims
 * that lost a merge. Only `applyEvent` calls these.
 *
 * The rule, what must stay true (docs/protocol.md, "Claims"): of all task.claimed
 * events of a task, the one that stands has the greatest base (it was made knowing
 * the newest claim), and between equal bases the smallest HLC (the earliest claim:
 * the one a connected mesh would have let through first). That is a maximum over a
 * total order, so any arrival order, any number of times, leaves the same holder.
 * Two claims of different sessions from different machines, neither made knowing the
 * other, form a conflict (the conflicts table, field `holder`); the loser goes into
 * lost_claims, where the losing host's delivery service finds it to tell its session.
 */
import { sessionKey } from '../domain.js';
import type { ApplicableEvent } from './apply-event.js';
import { cachedStatement as stmt, type Db } from '../db.js';
import { recordFieldWrite } from './registers.js';

/** Splits a `host:session` key (host names have no ':'). */
export function splitSessionKey(key: string): { host: string; session: string } {
  const i = key.indexOf(':');
  return { host: key.slice(0, i), session: key.slice(i + 1) };
}

/** Applies one task.claimed: the register, the conflicts it forms, the losers. */
export function applyClaim(db: Db, e: ApplicableEvent, p: { task_id: string; host: string; session: string; base: string | null }): void {
  const base = p.base ?? '';
  stmt(db, `INSERT INTO tasks (id, holder_host, holder_session, holder_hlc, holder_base) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET holder_host = excluded.holder_host, holder_session = excluded.holder_session,
      holder_hlc = excluded.holder_hlc, holder_base = excluded.holder_base
    WHERE tasks.holder_hlc IS NULL OR excluded.holder_base > tasks.holder_base
      OR (excluded.holder_base = tasks.holder_base AND excluded.holder_hlc < tasks.holder_hlc)`).run(p.task_id, p.host, p.session, e.hlc, base);
  const pairs = recordFieldWrite(db, {
    entity: 'task', entityId: p.task_id, field: 'holder', hlc: e.hlc, base, origin: e.origin, eventId: e.id, value: sessionKey(p.host, p.session), rule: 'claim',
  });
  for (const pair of pairs) {
    const loser = splitSessionKey(JSON.parse(pair.loser.value) as string);
    stmt(db, `INSERT INTO lost_claims (claim_event, lost, task_id, host, session) VALUES (?, 1, ?, ?, ?)
      ON CONFLICT (claim_event) DO UPDATE SET lost = 1, task_id = excluded.task_id, host = excluded.host, session = excluded.session`)
      .run(pair.loser.event, p.task_id, loser.host, loser.session);
  }
}
