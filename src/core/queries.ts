/**
 * Reads of the projections into read-models, one entity or one page at a time.
 * Rows whose create event has not arrived yet (created IS NULL) are not shown.
 *
 * What must stay true: no read here costs more as the log grows. A read touches the
 * rows it returns (and their lookups by key), found through an index; a list is a
 * page (paging.ts) in an indexed order. Task lists are in task-queries.ts.
 */
import { cachedStatement as stmt, type Db } from './db.js';
import type { SessionState, TaskStatus } from '../protocol/models.js';
import { hlcMs, type Hlc } from './hlc.js';
import { trustedHlc } from './ids.js';
import { ClareError } from './errors.js';
import type { Assignment, Conflict, Group, Machine, Project, Receipt, Session, Task, Update } from '../protocol/models.js';
import type { Page } from '../protocol/page.js';
import { continueAfter, scopeOf, toPage, type PageRequest } from './paging.js';

/** ISO time of an HLC's millisecond (the epoch for a missing one). */
export const iso = (hlc: string | null): string => (hlc === null ? new Date(0).toISOString() : new Date(hlcMs(hlc)).toISOString());

/** `?` bound to a JSON array: `x IN (SELECT value FROM json_each(?))` uses x's index. */
export const jsonIds = (xs: Iterable<string>): string => JSON.stringify([...new Set(xs)]);

/** `%q%` for LIKE with `ESCAPE '\'`: the text matches literally (ASCII case-insensitive). */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export type { PageRequest };

const orderBy = (cols: readonly string[], dir: 'ASC' | 'DESC'): string => cols.map((c) => `${c} ${dir}`).join(', ');

// ---- projects -------------------------------------------------------------------

interface ProjectRow { id: string; name: string | null; path: string | null; description: string | null; weight: number | null; archived: number; created_hlc: string | null }

const PROJECT_COLS = 'id, name, path, description, weight, archived, created_hlc';

function toProject(r: ProjectRow): Project {
  return { id: r.id, name: r.name ?? '', path: r.path, description: r.description ?? '', weight: r.weight ?? 1, archived: r.archived === 1, created_at: iso(r.created_hlc) };
}

export function getProject(db: Db, id: string): Project | null {
  const r = stmt(db, `SELECT ${PROJECT_COLS} FROM projects WHERE id = ? AND created = 1`).get(id) as ProjectRow | undefined;
  return r === undefined ? null : toProject(r);
}

/**
 * A row that must exist (just resolved or just written); its absence is reported as
 * CLARE_NOT_FOUND naming the kind and id rather than crashing on a null.
 */
function mustExist<T>(row: T | null, kind: string, id: string): T {
  if (row === null) throw new ClareError('CLARE_NOT_FOUND', `no ${kind} with id ${id}`, { kind, ref: id });
  return row;
}

export const getProjectOrThrow = (db: Db, id: string): Project => mustExist(getProject(db, id), 'project', id);

export function projectsByIds(db: Db, ids: Iterable<string>): Map<string, Project> {
  const rows = stmt(db, `SELECT ${PROJECT_COLS} FROM projects WHERE created = 1 AND id IN (SELECT value FROM json_each(?))`).all(jsonIds(ids)) as ProjectRow[];
  return new Map(rows.map((r) => [r.id, toProject(r)]));
}

/** Projects by name (then id); `q` matches a substring of the name. */
export function pageProjects(db: Db, f: { includeArchived?: boolean; q?: string | undefined }, p: PageRequest): Page<Project> {
  const scope = scopeOf('projects', 'name', { archived: f.includeArchived === true, q: f.q });
  const conds = ['created = 1'];
  const args: (string | number)[] = [];
  if (f.includeArchived !== true) conds.push('archived = 0');
  if (f.q !== undefined) {
    conds.push("name LIKE ? ESCAPE '\\'");
    args.push(likePattern(f.q));
  }
  const cols = ['name', 'id'];
  continueAfter(p, scope, cols, 'ASC', 'ss', conds, args);
  const rows = stmt(db, `SELECT ${PROJECT_COLS} FROM projects WHERE ${conds.join(' AND ')} ORDER BY ${orderBy(cols, 'ASC')} LIMIT ?`).all(...args, p.limit + 1) as ProjectRow[];
  return toPage(rows, p, scope, (r) => [r.name ?? '', r.id], toProject);
}

