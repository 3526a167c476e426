/**
 * Reads of the projections into read-models. Rows whose create event has not
 * arrived yet (created IS NULL) are not shown.
 */
import type { Db } from './db.js';
import type { SessionState, TaskStatus, ReceiptStatus } from './domain.js';
import { hlcMs, type Hlc } from './hlc.js';
import type { Assignment, Conflict, Group, Machine, Project, Receipt, Session, Task, Update } from './models.js';
import { cachedStatement as stmt } from './projections/registers.js';

const iso = (hlc: string | null): string => (hlc === null ? new Date(0).toISOString() : new Date(hlcMs(hlc as Hlc)).toISOString());

interface ProjectRow { id: string; name: string | null; path: string | null; description: string | null; weight: number | null; archived: number; created_hlc: string | null }

function toProject(r: ProjectRow): Project {
  return { id: r.id, name: r.name ?? '', path: r.path, description: r.description ?? '', weight: r.weight ?? 1, archived: r.archived === 1, created_at: iso(r.created_hlc) };
}

export function listProjects(db: Db, opts: { includeArchived?: boolean } = {}): Project[] {
  const rows = stmt(db, `SELECT id, name, path, description, weight, archived, created_hlc FROM projects WHERE created = 1 ${opts.includeArchived === true ? '' : 'AND archived = 0'} ORDER BY name, id`).all() as ProjectRow[];
  return rows.map(toProject);
}

export function getProject(db: Db, id: string): Project | null {
  const r = stmt(db, 'SELECT id, name, path, description, weight, archived, created_hlc FROM projects WHERE id = ? AND created = 1').get(id) as ProjectRow | undefined;
  return r === undefined ? null : toProject(r);
}

interface AssignmentRow { id: string; task_id: string; host: string; session: string; delivery: string | null; delivery_error: string | null; removed: number; created_hlc: string | null }

function toAssignment(r: AssignmentRow): Assignment {
  const delivery = r.delivery === 'delivered' || r.delivery === 'failed' ? r.delivery : 'pending';
  return { id: r.id, task_id: r.task_id, host: r.host, session: r.session, delivery, error: r.delivery_error, removed: r.removed === 1, created_at: iso(r.created_hlc) };
}

const ASSIGNMENT_COLS = 'id, task_id, host, session, delivery, delivery_error, removed, created_hlc';

export function listAssignments(db: Db, opts: { includeRemoved?: boolean; taskId?: string } = {}): Assignment[] {
  const conds = ['created = 1'];
  if (opts.includeRemoved !== true) conds.push('removed = 0');
  if (opts.taskId !== undefined) conds.push('task_id = @task');
  const rows = stmt(db, `SELECT ${ASSIGNMENT_COLS} FROM assignments WHERE ${conds.join(' AND ')} ORDER BY created_hlc`)
    .all(opts.taskId === undefined ? {} : { task: opts.taskId }) as AssignmentRow[];
  return rows.map(toAssignment);
}

export function getAssignment(db: Db, id: string): Assignment | null {
  const r = stmt(db, `SELECT ${ASSIGNMENT_COLS} FROM assignments WHERE id = ? AND created = 1`).get(id) as AssignmentRow | undefined;
  return r === undefined ? null : toAssignment(r);
}

/** The newest active (not removed) assignment of each task. */
function activeAssignments(db: Db): Map<string, Assignment> {
  const m = new Map<string, Assignment>();
  for (const a of listAssignments(db)) m.set(a.task_id, a);
  return m;
}

interface TaskRow { id: string; project_id: string | null; title: string | null; description: string | null; priority: number | null; status: string | null; archived: number; created_hlc: string | null }

export interface TaskFilter {
  readonly projectId?: string;
  readonly status?: TaskStatus;
  readonly ready?: boolean;
  readonly includeArchived?: boolean;
}

/** Tasks with dependencies, blockers, readiness and active assignment, oldest first. */
export function listTasks(db: Db, f: TaskFilter = {}): Task[] {
  const conds = ['t.created = 1'];
  const params: Record<string, string> = {};
  if (f.includeArchived !== true) conds.push('t.archived = 0');
  if (f.projectId !== undefined) {
    conds.push('t.project_id = @project');
    params['project'] = f.projectId;
  }
  if (f.status !== undefined) {
    conds.push('t.status = @status');
    params['status'] = f.status;
  }
  const rows = stmt(db, `SELECT t.id, t.project_id, t.title, t.description, t.priority, t.status, t.archived, t.created_hlc
    FROM tasks t WHERE ${conds.join(' AND ')} ORDER BY t.created_hlc, t.id`).all(params) as TaskRow[];
  const tasks = assembleTasks(db, rows);
  return f.ready === undefined ? tasks : tasks.filter((t) => t.ready === f.ready);
}

export function getTask(db: Db, id: string): Task | null {
  const r = stmt(db, 'SELECT id, project_id, title, description, priority, status, archived, created_hlc FROM tasks WHERE id = ? AND created = 1').get(id) as TaskRow | undefined;
  return r === undefined ? null : assembleTasks(db, [r])[0]!;
}

