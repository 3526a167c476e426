/**
 * Search and filters that live in the URL (`#/board?q=login&priority=1`), so a view
 * can be bookmarked, shared and survives a reload; and the pure rules that apply
 * them. Unknown keys and bad values are dropped, never trusted: the hash is input.
 */
import type { ActivityKind } from '../protocol/activity.js';
import type { Session, SessionState, Task, TaskStatus } from '../protocol/models.js';

export interface Filters {
  /** Free text: a task's title, description or short id; a session's name, host, cwd or task. */
  readonly q: string;
  readonly project: string;
  readonly host: string;
  readonly session: string;
  /** '' or 0…4. */
  readonly priority: string;
  /** A task status (board) or a session state (fleet); '' for any. */
  readonly state: string;
  /** Activity: one of ACTIVITY_FILTERS' ids; '' for all. */
  readonly kind: string;
  /** Activity: a task's id or short id, whose history alone is shown; '' for the whole stream. */
  readonly task: string;
}

export const NO_FILTERS: Filters = { q: '', project: '', host: '', session: '', priority: '', state: '', kind: '', task: '' };

/** The Activity view's kind filters, and the item kinds (protocol/activity.ts) each shows; `conflicts` also shows the merge's conflicts. */
export const ACTIVITY_FILTERS = [
  { id: 'tasks', label: 'Task changes', kinds: ['created', 'status', 'edited', 'archived'] },
  { id: 'claims', label: 'Claims', kinds: ['claimed', 'claim_lost'] },
  { id: 'assignments', label: 'Assignments', kinds: ['assigned'] },
  { id: 'notes', label: 'Notes', kinds: ['note'] },
  { id: 'broadcasts', label: 'Broadcasts', kinds: ['broadcast'] },
  { id: 'conflicts', label: 'Conflicts', kinds: ['claim_lost'] },
] as const satisfies readonly { id: string; label: string; kinds: readonly ActivityKind[] }[];

const KEYS = ['q', 'project', 'host', 'session', 'priority', 'state', 'kind', 'task'] as const;
const MAX_VALUE = 200;

const TASK_STATES: readonly TaskStatus[] = ['open', 'in_progress', 'blocked', 'done'];
const SESSION_STATES: readonly SessionState[] = ['waiting', 'working', 'idle', 'exited'];

/** The filters in a hash such as `#/fleet?state=waiting`. */
export function filtersFromHash(hash: string): Filters {
  const i = hash.indexOf('?');
  if (i < 0) return NO_FILTERS;
  const p = new URLSearchParams(hash.slice(i + 1));
  const out: Record<string, string> = { ...NO_FILTERS };
  for (const k of KEYS) out[k] = (p.get(k) ?? '').trim().slice(0, MAX_VALUE);
  const priority = out['priority'] ?? '';
  const state = out['state'] ?? '';
  if (!/^[0-4]?$/.test(priority)) out['priority'] = '';
  if (state !== '' && !(TASK_STATES as readonly string[]).includes(state) && !(SESSION_STATES as readonly string[]).includes(state)) out['state'] = '';
  if (!ACTIVITY_FILTERS.some((f) => f.id === out['kind'])) out['kind'] = '';
  if (!/^[0-9a-f-]*$/.test(out['task'] ?? '')) out['task'] = '';
  return out as unknown as Filters;
}

/** The hash for `view` with `f` (empty filters leave no `?`). */
export function hashFor(view: string, f: Filters): string {
  const p = new URLSearchParams();
  for (const k of KEYS) if (f[k] !== '') p.set(k, f[k]);
  const qs = p.toString();
  return `#/${view}${qs === '' ? '' : `?${qs}`}`;
}

/** How many filters are set (the search included). */
export function activeFilters(f: Filters): number {
  return KEYS.filter((k) => f[k] !== '').length;
}

const has = (hay: string | null | undefined, needle: string): boolean => hay !== null && hay !== undefined && hay.toLowerCase().includes(needle);

/** Whether a task passes the board's filters (project and search are also applied by the daemon's query). */
export function taskMatches(t: Task, f: Filters): boolean {
  if (f.project !== '' && t.project_id !== f.project) return false;
  if (f.priority !== '' && t.priority !== Number(f.priority)) return false;
  if (f.state !== '' && (TASK_STATES as readonly string[]).includes(f.state) && t.status !== f.state) return false;
  const a = t.assignment;
  if (f.host !== '' && a?.host !== f.host) return false;
  if (f.session !== '' && (a === null || `${a.host}:${a.session}` !== f.session)) return false;
  const q = f.q.toLowerCase();
  return q === '' || has(t.title, q) || has(t.description, q) || t.id.endsWith(q);
}

/** Whether a session passes the fleet's filters. */
export function sessionMatches(s: Session, f: Filters, taskTitle?: string): boolean {
  if (f.host !== '' && s.host !== f.host) return false;
  if (f.session !== '' && s.key !== f.session && s.session !== f.session) return false;
  if (f.state !== '' && (SESSION_STATES as readonly string[]).includes(f.state) && s.state !== f.state) return false;
  const q = f.q.toLowerCase();
  return q === '' || has(s.key, q) || has(s.cwd, q) || has(taskTitle, q);
}

/** Sessions by urgency: waiting for a person first, then working, idle, exited; then by name. */
const RANK: Readonly<Record<string, number>> = { waiting: 0, working: 1, idle: 2, exited: 3 };
export function byUrgency(a: Session, b: Session): number {
  return (a.gone ? 9 : RANK[a.state ?? ''] ?? 4) - (b.gone ? 9 : RANK[b.state ?? ''] ?? 4) || a.key.localeCompare(b.key);
}

/**
 * Sessions that started waiting for input between two states of the fleet: waiting
 * now, and not waiting before (a session first seen waiting counts, once `before`
 * is known at all — the first snapshot notifies nothing).
 */
export function newlyWaiting(before: ReadonlyMap<string, Session> | null, now: ReadonlyMap<string, Session>): Session[] {
  if (before === null) return [];
  const out: Session[] = [];
  for (const s of now.values()) {
    if (s.state !== 'waiting' || s.gone) continue;
    const prev = before.get(s.key);
    if (prev === undefined || prev.state !== 'waiting' || prev.gone) out.push(s);
  }
  return out;
}