/** Ids of active projects whose path holds `dir` (scheduler.ts: the session works in the project). */
export function projectsHolding(db: Db, dir: string): string[] {
  return (stmt(db, `SELECT id FROM projects WHERE created = 1 AND archived = 0 AND path IS NOT NULL
    AND (path = ? OR substr(?, 1, length(rtrim(path, '/')) + 1) = rtrim(path, '/') || '/')`).all(dir, dir) as { id: string }[]).map((r) => r.id);
}

// ---- assignments ----------------------------------------------------------------

export interface AssignmentRow { id: string; task_id: string; host: string; session: string; delivery: string | null; delivery_error: string | null; removed: number; created_hlc: string | null }

export const ASSIGNMENT_COLS = 'id, task_id, host, session, delivery, delivery_error, removed, created_hlc';

export function toAssignment(r: AssignmentRow): Assignment {
  const delivery = r.delivery === 'delivered' || r.delivery === 'failed' ? r.delivery : 'pending';
  return { id: r.id, task_id: r.task_id, host: r.host, session: r.session, delivery, error: r.delivery_error, removed: r.removed === 1, created_at: iso(r.created_hlc) };
}

export function getAssignment(db: Db, id: string): Assignment | null {
  const r = stmt(db, `SELECT ${ASSIGNMENT_COLS} FROM assignments WHERE id = ? AND created = 1`).get(id) as AssignmentRow | undefined;
  return r === undefined ? null : toAssignment(r);
}

export const getAssignmentOrThrow = (db: Db, id: string): Assignment => mustExist(getAssignment(db, id), 'assignment', id);

/** Assignments, newest first; active only unless `includeRemoved`. */
export function pageAssignments(db: Db, f: { includeRemoved?: boolean; taskId?: string | undefined }, p: PageRequest): Page<Assignment> {
  const scope = scopeOf('assignments', 'recent', { removed: f.includeRemoved === true, task: f.taskId });
  const conds = ['created = 1'];
  const args: (string | number)[] = [];
  if (f.includeRemoved !== true) conds.push('removed = 0');
  if (f.taskId !== undefined) {
    conds.push('task_id = ?');
    args.push(f.taskId);
  }
  const cols = ['created_hlc', 'id'];
  continueAfter(p, scope, cols, 'DESC', 'ss', conds, args);
  const rows = stmt(db, `SELECT ${ASSIGNMENT_COLS} FROM assignments WHERE ${conds.join(' AND ')} ORDER BY ${orderBy(cols, 'DESC')} LIMIT ?`).all(...args, p.limit + 1) as AssignmentRow[];
  return toPage(rows, p, scope, (r) => [r.created_hlc ?? '', r.id], toAssignment);
}

/**
 * Tasks a session holds (its standing claim, status in_progress or blocked), newest
 * claim first, in progress before blocked (index tasks_holder).
 */
export function heldTasks(db: Db, host: string, session: string, opts: { inProgressOnly?: boolean; limit?: number } = {}): string[] {
  const statuses = opts.inProgressOnly === true ? "('in_progress')" : "('in_progress', 'blocked')";
  return (stmt(db, `SELECT id FROM tasks WHERE holder_host = ? AND holder_session = ? AND status IN ${statuses} AND created = 1 AND archived = 0
    ORDER BY status DESC, holder_hlc DESC LIMIT ?`).all(host, session, opts.limit ?? 10) as { id: string }[]).map((r) => r.id);
}

/**
 * Tasks assigned to a session whose delivery is still pending (not yet typed, so not
 * yet claimed), oldest first; not done or archived (index assignments_target).
 */
export function pendingAssignedTasks(db: Db, host: string, session: string, limit = 10): string[] {
  return (stmt(db, `SELECT a.task_id FROM assignments a JOIN tasks t ON t.id = a.task_id AND t.created = 1 AND t.archived = 0 AND coalesce(t.status, 'open') <> 'done'
    WHERE a.host = ? AND a.session = ? AND a.removed = 0 AND a.created = 1 AND a.delivery IS NULL ORDER BY a.created_hlc LIMIT ?`).all(host, session, limit) as { task_id: string }[]).map((r) => r.task_id);
}

