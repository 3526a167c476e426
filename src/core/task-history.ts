/**
 * The activity stream and a task's history, read from the event log (events are the
 * truth; no projection is needed): one item per task.created, status change, edit,
 * archive, claim, lost claim, assignment, note and broadcast, newest first by HLC.
 *
 * What must stay true: a page costs the same at any size of the log. Each kind is
 * read from the partial index events_activity (type, hlc), at most limit + 1 rows per
 * kind asked for; a task's history from events_task (task id, hlc). The type lists
 * below repeat the indexes' WHERE clauses (schema.ts, migration 7) word for word:
 * SQLite uses a partial index only when the query's terms imply its WHERE clause.
 */
import { ACTIVITY_KINDS, type ActivityEntry, type ActivityKind } from '../protocol/activity.js';
import type { Page } from '../protocol/page.js';
import { cachedStatement as stmt, type Db } from './db.js';
import { checkPayload, type EventDraft } from './events/catalog.js';
import { hlcMs } from './hlc.js';
import { decodeCursor, scopeOf, toPage, type PageRequest } from './paging.js';
import { jsonIds } from './queries.js';

/** The event type each kind of item is made from. */
export const TYPE_OF_KIND: Readonly<Record<ActivityKind, string>> = {
  created: 'task.created', status: 'task.status_changed', edited: 'task.updated', archived: 'task.archived',
  claimed: 'task.claimed', claim_lost: 'task.claim_notice', assigned: 'assignment.created', note: 'update.posted', broadcast: 'broadcast.sent',
};

const ACTIVITY_TYPES = "('task.created', 'task.status_changed', 'task.updated', 'task.archived', 'task.claimed', 'task.claim_notice', 'assignment.created', 'update.posted', 'broadcast.sent')";
const TASK_TYPES = "('task.created', 'task.status_changed', 'task.updated', 'task.archived', 'task.claimed', 'task.claim_notice', 'assignment.created', 'update.posted')";

interface EventRow { id: string; hlc: string; origin: string; type: string; v: number; payload: string }
const COLS = 'id, hlc, origin, type, v, payload';

const KIND_OF_TYPE = new Map(ACTIVITY_KINDS.map((k) => [TYPE_OF_KIND[k], k]));

/** An event as an activity item without its task's title; null for one this build cannot read (a newer peer's version). */
function toEntry(r: EventRow): Omit<ActivityEntry, 'task_title'> | null {
  const kind = KIND_OF_TYPE.get(r.type);
  if (kind === undefined) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(r.payload);
  } catch {
    return null;
  }
  const c = checkPayload(r.type, r.v, raw);
  if (c.kind !== 'known') return null;
  return {
    id: r.id, hlc: r.hlc, at: new Date(hlcMs(r.hlc)).toISOString(), origin: r.origin, kind,
    task_id: null, host: null, session: null, status: null, text: null, group: null, previous: null, fields: null, ref: null, notice: null,
    ...fields(c.draft),
  };
}

type Fields = Partial<Omit<ActivityEntry, 'id' | 'hlc' | 'at' | 'origin' | 'kind' | 'task_title'>>;

function fields(d: EventDraft): Fields {
  switch (d.type) {
    case 'task.created': return { task_id: d.payload.task_id, text: d.payload.title };
    case 'task.status_changed': return { task_id: d.payload.task_id, status: d.payload.status, text: d.payload.note ?? null };
    case 'task.updated': return { task_id: d.payload.task_id, fields: Object.keys(d.payload.fields).filter((k) => d.payload.fields[k as keyof typeof d.payload.fields] !== undefined).sort() };
    case 'task.archived': return { task_id: d.payload.task_id };
    case 'task.claimed': {
      const prev = d.payload.previous;
      return { task_id: d.payload.task_id, host: d.payload.host, session: d.payload.session, previous: prev === null ? null : `${prev.host}:${prev.session}` };
    }
    case 'task.claim_notice': return { task_id: d.payload.task_id, host: d.payload.host, session: d.payload.session, notice: d.payload.status, text: d.payload.detail };
    case 'assignment.created': return { task_id: d.payload.task_id, host: d.payload.host, session: d.payload.session, ref: d.payload.assignment_id };
    case 'update.posted': return { task_id: d.payload.task_id, host: d.payload.host, session: d.payload.session, text: d.payload.text, ref: d.payload.update_id };
    case 'broadcast.sent': return { group: d.payload.group, text: d.payload.text, ref: d.payload.update_id };
    default: return {};
  }
}

function toItems(db: Db, rows: readonly EventRow[], p: PageRequest, scope: string): Page<ActivityEntry> {
  const entries = new Map(rows.slice(0, p.limit).map((r) => [r, toEntry(r)]));
  const taskIds = [...entries.values()].flatMap((e) => (e?.task_id == null ? [] : [e.task_id]));
  const titles = new Map((stmt(db, 'SELECT id, title FROM tasks WHERE id IN (SELECT value FROM json_each(?))').all(jsonIds(taskIds)) as { id: string; title: string | null }[])
    .map((t) => [t.id, t.title]));
  const page = toPage(rows, p, scope, (r) => [r.hlc], (r) => {
    const e = entries.get(r);
    return e == null ? null : { ...e, task_title: e.task_id === null ? null : titles.get(e.task_id) ?? null };
  });
  return { items: page.items.filter((x): x is ActivityEntry => x !== null), next_cursor: page.next_cursor };
}

/**
 * The activity stream, newest first, of the kinds asked for (all by default): at most
 * `limit` items, continued by `cursor`. Reads at most limit + 1 index rows per kind.
 */
export function pageActivity(db: Db, kinds: readonly ActivityKind[] | undefined, p: PageRequest): Page<ActivityEntry> {
  const wanted = [...new Set(kinds ?? ACTIVITY_KINDS)].sort();
  const scope = scopeOf('activity', 'newest', { kinds: wanted.join(',') });
  const after = p.cursor === undefined ? [] : decodeCursor(p.cursor, scope, 's');
  const q = stmt(db, `SELECT ${COLS} FROM events WHERE type = ? AND type IN ${ACTIVITY_TYPES} AND hlc < ? ORDER BY hlc DESC LIMIT ?`);
  const bound = after.length === 0 ? '~' : String(after[0]); // '~' sorts after every HLC (they begin with digits)
  const rows: EventRow[] = [];
  for (const k of wanted) rows.push(...(q.all(TYPE_OF_KIND[k], bound, p.limit + 1) as EventRow[]));
  rows.sort((a, b) => (a.hlc < b.hlc ? 1 : a.hlc > b.hlc ? -1 : 0));
  return toItems(db, rows.slice(0, p.limit + 1), p, scope);
}

/** One task's history, newest first: at most `limit` items, continued by `cursor`. One index seek per page. */
export function pageTaskHistory(db: Db, taskId: string, p: PageRequest): Page<ActivityEntry> {
  const scope = scopeOf('task-history', 'newest', { task: taskId });
  const after = p.cursor === undefined ? [] : decodeCursor(p.cursor, scope, 's');
  const bound = after.length === 0 ? '~' : String(after[0]);
  const rows = stmt(db, `SELECT ${COLS} FROM events WHERE json_extract(payload, '$.task_id') = ? AND type IN ${TASK_TYPES} AND hlc < ? ORDER BY hlc DESC LIMIT ?`)
    .all(taskId, bound, p.limit + 1) as EventRow[];
  return toItems(db, rows, p, scope);
}
