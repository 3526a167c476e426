/**
 * What the page knows: the read-models from the last snapshot, every change since,
 * and the pages loaded on demand. Immutable: applying a batch returns a new state in
 * which only the maps that changed are new objects, so Lit's identity checks
 * re-render only the views whose inputs changed.
 *
 * Lists are windows: the snapshot carries the first page of each (protocol 2), and
 * `next` continues it through the API. A row the page holds is shown in a list only
 * if it lies within what was loaded of it (`last`), so a change frame about a row
 * further down never shows up out of place. Rows the page holds stay current: every
 * change to them arrives as a frame. A fetched page therefore never overwrites a row
 * already held, nor brings back one tombstoned since the snapshot.
 */
import { COLUMN_ORDER_OF, compareTasks, titleMatches } from './task-order.js';
import type { ChangeMessage, LiveConflict as Conflict, LiveCounts, ServerMessage, SnapshotMessage, SnapshotStatus as StatusDoc } from '../../protocol/live.js';
import type { Assignment, Group, Machine, Project, Session, Task, TaskStatus, Update } from '../../protocol/models.js';
import type { Page } from '../../protocol/page.js';
import type { FleetStatus, PeerStatus } from '../../protocol/status.js';

/** What is loaded of one board column in one context: null `next` means all of it. */
export interface TaskWindow {
  readonly next: string | null;
  /** The last row loaded (the boundary), null while nothing is. */
  readonly last: Task | null;
}
export type Columns = Readonly<Record<TaskStatus, TaskWindow>>;

/** What the board shows: tasks of one project (null: all) whose title holds `q`. */
export interface TaskContext {
  readonly project: string | null;
  readonly q: string;
}
export const contextKey = (c: TaskContext): string => `${c.project ?? '*'}\u0000${c.q}`;
/** The snapshot's columns: every project, no search. */
export const ALL_TASKS = contextKey({ project: null, q: '' });

/** Lists other than tasks that page, and what is loaded of each. */
export type ListName = 'projects' | 'sessions' | 'groups' | 'updates' | 'assignments' | 'conflicts';
export interface ListWindow {
  readonly next: string | null;
  /** For lists newest first (updates, assignments, conflicts): ms of the oldest row loaded. */
  readonly oldest: number | null;
}

export interface FleetState {
  /** Cursor of the newest frame applied (events held by the daemon then). */
  readonly cursor: number;
  readonly protocol: number;
  /** Bumped by every snapshot: a page requested before it is not merged after it. */
  readonly epoch: number;
  readonly projects: ReadonlyMap<string, Project>;
  readonly tasks: ReadonlyMap<string, Task>;
  readonly sessions: ReadonlyMap<string, Session>;
  readonly assignments: ReadonlyMap<string, Assignment>;
  readonly groups: ReadonlyMap<string, Group>;
  readonly updates: ReadonlyMap<string, Update>;
  readonly conflicts: ReadonlyMap<string, Conflict>;
  readonly machines: ReadonlyMap<string, Machine>;
  /** Board columns per context (contextKey). */
  readonly columns: ReadonlyMap<string, Columns>;
  readonly lists: Readonly<Record<ListName, ListWindow>>;
  /** `entity:id` of rows tombstoned since the snapshot (bounded; a resync clears it). */
  readonly gone: ReadonlySet<string>;
  readonly peers: readonly PeerStatus[];
  readonly fleet: FleetStatus | null;
  /** The status document at snapshot time: this machine's name and version. */
  readonly status: StatusDoc;
  /** Counts, kept current by `counts` frames. */
  readonly counts: LiveCounts;
}

/**
 * Bounds of what a page holds. Past them the state asks for a resync (`overFull`):
 * a fresh snapshot starts again from the recent windows.
 */
export const MAX_TASKS = 5000;
export const MAX_UPDATES = 2000;
export const MAX_ROWS = 5000;
const MAX_GONE = 5000;

function byKey<T>(rows: readonly T[], key: (r: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const r of rows) m.set(key(r), r);
  return m;
}

const windowOf = (p: Page<Task>): TaskWindow => ({ next: p.next_cursor, last: p.items.at(-1) ?? null });

function listWindow<T>(p: Page<T>, at?: (r: T) => number): ListWindow {
  const last = p.items.at(-1);
  return { next: p.next_cursor, oldest: last === undefined || at === undefined ? null : at(last) };
}