/** The task a session works on: the one it holds, else one being delivered to it. */
export function sessionTask(db: Db, host: string, session: string): string | null {
  return heldTasks(db, host, session, { limit: 1 })[0] ?? pendingAssignedTasks(db, host, session, 1)[0] ?? null;
}

/**
 * Whether a session is busy: it holds a task in progress, or an assignment is on its
 * way to it. A session whose tasks are done, blocked, reopened or taken by another
 * session is idle (`assign --auto` may pick it).
 */
export function sessionBusy(db: Db, host: string, session: string): boolean {
  return heldTasks(db, host, session, { inProgressOnly: true, limit: 1 }).length > 0 || pendingAssignedTasks(db, host, session, 1).length > 0;
}

/** The claim register of a task as it stands (whatever its status): who made the standing claim. */
export function claimRegister(db: Db, id: string): { host: string; session: string; hlc: Hlc } | null {
  const r = stmt(db, 'SELECT holder_host AS host, holder_session AS session, holder_hlc AS hlc FROM tasks WHERE id = ? AND holder_hlc IS NOT NULL').get(id) as { host: string; session: string; hlc: string } | undefined;
  return r === undefined ? null : { host: r.host, session: r.session, hlc: trustedHlc(r.hlc) };
}

/**
 * The newest claim of a task this store holds (standing or not): the `base` of a new
 * claim, so that every claim it was made knowing is older than its base (what the
 * merge reads as "had seen"). One primary-key lookup of field_writes.
 */
export function newestClaimHlc(db: Db, id: string): Hlc | null {
  const r = stmt(db, "SELECT max(hlc) AS hlc FROM field_writes WHERE entity = 'task' AND entity_id = ? AND field = 'holder'").get(id) as { hlc: string | null };
  return r.hlc === null ? null : trustedHlc(r.hlc);
}

// ---- tasks (the read-model; the lists are in task-queries.ts) -------------------

export interface TaskRow {
  id: string; project_id: string | null; title: string | null; description: string | null; priority: number | null;
  status: string | null; status_hlc: string | null; archived: number; created_hlc: string | null;
  holder_host: string | null; holder_session: string | null; holder_hlc: string | null;
}

export const TASK_COLS = 't.id, t.project_id, t.title, t.description, t.priority, t.status, t.status_hlc, t.archived, t.created_hlc, t.holder_host, t.holder_session, t.holder_hlc';

/**
 * Completes task rows into read-models: dependencies, which still block, project
 * names, active assignments — one lookup per kind for all the rows at hand.
 */
export function assembleTasks(db: Db, rows: readonly TaskRow[]): Task[] {
  if (rows.length === 0) return [];
  const taskIds = jsonIds(rows.map((r) => r.id));
  const deps = new Map<string, string[]>();
  for (const d of stmt(db, 'SELECT task_id, depends_on FROM task_dependencies WHERE present = 1 AND task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, depends_on').all(taskIds) as { task_id: string; depends_on: string }[]) {
    const l = deps.get(d.task_id);
    if (l === undefined) deps.set(d.task_id, [d.depends_on]);
    else l.push(d.depends_on);
  }
  // A dependency blocks until it is done; an archived (abandoned) one no longer blocks.
  const settled = new Set((stmt(db, "SELECT id FROM tasks WHERE created = 1 AND (status = 'done' OR archived = 1) AND id IN (SELECT value FROM json_each(?))")
    .all(jsonIds([...deps.values()].flat())) as { id: string }[]).map((r) => r.id));
  const names = new Map((stmt(db, 'SELECT id, name FROM projects WHERE created = 1 AND id IN (SELECT value FROM json_each(?))')
    .all(jsonIds(rows.flatMap((r) => (r.project_id === null ? [] : [r.project_id])))) as { id: string; name: string | null }[]).map((r) => [r.id, r.name]));
  // Oldest first, so the newest active assignment of each task is the one kept.
  const active = new Map<string, Assignment>();
  for (const a of stmt(db, `SELECT ${ASSIGNMENT_COLS} FROM assignments WHERE created = 1 AND removed = 0 AND task_id IN (SELECT value FROM json_each(?)) ORDER BY created_hlc`).all(taskIds) as AssignmentRow[]) {
    active.set(a.task_id, toAssignment(a));
  }
  return rows.map((r) => {
    const dependsOn = deps.get(r.id) ?? [];
    const blockedBy = dependsOn.filter((d) => !settled.has(d));
    const status = (r.status ?? 'open') as TaskStatus;
    const assignment = active.get(r.id) ?? null;
    return {
      id: r.id,
      project_id: r.project_id ?? '',
      project: r.project_id === null ? null : names.get(r.project_id) ?? null,
      title: r.title ?? '',
      description: r.description ?? '',
      priority: r.priority ?? 2,
      status,
      status_at: iso(r.status_hlc),
      archived: r.archived === 1,
      depends_on: dependsOn,
      blocked_by: blockedBy,
      ready: status === 'open' && r.archived === 0 && blockedBy.length === 0 && assignment === null,
      assignment,
      holder: (status === 'in_progress' || status === 'blocked') && r.holder_host !== null && r.holder_session !== null
        ? { host: r.holder_host, session: r.holder_session, since: iso(r.holder_hlc) }
        : null,
      created_at: iso(r.created_hlc),
    };
  });
}