/** Lookups that complete task rows: dependencies, which tasks are settled, project names, active assignments. */
interface TaskLookups {
  deps(taskId: string): string[];
  settled(taskId: string): boolean;
  projectName(projectId: string): string | undefined;
  assignment(taskId: string): Assignment | null;
}

// Whole-table lookups: one scan each, for listing many tasks.
function allLookups(db: Db): TaskLookups {
  const deps = dependencyEdges(db);
  // A dependency blocks until it is done; an archived (abandoned) one no longer blocks.
  const settled = new Set((stmt(db, "SELECT id FROM tasks WHERE created = 1 AND (status = 'done' OR archived = 1)").all() as { id: string }[]).map((r) => r.id));
  const names = new Map((stmt(db, 'SELECT id, name FROM projects WHERE created = 1').all() as { id: string; name: string }[]).map((r) => [r.id, r.name]));
  const active = activeAssignments(db);
  return { deps: (t) => deps.get(t) ?? [], settled: (t) => settled.has(t), projectName: (p) => names.get(p), assignment: (t) => active.get(t) ?? null };
}

// Point lookups by key: for one or a few tasks (every write returns its task), so a
// write costs the same with 10 or 100,000 tasks in the store.
function pointLookups(db: Db): TaskLookups {
  return {
    deps: (t) => (stmt(db, 'SELECT depends_on FROM task_dependencies WHERE task_id = ? AND present = 1 ORDER BY depends_on').all(t) as { depends_on: string }[]).map((r) => r.depends_on),
    settled: (t) => stmt(db, "SELECT 1 FROM tasks WHERE id = ? AND created = 1 AND (status = 'done' OR archived = 1)").get(t) !== undefined,
    projectName: (p) => (stmt(db, 'SELECT name FROM projects WHERE id = ? AND created = 1').get(p) as { name: string } | undefined)?.name,
    assignment: (t) => {
      const r = stmt(db, `SELECT ${ASSIGNMENT_COLS} FROM assignments WHERE task_id = ? AND created = 1 AND removed = 0 ORDER BY created_hlc DESC LIMIT 1`).get(t) as AssignmentRow | undefined;
      return r === undefined ? null : toAssignment(r);
    },
  };
}

function assembleTasks(db: Db, rows: readonly TaskRow[]): Task[] {
  if (rows.length === 0) return [];
  const look = rows.length <= 20 ? pointLookups(db) : allLookups(db);
  return rows.map((r) => {
    const dependsOn = look.deps(r.id);
    const blockedBy = dependsOn.filter((d) => !look.settled(d));
    const status = (r.status ?? 'open') as TaskStatus;
    const assignment = look.assignment(r.id);
    return {
      id: r.id,
      project_id: r.project_id ?? '',
      project: r.project_id === null ? null : look.projectName(r.project_id) ?? null,
      title: r.title ?? '',
      description: r.description ?? '',
      priority: r.priority ?? 2,
      status,
      archived: r.archived === 1,
      depends_on: dependsOn,
      blocked_by: blockedBy,
      ready: status === 'open' && r.archived === 0 && blockedBy.length === 0 && assignment === null,
      assignment,
      created_at: iso(r.created_hlc),
    };
  });
}

/** Present dependency edges (task → depends_on), for cycle checks. */
export function dependencyEdges(db: Db): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const d of stmt(db, 'SELECT task_id, depends_on FROM task_dependencies WHERE present = 1 ORDER BY task_id, depends_on').all() as { task_id: string; depends_on: string }[]) {
    const l = m.get(d.task_id);
    if (l === undefined) m.set(d.task_id, [d.depends_on]);
    else l.push(d.depends_on);
  }
  return m;
}

interface SessionRow { host: string; session: string; cwd: string | null; state: string | null; last_activity: string | null; gone: number }

export function listSessions(db: Db, opts: { includeGone?: boolean; host?: string } = {}): Session[] {
  const conds = ['1 = 1'];
  if (opts.includeGone !== true) conds.push('gone = 0');
  if (opts.host !== undefined) conds.push('host = @host');
  const rows = stmt(db, `SELECT host, session, cwd, state, last_activity, gone FROM sessions WHERE ${conds.join(' AND ')} ORDER BY host, session`)
    .all(opts.host === undefined ? {} : { host: opts.host }) as SessionRow[];
  const byTarget = new Map<string, string>();
  for (const a of listAssignments(db)) byTarget.set(`${a.host}:${a.session}`, a.task_id);
  return rows.map((r) => ({
    key: `${r.host}:${r.session}`,
    host: r.host,
    session: r.session,
    cwd: r.cwd,
    state: r.state as SessionState | null,
    last_activity: r.last_activity,
    gone: r.gone === 1,
    task_id: byTarget.get(`${r.host}:${r.session}`) ?? null,
  }));
}