/** When a row of a newest-first list happened (ms). */
export const AT_OF = {
  updates: (u: Update): number => Date.parse(u.created_at),
  assignments: (a: Assignment): number => Date.parse(a.created_at),
  conflicts: (c: Conflict): number => Number(c.loser.hlc.slice(0, 15)),
} as const;

let epochs = 0;

export function fromSnapshot(s: SnapshotMessage): FleetState {
  const d = s.data;
  const columnTasks = [...d.tasks.open.items, ...d.tasks.in_progress.items, ...d.tasks.blocked.items, ...d.tasks.done.items, ...d.session_tasks];
  return {
    cursor: s.cursor,
    protocol: s.protocol,
    epoch: ++epochs,
    projects: byKey(d.projects.items, (p) => p.id),
    tasks: byKey(columnTasks, (t) => t.id),
    sessions: byKey(d.sessions.items, (x) => x.key),
    assignments: byKey(d.assignments.items, (a) => a.id),
    groups: byKey(d.groups.items, (g) => g.name),
    updates: byKey(d.updates.items, (u) => u.id),
    conflicts: byKey(d.conflicts.items, (c) => c.id),
    machines: byKey(d.machines, (m) => m.machine_id),
    columns: new Map([[ALL_TASKS, {
      open: windowOf(d.tasks.open), in_progress: windowOf(d.tasks.in_progress), blocked: windowOf(d.tasks.blocked), done: windowOf(d.tasks.done),
    }]]),
    lists: {
      projects: listWindow(d.projects), sessions: listWindow(d.sessions), groups: listWindow(d.groups),
      updates: listWindow(d.updates, AT_OF.updates), assignments: listWindow(d.assignments, AT_OF.assignments), conflicts: listWindow(d.conflicts, AT_OF.conflicts),
    },
    gone: new Set(),
    peers: d.peers,
    fleet: d.status.fleet,
    status: d.status,
    counts: { counts: d.status.counts, sessions_by_state: d.status.sessions_by_state },
  };
}

type MapKeys = 'projects' | 'tasks' | 'sessions' | 'assignments' | 'groups' | 'updates' | 'conflicts' | 'machines';

const MAP_OF: Readonly<Record<ChangeMessage['entity'], MapKeys>> = {
  project: 'projects', task: 'tasks', session: 'sessions', assignment: 'assignments',
  group: 'groups', update: 'updates', conflict: 'conflicts', machine: 'machines',
};

/**
 * Applies frames received within one animation frame. A snapshot replaces
 * everything before it; `state` is null until the first snapshot.
 */
export function applyFrames(state: FleetState | null, frames: readonly ServerMessage[]): FleetState | null {
  let s = state;
  // Copy-on-write: each touched map is copied once per batch.
  let copies: Partial<Record<MapKeys, Map<string, unknown>>> = {};
  let gone: Set<string> | null = null;
  let extra: { cursor?: number; peers?: readonly PeerStatus[]; fleet?: FleetStatus | null; counts?: LiveCounts } = {};
  const flush = (): void => {
    if (s === null) return;
    s = { ...s, ...(copies as Partial<FleetState>), ...(gone === null ? {} : { gone }), ...extra };
    copies = {};
    gone = null;
    extra = {};
  };
  for (const f of frames) {
    switch (f.type) {
      case 'snapshot':
        copies = {};
        gone = null;
        extra = {};
        s = fromSnapshot(f);
        break;
      case 'change': {
        if (s === null || f.cursor < s.cursor) break; // older than what we have: superseded by the snapshot
        const key = MAP_OF[f.entity];
        let m = copies[key];
        if (m === undefined) {
          m = new Map(s[key] as ReadonlyMap<string, unknown>);
          copies[key] = m;
        }
        if (f.row === null) {
          m.delete(f.id);
          gone ??= new Set(s.gone);
          if (gone.size < MAX_GONE) gone.add(`${f.entity}:${f.id}`);
        } else {
          m.set(f.id, f.row);
        }
        extra.cursor = f.cursor;
        break;
      }
      case 'counts':
        if (s !== null && f.cursor >= s.cursor) extra.counts = { counts: f.counts, sessions_by_state: f.sessions_by_state };
        break;
      case 'peers':
        extra.peers = f.peers;
        break;
      case 'fleet':
        extra.fleet = f.fleet;
        break;
      case 'pong':
      case 'error':
        break;
    }
  }
  flush();
  return s === null ? null : prune(s);
}