export function getTask(db: Db, id: string): Task | null {
  const r = stmt(db, `SELECT ${TASK_COLS} FROM tasks t WHERE t.id = ? AND t.created = 1`).get(id) as TaskRow | undefined;
  return r === undefined ? null : (assembleTasks(db, [r])[0] ?? null);
}

export const getTaskOrThrow = (db: Db, id: string): Task => mustExist(getTask(db, id), 'task', id);

/** The tasks with these ids (archived ones included; unknown ids absent). */
export function tasksByIds(db: Db, ids: Iterable<string>): Map<string, Task> {
  const rows = stmt(db, `SELECT ${TASK_COLS} FROM tasks t WHERE t.created = 1 AND t.id IN (SELECT value FROM json_each(?))`).all(jsonIds(ids)) as TaskRow[];
  return new Map(assembleTasks(db, rows).map((t) => [t.id, t]));
}

// ---- sessions -------------------------------------------------------------------

interface SessionRow { host: string; session: string; cwd: string | null; state: string | null; last_activity: string | null; gone: number }

const SESSION_COLS = 'host, session, cwd, state, last_activity, gone';

function toSession(db: Db, r: SessionRow): Session {
  return {
    key: `${r.host}:${r.session}`,
    host: r.host,
    session: r.session,
    cwd: r.cwd,
    state: r.state as SessionState | null,
    last_activity: r.last_activity,
    gone: r.gone === 1,
    task_id: sessionTask(db, r.host, r.session),
  };
}

export function getSession(db: Db, host: string, session: string): Session | null {
  const r = stmt(db, `SELECT ${SESSION_COLS} FROM sessions WHERE host = ? AND session = ?`).get(host, session) as SessionRow | undefined;
  return r === undefined ? null : toSession(db, r);
}

/** Every session of one host (the poller diffs a host's listing against these). */
export function hostSessions(db: Db, host: string, opts: { includeGone?: boolean } = {}): Session[] {
  const rows = stmt(db, `SELECT ${SESSION_COLS} FROM sessions WHERE host = ? ${opts.includeGone === true ? '' : 'AND gone = 0'} ORDER BY session`).all(host) as SessionRow[];
  return rows.map((r) => toSession(db, r));
}

/** Sessions by host and name; not gone unless `includeGone`. */
export function pageSessions(db: Db, f: { includeGone?: boolean; host?: string | undefined }, p: PageRequest): Page<Session> {
  const scope = scopeOf('sessions', 'key', { gone: f.includeGone === true, host: f.host });
  const conds = ['1 = 1'];
  const args: (string | number)[] = [];
  if (f.includeGone !== true) conds.push('gone = 0');
  if (f.host !== undefined) {
    conds.push('host = ?');
    args.push(f.host);
  }
  const cols = ['host', 'session'];
  continueAfter(p, scope, cols, 'ASC', 'ss', conds, args);
  const rows = stmt(db, `SELECT ${SESSION_COLS} FROM sessions WHERE ${conds.join(' AND ')} ORDER BY ${orderBy(cols, 'ASC')} LIMIT ?`).all(...args, p.limit + 1) as SessionRow[];
  return toPage(rows, p, scope, (r) => [r.host, r.session], (r) => toSession(db, r));
}

