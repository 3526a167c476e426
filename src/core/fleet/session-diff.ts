/**
 * What a pull of this host's session listing means for the event log: the events
 * that bring the projections in line with the listing, and nothing else. A pure
 * function, so the event-volume rules are tested without tmux.
 */
import type { SessionState } from '../../protocol/models.js';
import type { EventDraft } from '../events/catalog.js';
import type { Session } from '../../protocol/models.js';
import type { ListedSession } from './rclaude.js';

/**
 * How far `last_activity` must move, on its own, before it is worth an event (ms).
 *
 * Event volume: a working agent's `last_activity` changes on every poll, and every
 * event is stored and replicated to every peer forever. So `last_activity` is
 * recorded when it rides along with a change of state or cwd (free: that event is
 * written anyway), and alone only when the session is not `working` and the value
 * moved by at least this much. What that keeps true: for an idle or waiting
 * session, `now - last_activity` (the idle time `clare status` shows) is right to
 * within a minute; a working session costs no events until its state changes, and
 * its `last_activity` then reads as "working since".
 */
export const LAST_ACTIVITY_RESOLUTION_MS = 60_000;

export interface SessionDiff {
  readonly drafts: EventDraft[];
  readonly appeared: number;
  readonly changed: number;
  readonly gone: number;
}

/**
 * Compares `listed` (this host's sessions, as rclaude reports them now) with
 * `known` (the projections' sessions of this host, gone ones included) and returns
 * the events for what changed: `session.seen` for a new or reappeared session,
 * `session.changed` with only the changed fields, `session.gone` for a session no
 * longer listed (marked, never deleted). An unchanged listing gives no events.
 */
export function diffSessions(known: readonly Session[], listed: readonly ListedSession[]): SessionDiff {
  const byName = new Map(known.map((s) => [s.session, s]));
  const drafts: EventDraft[] = [];
  let appeared = 0;
  let changed = 0;
  let gone = 0;
  for (const l of listed) {
    const k = byName.get(l.session);
    if (k === undefined || k.gone || k.state === null) {
      drafts.push({ type: 'session.seen', payload: { host: l.host, session: l.session, cwd: l.cwd, state: l.state, last_activity: l.last_activity } });
      appeared++;
      continue;
    }
    const fields: { cwd?: string; state?: SessionState; last_activity?: string } = {};
    if (k.state !== l.state) fields.state = l.state;
    if (k.cwd !== l.cwd) fields.cwd = l.cwd;
    if (k.last_activity !== l.last_activity && recordActivity(k, l, fields.state !== undefined || fields.cwd !== undefined)) fields.last_activity = l.last_activity;
    if (Object.keys(fields).length > 0) {
      drafts.push({ type: 'session.changed', payload: { host: l.host, session: l.session, fields } });
      changed++;
    }
  }
  const listedNames = new Set(listed.map((l) => l.session));
  for (const k of known) {
    if (!k.gone && !listedNames.has(k.session)) {
      drafts.push({ type: 'session.gone', payload: { host: k.host, session: k.session } });
      gone++;
    }
  }
  return { drafts, appeared, changed, gone };
}

function recordActivity(k: Session, l: ListedSession, otherChange: boolean): boolean {
  if (otherChange || k.last_activity === null) return true;
  if (l.state === 'working') return false;
  return Math.abs(Date.parse(l.last_activity) - Date.parse(k.last_activity)) >= LAST_ACTIVITY_RESOLUTION_MS;
}