/** Whether `t` lies within what `w` has loaded of a column in `order`. */
export function inWindow(w: TaskWindow, status: TaskStatus, t: Task): boolean {
  if (w.next === null) return true;
  return w.last !== null && compareTasks(COLUMN_ORDER_OF[status], t, w.last) <= 0;
}

/** Whether a task belongs to a context (its project, its title search). */
export function inContext(c: TaskContext, t: Task): boolean {
  return (c.project === null || t.project_id === c.project) && titleMatches(t.title, c.q);
}

/**
 * Drops tasks that no loaded column shows and no session works on, once the map is
 * over MAX_TASKS: they came with change frames about tasks further down the lists.
 */
function prune(s: FleetState): FleetState {
  if (s.tasks.size <= MAX_TASKS) return s;
  const keep = new Set<string>();
  for (const x of s.sessions.values()) if (x.task_id !== null) keep.add(x.task_id);
  const tasks = new Map<string, Task>();
  for (const [id, t] of s.tasks) {
    const shown = keep.has(id) || [...s.columns].some(([k, cols]) => {
      const [project, q] = k.split('\u0000') as [string, string];
      return inContext({ project: project === '*' ? null : project, q }, t) && inWindow(cols[t.status], t.status, t);
    });
    if (shown) tasks.set(id, t);
  }
  return { ...s, tasks };
}

/** Whether the page holds more than its bounds allow even after pruning: time for a fresh snapshot. */
export function overFull(s: FleetState): boolean {
  return s.tasks.size > MAX_TASKS || s.updates.size > MAX_UPDATES
    || Math.max(s.assignments.size, s.conflicts.size, s.projects.size, s.sessions.size, s.groups.size) > MAX_ROWS;
}

function mergeRows<T>(held: ReadonlyMap<string, T>, rows: readonly T[], key: (r: T) => string, gone: ReadonlySet<string>, entity: string): Map<string, T> {
  const m = new Map(held);
  for (const r of rows) {
    const k = key(r);
    if (!m.has(k) && !gone.has(`${entity}:${k}`)) m.set(k, r);
  }
  return m;
}

/** Merges fetched pages of a context's columns (its first pages, or the next page of some). */
export function mergeColumns(s: FleetState, key: string, pages: Partial<Record<TaskStatus, Page<Task>>>): FleetState {
  const rows = Object.values(pages).flatMap((p) => p.items);
  const before = s.columns.get(key);
  const empty: TaskWindow = { next: '', last: null };
  const prev: Columns = before ?? { open: empty, in_progress: empty, blocked: empty, done: empty };
  const next: Record<TaskStatus, TaskWindow> = { ...prev };
  for (const [status, p] of Object.entries(pages) as [TaskStatus, Page<Task>][]) {
    next[status] = { next: p.next_cursor, last: p.items.at(-1) ?? prev[status].last };
  }
  const columns = new Map(s.columns);
  columns.set(key, next);
  return { ...s, tasks: mergeRows(s.tasks, rows, (t) => t.id, s.gone, 'task'), columns };
}

const LIST_ROWS = {
  projects: { map: 'projects', entity: 'project', key: (r: Project) => r.id },
  sessions: { map: 'sessions', entity: 'session', key: (r: Session) => r.key },
  groups: { map: 'groups', entity: 'group', key: (r: Group) => r.name },
  updates: { map: 'updates', entity: 'update', key: (r: Update) => r.id },
  assignments: { map: 'assignments', entity: 'assignment', key: (r: Assignment) => r.id },
  conflicts: { map: 'conflicts', entity: 'conflict', key: (r: Conflict) => r.id },
} as const;

export interface ListRows {
  readonly projects: Project;
  readonly sessions: Session;
  readonly groups: Group;
  readonly updates: Update;
  readonly assignments: Assignment;
  readonly conflicts: Conflict;
}

/** Merges the next page of a list. */
export function mergeList<L extends ListName>(s: FleetState, list: L, page: Page<ListRows[L]>): FleetState {
  const d = LIST_ROWS[list] as unknown as { map: MapKeys; entity: string; key: (r: ListRows[L]) => string };
  const at = (AT_OF as Partial<Record<ListName, (r: ListRows[L]) => number>>)[list];
  const last = page.items.at(-1);
  const window: ListWindow = { next: page.next_cursor, oldest: last === undefined || at === undefined ? s.lists[list].oldest : at(last) };
  return {
    ...s,
    [d.map]: mergeRows(s[d.map] as ReadonlyMap<string, ListRows[L]>, page.items, d.key, s.gone, d.entity),
    lists: { ...s.lists, [list]: window },
  };
}