// ---- groups ---------------------------------------------------------------------

function toGroup(db: Db, g: { name: string; archived: number }): Group {
  const members = stmt(db, 'SELECT pattern FROM group_members WHERE group_name = ? AND present = 1 ORDER BY pattern').all(g.name) as { pattern: string }[];
  return { name: g.name, archived: g.archived === 1, members: members.map((m) => m.pattern) };
}

export function getGroup(db: Db, name: string): Group | null {
  const g = stmt(db, 'SELECT name, archived FROM groups WHERE name = ? AND created = 1').get(name) as { name: string; archived: number } | undefined;
  return g === undefined ? null : toGroup(db, g);
}

export const getGroupOrThrow = (db: Db, name: string): Group => mustExist(getGroup(db, name), 'group', name);

export function pageGroups(db: Db, f: { includeArchived?: boolean }, p: PageRequest): Page<Group> {
  const scope = scopeOf('groups', 'name', { archived: f.includeArchived === true });
  const conds = ['created = 1'];
  const args: (string | number)[] = [];
  if (f.includeArchived !== true) conds.push('archived = 0');
  continueAfter(p, scope, ['name'], 'ASC', 's', conds, args);
  const rows = stmt(db, `SELECT name, archived FROM groups WHERE ${conds.join(' AND ')} ORDER BY name LIMIT ?`).all(...args, p.limit + 1) as { name: string; archived: number }[];
  return toPage(rows, p, scope, (r) => [r.name], (r) => toGroup(db, r));
}

// ---- updates --------------------------------------------------------------------

interface UpdateRow { id: string; kind: 'note' | 'broadcast'; hlc: string; origin: string; text: string; task_id: string | null; host: string | null; session: string | null; group_name: string | null; ttl_s: number | null; expires_ms: number | null }

const UPDATE_COLS = 'id, kind, hlc, origin, text, task_id, host, session, group_name, ttl_s, expires_ms';

function toUpdate(db: Db, r: UpdateRow): Update {
  const receipts = r.kind === 'broadcast'
    ? stmt(db, 'SELECT host, session, status, detail FROM receipts WHERE update_id = ? AND status IS NOT NULL ORDER BY host, session').all(r.id) as Receipt[]
    : [];
  return {
    id: r.id, kind: r.kind, text: r.text, origin: r.origin, task_id: r.task_id, host: r.host, session: r.session,
    group: r.group_name, ttl_s: r.ttl_s, expires_at: r.expires_ms === null ? null : new Date(r.expires_ms).toISOString(),
    created_at: iso(r.hlc), receipts,
  };
}

export function getUpdate(db: Db, id: string): Update | null {
  const r = stmt(db, `SELECT ${UPDATE_COLS} FROM updates WHERE id = ?`).get(id) as UpdateRow | undefined;
  return r === undefined ? null : toUpdate(db, r);
}

export const getUpdateOrThrow = (db: Db, id: string): Update => mustExist(getUpdate(db, id), 'update', id);

/** Notes and broadcasts, newest first; `q` matches a substring of the text. */
export function pageUpdates(db: Db, f: { kind?: 'note' | 'broadcast' | undefined; taskId?: string | undefined; q?: string | undefined }, p: PageRequest): Page<Update> {
  const scope = scopeOf('updates', 'recent', { kind: f.kind, task: f.taskId, q: f.q });
  const conds = ['1 = 1'];
  const args: (string | number)[] = [];
  if (f.kind !== undefined) {
    conds.push('kind = ?');
    args.push(f.kind);
  }
  if (f.taskId !== undefined) {
    conds.push('task_id = ?');
    args.push(f.taskId);
  }
  if (f.q !== undefined) {
    conds.push("text LIKE ? ESCAPE '\\'");
    args.push(likePattern(f.q));
  }
  continueAfter(p, scope, ['hlc'], 'DESC', 's', conds, args);
  const rows = stmt(db, `SELECT ${UPDATE_COLS} FROM updates WHERE ${conds.join(' AND ')} ORDER BY hlc DESC LIMIT ?`).all(...args, p.limit + 1) as UpdateRow[];
  return toPage(rows, p, scope, (r) => [r.hlc], (r) => toUpdate(db, r));
}

