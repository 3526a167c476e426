/**
 * From a committed batch to the `change` frames the dashboard needs: every entity
 * whose read-model may differ after the commit, re-read with the same queries the
 * API uses. Besides the store's own `Change`s, derived read-models are re-read too:
 *
 * - an assignment change re-reads its task (`task.assignment`, `ready`) and its
 *   session (`session.task_id`);
 * - a task change re-reads the tasks that depend on it (`blocked_by`, `ready`);
 * - a receipt change re-reads its update (the broadcast with all its receipts);
 * - every event re-reads its origin machine (`last_event_at`, the hosts' last seen);
 * - a field edit re-reads the conflicts the merge may have recorded.
 *
 * A row that is archived, removed, gone or not yet created is sent as `null`.
 */
import type { CommitNotice } from '../core/commit-feed.js';
import type { Db } from '../core/db.js';
import type { Conflict } from '../protocol/models.js';
import { getAssignment, getGroup, getMachine, getProject, getSession, getUpdate, recentConflicts, tasksByIds } from '../core/queries.js';
import { dependentsOf } from '../core/task-queries.js';
import type { ChangeMessage, LiveConflict } from '../protocol/live.js';

/** Past this many entities in one commit, a fresh snapshot is cheaper than the frames. */
export const MAX_CHANGES_PER_COMMIT = 400;

/** Event types whose apply may record a conflict (field edits of tasks and projects). */
const EDIT_TYPES: ReadonlySet<string> = new Set(['task.updated', 'task.status_changed', 'project.updated']);

export type ChangeSet =
  | { readonly kind: 'changes'; readonly messages: readonly ChangeMessage[] }
  | { readonly kind: 'too-many'; readonly count: number };

export function conflictId(c: Conflict): string {
  return `${c.entity}/${c.entity_id}/${c.field}/${c.winner.event}/${c.loser.event}`;
}

export function toLiveConflict(c: Conflict): LiveConflict {
  return { ...c, id: conflictId(c) };
}

/**
 * Which conflicts the dashboards already have, so that after an edit only the new
 * ones are sent. Reset by every snapshot (which carries the newest ones).
 */
export class ConflictTracker {
  private known = new Set<string>();

  /** How many recent conflicts a snapshot carries and each check looks at. */
  static readonly WINDOW = 200;

  reset(listed: readonly LiveConflict[]): void {
    this.known = new Set(listed.map((c) => c.id));
  }

  /** Conflicts recorded since the last look. */
  fresh(db: Db): LiveConflict[] {
    const out: LiveConflict[] = [];
    const listed = recentConflicts(db, ConflictTracker.WINDOW).map(toLiveConflict);
    for (const c of listed) if (!this.known.has(c.id)) out.push(c);
    if (this.known.size > 10 * ConflictTracker.WINDOW) this.reset(listed);
    else for (const c of out) this.known.add(c.id);
    return out;
  }
}

/** Splits a session change id `host:session` (host names have no ':'). */
function splitSessionKey(key: string): { host: string; session: string } | null {
  const i = key.indexOf(':');
  return i <= 0 ? null : { host: key.slice(0, i), session: key.slice(i + 1) };
}

/** The frames for one commit, or `too-many` when the client is better served by a snapshot. */
export function changesOf(db: Db, notice: CommitNotice, cursor: number, conflicts: ConflictTracker): ChangeSet {
  const projects = new Set<string>();
  const tasks = new Set<string>();
  const assignments = new Set<string>();
  const sessions = new Set<string>();
  const groups = new Set<string>();
  const updates = new Set<string>();
  const machines = new Set<string>();
  for (const c of notice.changes) {
    switch (c.entity) {
      case 'project': projects.add(c.id); break;
      case 'task': tasks.add(c.id); break;
      case 'assignment': assignments.add(c.id); break;
      case 'session': sessions.add(c.id); break;
      case 'group': groups.add(c.id); break;
      case 'update': updates.add(c.id); break;
      // `${update_id}/${host}:${session}`: the update carries its receipts.
      case 'receipt': {
        const slash = c.id.indexOf('/');
        updates.add(slash < 0 ? c.id : c.id.slice(0, slash));
        break;
      }
      case 'machine': machines.add(c.id); break;
    }
  }
  for (const e of notice.events) machines.add(e.origin);

  const total = (): number => projects.size + tasks.size + assignments.size + sessions.size + groups.size + updates.size + machines.size;
  if (total() > MAX_CHANGES_PER_COMMIT) return { kind: 'too-many', count: total() };

  const assignmentRows = new Map([...assignments].map((id) => [id, getAssignment(db, id)] as const));
  for (const a of assignmentRows.values()) {
    if (a === null) continue;
    tasks.add(a.task_id);
    sessions.add(`${a.host}:${a.session}`);
  }
  // A task's change can unblock (or block) the tasks that wait for it.
  if (tasks.size > 0) for (const t of dependentsOf(db, tasks)) tasks.add(t);
  if (total() > MAX_CHANGES_PER_COMMIT) return { kind: 'too-many', count: total() };

  const out: ChangeMessage[] = [];
  for (const id of projects) {
    const p = getProject(db, id);
    out.push({ type: 'change', cursor, entity: 'project', id, row: p === null || p.archived ? null : p });
  }
  for (const id of groups) {
    const g = getGroup(db, id);
    out.push({ type: 'change', cursor, entity: 'group', id, row: g === null || g.archived ? null : g });
  }
  for (const id of sessions) {
    const k = splitSessionKey(id);
    const s = k === null ? null : getSession(db, k.host, k.session);
    out.push({ type: 'change', cursor, entity: 'session', id, row: s === null || s.gone ? null : s });
  }
  const taskRows = tasksByIds(db, tasks);
  for (const id of tasks) {
    const t = taskRows.get(id) ?? null;
    out.push({ type: 'change', cursor, entity: 'task', id, row: t === null || t.archived ? null : t });
  }
  for (const [id, a] of assignmentRows) {
    out.push({ type: 'change', cursor, entity: 'assignment', id, row: a === null || a.removed ? null : a });
  }
  for (const id of updates) {
    out.push({ type: 'change', cursor, entity: 'update', id, row: getUpdate(db, id) });
  }
  for (const id of machines) out.push({ type: 'change', cursor, entity: 'machine', id, row: getMachine(db, id) });
  if (notice.events.some((e) => EDIT_TYPES.has(e.type))) {
    for (const c of conflicts.fresh(db)) out.push({ type: 'change', cursor, entity: 'conflict', id: c.id, row: c });
  }
  return { kind: 'changes', messages: out };
}
