/**
 * `applyEvent`: the one function that writes projection rows. Everything the
 * read-models hold is derived here from events, so `rebuild` can always recreate it.
 */
import { cachedStatement, type Db } from '../db.js';
import type { EventDraft } from '../events/catalog.js';
import { hlcMs, type Hlc } from '../hlc.js';
import type { EventId, MachineId } from '../ids.js';
import { applyClaim } from './claims.js';
import { insertOnce, recordFieldWrite, writeElement, writeRegisters, type RegisterBatch, type RegisterTable, type SqlValue } from './registers.js';
import { refreshProjectRank, refreshTasks } from './task-state.js';

/** What a committed event changed, for live pushes: which entity, which id. */
export interface Change {
  readonly entity: 'project' | 'task' | 'assignment' | 'session' | 'group' | 'update' | 'receipt' | 'machine';
  readonly id: string;
}

/** An event whose payload is known and current-version: what `applyEvent` takes. */
export interface ApplicableEvent {
  readonly id: EventId;
  readonly hlc: Hlc;
  readonly origin: MachineId;
  readonly draft: EventDraft;
}

const PROJECTS: RegisterTable = { table: 'projects', key: ['id'] };
const TASKS: RegisterTable = { table: 'tasks', key: ['id'] };
const ASSIGNMENTS: RegisterTable = { table: 'assignments', key: ['id'] };
const SESSIONS: RegisterTable = { table: 'sessions', key: ['host', 'session'] };
const GROUPS: RegisterTable = { table: 'groups', key: ['name'] };
const RECEIPTS: RegisterTable = { table: 'receipts', key: ['update_id', 'host', 'session'] };
const MACHINES: RegisterTable = { table: 'machines', key: ['machine_id'] };
const LOST_CLAIMS: RegisterTable = { table: 'lost_claims', key: ['claim_event'] };