// ---- conflicts ------------------------------------------------------------------

interface ConflictRow { entity: string; entity_id: string; field: string; winner_event: string; winner_hlc: string; winner_value: string; loser_event: string; loser_hlc: string; loser_value: string }

function toConflict(r: ConflictRow): Conflict {
  return {
    entity: r.entity, entity_id: r.entity_id, field: r.field,
    winner: { event: r.winner_event, hlc: r.winner_hlc, value: JSON.parse(r.winner_value) as unknown },
    loser: { event: r.loser_event, hlc: r.loser_hlc, value: JSON.parse(r.loser_value) as unknown },
  };
}

/** Conflicts the merge recorded, newest losing write first. */
export function pageConflicts(db: Db, p: PageRequest): Page<Conflict> {
  const scope = scopeOf('conflicts', 'recent', {});
  const conds = ['1 = 1'];
  const args: (string | number)[] = [];
  const cols = ['loser_hlc', 'field', 'winner_event'];
  continueAfter(p, scope, cols, 'DESC', 'sss', conds, args);
  const rows = stmt(db, `SELECT entity, entity_id, field, winner_event, winner_hlc, winner_value, loser_event, loser_hlc, loser_value FROM conflicts
    WHERE ${conds.join(' AND ')} ORDER BY ${orderBy(cols, 'DESC')} LIMIT ?`).all(...args, p.limit + 1) as ConflictRow[];
  return toPage(rows, p, scope, (r) => [r.loser_hlc, r.field, r.winner_event], toConflict);
}

/** The newest `limit` conflicts. */
export function recentConflicts(db: Db, limit: number): Conflict[] {
  return pageConflicts(db, { limit }).items;
}

// ---- machines, counts, registers ---------------------------------------------

/** Machines we hold events from (at most `limit`, by name), with announced name and newest event time. */
export function listMachines(db: Db, limit = 1000): Machine[] {
  const rows = stmt(db, `SELECT w.origin AS machine_id, m.name AS name, w.hlc AS hlc, w.count AS events
    FROM watermarks w LEFT JOIN machines m ON m.machine_id = w.origin ORDER BY m.name, w.origin LIMIT ?`).all(limit) as { machine_id: string; name: string | null; hlc: string; events: number }[];
  return rows.map((r) => ({ machine_id: r.machine_id, name: r.name, last_event_at: iso(r.hlc), events: r.events }));
}

export function getMachine(db: Db, id: string): Machine | null {
  const r = stmt(db, `SELECT w.origin AS machine_id, m.name AS name, w.hlc AS hlc, w.count AS events
    FROM watermarks w LEFT JOIN machines m ON m.machine_id = w.origin WHERE w.origin = ?`).get(id) as { machine_id: string; name: string | null; hlc: string; events: number } | undefined;
  return r === undefined ? null : { machine_id: r.machine_id, name: r.name, last_event_at: iso(r.hlc), events: r.events };
}

/** Task counts by status (not archived) and ready, from the maintained counters: O(1). */
export function taskCounts(db: Db): { byStatus: Record<TaskStatus, number>; ready: number; archived: number } {
  const c = new Map((stmt(db, 'SELECT name, n FROM counters').all() as { name: string; n: number }[]).map((r) => [r.name, r.n]));
  const n = (k: string): number => c.get(k) ?? 0;
  return { byStatus: { open: n('tasks.open'), in_progress: n('tasks.in_progress'), blocked: n('tasks.blocked'), done: n('tasks.done') }, ready: n('tasks.ready'), archived: n('tasks.archived') };
}

/** The HLC register of fields of a task or project: the newest HLC among `fields` (for `base`). */
export function fieldsBase(db: Db, table: 'tasks' | 'projects', id: string, fields: readonly string[]): Hlc | null {
  if (fields.length === 0) return null;
  const r = stmt(db, `SELECT ${fields.map((f) => `${f}_hlc`).join(', ')} FROM ${table} WHERE id = ?`).raw().get(id) as (string | null)[] | undefined;
  if (r === undefined) return null;
  let best: string | null = null;
  for (const h of r) if (h !== null && (best === null || h > best)) best = h;
  return best === null ? null : trustedHlc(best);
}