export function getSession(db: Db, host: string, session: string): Session | null {
  return listSessions(db, { includeGone: true, host }).find((s) => s.session === session) ?? null;
}

export function listGroups(db: Db, opts: { includeArchived?: boolean } = {}): Group[] {
  const groups = stmt(db, `SELECT name, archived FROM groups WHERE created = 1 ${opts.includeArchived === true ? '' : 'AND archived = 0'} ORDER BY name`).all() as { name: string; archived: number }[];
  const members = stmt(db, 'SELECT group_name, pattern FROM group_members WHERE present = 1 ORDER BY group_name, pattern').all() as { group_name: string; pattern: string }[];
  return groups.map((g) => ({ name: g.name, archived: g.archived === 1, members: members.filter((m) => m.group_name === g.name).map((m) => m.pattern) }));
}

export function getGroup(db: Db, name: string): Group | null {
  return listGroups(db, { includeArchived: true }).find((g) => g.name === name) ?? null;
}

interface UpdateRow { id: string; kind: 'note' | 'broadcast'; hlc: string; origin: string; text: string; task_id: string | null; host: string | null; session: string | null; group_name: string | null; ttl_s: number | null; expires_ms: number | null }

export function listUpdates(db: Db, opts: { limit?: number; kind?: 'note' | 'broadcast'; taskId?: string; id?: string } = {}): Update[] {
  const conds = ['1 = 1'];
  const params: Record<string, string | number> = { limit: opts.limit ?? 200 };
  if (opts.id !== undefined) {
    conds.push('id = @id');
    params['id'] = opts.id;
  }
  if (opts.kind !== undefined) {
    conds.push('kind = @kind');
    params['kind'] = opts.kind;
  }
  if (opts.taskId !== undefined) {
    conds.push('task_id = @task');
    params['task'] = opts.taskId;
  }
  const rows = stmt(db, `SELECT id, kind, hlc, origin, text, task_id, host, session, group_name, ttl_s, expires_ms FROM updates WHERE ${conds.join(' AND ')} ORDER BY hlc DESC LIMIT @limit`).all(params) as UpdateRow[];
  const receipts = stmt(db, 'SELECT host, session, status, detail FROM receipts WHERE update_id = ? AND status IS NOT NULL ORDER BY host, session');
  return rows.map((r) => ({
    id: r.id, kind: r.kind, text: r.text, origin: r.origin, task_id: r.task_id, host: r.host, session: r.session,
    group: r.group_name, ttl_s: r.ttl_s, expires_at: r.expires_ms === null ? null : new Date(r.expires_ms).toISOString(),
    created_at: iso(r.hlc), receipts: r.kind === 'broadcast' ? (receipts.all(r.id) as { host: string; session: string; status: ReceiptStatus; detail: string | null }[]) as Receipt[] : [],
  }));
}

export function getUpdate(db: Db, id: string): Update | null {
  return listUpdates(db, { id, limit: 1 })[0] ?? null;
}

export function listConflicts(db: Db, limit = 200): Conflict[] {
  const rows = stmt(db, 'SELECT entity, entity_id, field, winner_event, winner_hlc, winner_value, loser_event, loser_hlc, loser_value FROM conflicts ORDER BY loser_hlc DESC LIMIT ?').all(limit) as
    { entity: string; entity_id: string; field: string; winner_event: string; winner_hlc: string; winner_value: string; loser_event: string; loser_hlc: string; loser_value: string }[];
  return rows.map((r) => ({
    entity: r.entity, entity_id: r.entity_id, field: r.field,
    winner: { event: r.winner_event, hlc: r.winner_hlc, value: JSON.parse(r.winner_value) as unknown },
    loser: { event: r.loser_event, hlc: r.loser_hlc, value: JSON.parse(r.loser_value) as unknown },
  }));
}

/** Every machine we hold events from, with its announced name and newest event time. */
export function listMachines(db: Db): Machine[] {
  const rows = stmt(db, `SELECT w.origin AS machine_id, m.name AS name, w.hlc AS hlc, w.count AS events
    FROM watermarks w LEFT JOIN machines m ON m.machine_id = w.origin ORDER BY m.name, w.origin`).all() as { machine_id: string; name: string | null; hlc: string; events: number }[];
  return rows.map((r) => ({ machine_id: r.machine_id, name: r.name, last_event_at: iso(r.hlc), events: r.events }));
}

/** The HLC register of fields of a task or project: the newest HLC among `fields` (for `base`). */
export function fieldsBase(db: Db, table: 'tasks' | 'projects', id: string, fields: readonly string[]): Hlc | null {
  if (fields.length === 0) return null;
  const r = stmt(db, `SELECT ${fields.map((f) => `${f}_hlc`).join(', ')} FROM ${table} WHERE id = ?`).raw().get(id) as (string | null)[] | undefined;
  if (r === undefined) return null;
  let best: string | null = null;
  for (const h of r) if (h !== null && (best === null || h > best)) best = h;
  return best as Hlc | null;
}