/** Drops keys whose value is undefined (optional fields not being changed). */
function defined(o: Readonly<Record<string, SqlValue | undefined>>): Record<string, SqlValue> {
  const out: Record<string, SqlValue> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/** The task an assignment targets, once its create has arrived. */
function taskOfAssignment(db: Db, id: string): string | null {
  const r = cachedStatement(db, 'SELECT task_id FROM assignments WHERE id = ? AND created = 1').get(id) as { task_id: string } | undefined;
  return r?.task_id ?? null;
}

/** An edit of existing fields: recorded for conflict detection, then merged. */
function edit(db: Db, e: ApplicableEvent, t: RegisterTable, entity: 'project' | 'task', id: string, base: Hlc | null, values: Record<string, SqlValue>): void {
  for (const [field, value] of Object.entries(values)) {
    recordFieldWrite(db, { entity, entityId: id, field, hlc: e.hlc, base: base ?? '', origin: e.origin, eventId: e.id, value });
  }
  writeRegisters(db, t, [id], values, e.hlc);
}

export interface ApplyOptions {
  /**
   * Tasks whose derived state (task-state.ts) the caller refreshes itself, once, after
   * applying many events (`refreshTasks`, in the same transaction): rebuild and ingest
   * collect them here instead of refreshing per event. Nothing applyEvent does reads
   * task_state, so the rows are the same.
   */
  readonly deferTaskState?: Set<string>;
  /**
   * The caller refreshes every task at the end (rebuild: each task's create puts it in
   * `deferTaskState`), so a project's write need not refresh its tasks' rank.
   */
  readonly refreshesAllTasks?: boolean;
  /**
   * Session registers gathered for the caller to write once per session after the
   * batch (`flush`, in the same transaction): sessions are the high-churn half of the
   * log (a state change every few minutes per session), and nothing applyEvent does
   * reads them.
   */
  readonly sessionWrites?: RegisterBatch;
}

/**
 * Applies one event to the projections (inside the caller's transaction).
 * Idempotent and order-independent: see registers.ts.
 */
export function applyEvent(db: Db, e: ApplicableEvent, opts: ApplyOptions = {}): Change[] {
  const d = e.draft;
  const refresh = (ids: readonly (string | null)[]): void => {
    if (opts.deferTaskState === undefined) refreshTasks(db, ids);
    else for (const id of ids) if (id !== null) opts.deferTaskState.add(id);
  };
  // A project's write moves the rank of its tasks, now: a deferred refresh covers only
  // the tasks the batch touched (refreshProjectRank reads nothing the deferred one writes).
  const refreshProject = (id: string): void => {
    if (opts.refreshesAllTasks !== true) refreshProjectRank(db, id);
  };
  const writeSession = (host: string, session: string, values: Readonly<Record<string, SqlValue>>): void => {
    if (opts.sessionWrites === undefined) writeRegisters(db, SESSIONS, [host, session], values, e.hlc);
    else opts.sessionWrites.add(SESSIONS, [host, session], values, e.hlc);
  };
  switch (d.type) {
    case 'project.created': {
      const p = d.payload;
      writeRegisters(db, PROJECTS, [p.project_id], { created: 1, name: p.name, path: p.path, description: p.description, weight: p.weight }, e.hlc);
      refreshProject(p.project_id);
      return [{ entity: 'project', id: p.project_id }];
    }
    case 'project.updated': {
      const p = d.payload;
      edit(db, e, PROJECTS, 'project', p.project_id, p.base, defined(p.fields));
      if (p.fields.weight !== undefined) refreshProject(p.project_id);
      return [{ entity: 'project', id: p.project_id }];
    }
    case 'project.archived':
      writeRegisters(db, PROJECTS, [d.payload.project_id], { archived: 1 }, e.hlc);
      refreshProject(d.payload.project_id);
      return [{ entity: 'project', id: d.payload.project_id }];

    case 'task.created': {
      const p = d.payload;
      writeRegisters(db, TASKS, [p.task_id], { created: 1, project_id: p.project_id, title: p.title, description: p.description, priority: p.priority, status: 'open' }, e.hlc);
      for (const dep of p.depends_on) writeElement(db, 'task_dependencies', ['task_id', 'depends_on'], [p.task_id, dep], true, e.hlc);
      refresh([p.task_id]);
      return [{ entity: 'task', id: p.task_id }];
    }
    case 'task.updated': {
      const p = d.payload;
      edit(db, e, TASKS, 'task', p.task_id, p.base, defined(p.fields));
      // priority and project_id are inputs of the task's rank (task-state.ts).
      if (p.fields.priority !== undefined || p.fields.project_id !== undefined) refresh([p.task_id]);
      return [{ entity: 'task', id: p.task_id }];
    }
    case 'task.status_changed': {
      const p = d.payload;
      edit(db, e, TASKS, 'task', p.task_id, p.base, { status: p.status });
      refresh([p.task_id]);
      return [{ entity: 'task', id: p.task_id }];
    }
    case 'task.dependency_added':
    case 'task.dependency_removed': {
      const p = d.payload;
      writeElement(db, 'task_dependencies', ['task_id', 'depends_on'], [p.task_id, p.depends_on], d.type === 'task.dependency_added', e.hlc);
      refresh([p.task_id]);
      return [{ entity: 'task', id: p.task_id }];
    }
    case 'task.archived':
      writeRegisters(db, TASKS, [d.payload.task_id], { archived: 1 }, e.hlc);
      refresh([d.payload.task_id]);
      return [{ entity: 'task', id: d.payload.task_id }];
    case 'task.claimed':
      applyClaim(db, e, d.payload);
      return [{ entity: 'task', id: d.payload.task_id }];
    case 'task.claim_notice':
      writeRegisters(db, LOST_CLAIMS, [d.payload.claim_event], { status: d.payload.status, detail: d.payload.detail }, e.hlc);
      return [{ entity: 'task', id: d.payload.task_id }];

    case 'assignment.created': {
      const p = d.payload;
      // task_id/host/session are the create's immutable target, plain columns (no _hlc): they
      // follow the `created` register, so the newest create's target stands in any order.
      const before = taskOfAssignment(db, p.assignment_id);
      cachedStatement(db, `INSERT INTO assignments (id, created, created_hlc, task_id, host, session) VALUES (?, 1, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET created = 1, created_hlc = excluded.created_hlc, task_id = excluded.task_id, host = excluded.host, session = excluded.session
        WHERE assignments.created_hlc IS NULL OR excluded.created_hlc > assignments.created_hlc`).run(p.assignment_id, e.hlc, p.task_id, p.host, p.session);
      refresh(before === p.task_id ? [before] : [before, p.task_id]);
      return [{ entity: 'assignment', id: p.assignment_id }, { entity: 'task', id: p.task_id }];
    }
    case 'assignment.removed':
      writeRegisters(db, ASSIGNMENTS, [d.payload.assignment_id], { removed: 1 }, e.hlc);
      refresh([taskOfAssignment(db, d.payload.assignment_id)]);
      return [{ entity: 'assignment', id: d.payload.assignment_id }];
    case 'assignment.delivered':
      writeRegisters(db, ASSIGNMENTS, [d.payload.assignment_id], { delivery: 'delivered', delivery_error: null }, e.hlc);
      return [{ entity: 'assignment', id: d.payload.assignment_id }];
    case 'assignment.failed':
      writeRegisters(db, ASSIGNMENTS, [d.payload.assignment_id], { delivery: 'failed', delivery_error: d.payload.error }, e.hlc);
      return [{ entity: 'assignment', id: d.payload.assignment_id }];

    case 'session.seen': {
      const p = d.payload;
      writeSession(p.host, p.session, { seen: 1, cwd: p.cwd, state: p.state, last_activity: p.last_activity, gone: 0 });
      return [{ entity: 'session', id: `${p.host}:${p.session}` }];
    }
    case 'session.changed': {
      const p = d.payload;
      writeSession(p.host, p.session, defined(p.fields));
      return [{ entity: 'session', id: `${p.host}:${p.session}` }];
    }
    case 'session.gone': {
      const p = d.payload;
      writeSession(p.host, p.session, { gone: 1 });
      return [{ entity: 'session', id: `${p.host}:${p.session}` }];
    }

    case 'group.created':
      writeRegisters(db, GROUPS, [d.payload.group], { created: 1, archived: 0 }, e.hlc);
      return [{ entity: 'group', id: d.payload.group }];
    case 'group.member_added':
    case 'group.member_removed': {
      const p = d.payload;
      writeElement(db, 'group_members', ['group_name', 'pattern'], [p.group, p.pattern], d.type === 'group.member_added', e.hlc);
      return [{ entity: 'group', id: p.group }];
    }
    case 'group.archived':
      writeRegisters(db, GROUPS, [d.payload.group], { archived: 1 }, e.hlc);
      return [{ entity: 'group', id: d.payload.group }];

    case 'update.posted': {
      const p = d.payload;
      insertOnce(db, 'updates', { id: p.update_id, kind: 'note', hlc: e.hlc, origin: e.origin, text: p.text, task_id: p.task_id, host: p.host, session: p.session });
      return [{ entity: 'update', id: p.update_id }];
    }
    case 'broadcast.sent': {
      const p = d.payload;
      const expires = p.ttl_s === null ? null : hlcMs(e.hlc) + p.ttl_s * 1000;
      insertOnce(db, 'updates', { id: p.update_id, kind: 'broadcast', hlc: e.hlc, origin: e.origin, text: p.text, group_name: p.group, ttl_s: p.ttl_s, expires_ms: expires });
      return [{ entity: 'update', id: p.update_id }];
    }
    case 'broadcast.receipt': {
      const p = d.payload;
      writeRegisters(db, RECEIPTS, [p.update_id, p.host, p.session], { status: p.status, detail: p.detail }, e.hlc);
      return [{ entity: 'receipt', id: `${p.update_id}/${p.host}:${p.session}` }, { entity: 'update', id: p.update_id }];
    }

    case 'machine.named':
      writeRegisters(db, MACHINES, [e.origin], { name: d.payload.name }, e.hlc);
      return [{ entity: 'machine', id: e.origin }];
  }
}
