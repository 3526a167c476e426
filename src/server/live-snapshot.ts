/**
 * The `snapshot` frame: what a person looks at, bounded at any size of the store.
 * Sessions, machines, projects and groups; the board's four columns (open work by
 * urgency, recently done); the tasks the sessions work on; recent updates,
 * assignments and conflicts. Each list is the first page of its API list, cut by a
 * count and by its share of SNAPSHOT_MAX_BYTES, with the cursor that continues it.
 *
 * What must stay true: the frame is at most SNAPSHOT_MAX_BYTES of JSON whatever the
 * store holds (a row too large for what is left is not sent; its list says there is
 * more), and it costs a bounded number of indexed reads.
 */
import type { StoreContext } from '../core/context.js';
import type { Db } from '../core/db.js';
import type { Task } from '../protocol/models.js';
import type { PageRequest } from '../core/paging.js';
import type { Page } from '../protocol/page.js';
import { listMachines, pageAssignments, pageConflicts, pageGroups, pageProjects, pageSessions, pageUpdates, tasksByIds } from '../core/queries.js';
import { MAX_STATUS_MACHINES, overviewCounts } from '../core/service/overview.js';
import { pageTasks } from '../core/task-queries.js';
import { ConflictTracker, toLiveConflict } from './live-changes.js';
import { SNAPSHOT_MAX_BYTES, type SnapshotMessage } from '../protocol/live.js';
import { LIVE_PROTOCOL_VERSION } from '../protocol/live-version.js';
import type { StatusDoc } from '../protocol/status.js';

/**
 * Per list: the most rows it carries and its share of the byte budget left after
 * the status. Shares sum to 1; what a list leaves unused goes to the lists after it.
 * Open work has the largest share: it is what the board shows first.
 */
export const SNAPSHOT_LISTS = {
  sessions: { rows: 500, share: 0.14 },
  machines: { rows: MAX_STATUS_MACHINES, share: 0.03 },
  projects: { rows: 300, share: 0.07 },
  groups: { rows: 200, share: 0.03 },
  in_progress: { rows: 200, share: 0.12 },
  blocked: { rows: 200, share: 0.09 },
  open: { rows: 300, share: 0.18 },
  done: { rows: 50, share: 0.06 },
  session_tasks: { rows: 500, share: 0.06 },
  updates: { rows: 100, share: 0.12 },
  assignments: { rows: 100, share: 0.05 },
  conflicts: { rows: 50, share: 0.05 },
} as const satisfies Record<string, { rows: number; share: number }>;

type ListName = keyof typeof SNAPSHOT_LISTS;

/** Bytes of JSON of a value (what it adds to the frame, give or take a comma). */
const bytesOf = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

/** Hands out the byte budget list by list, in the order of SNAPSHOT_LISTS. */
class Budget {
  private spentShares = 0;
  private spent = 0;

  constructor(private readonly total: number) {}

  /** The page request for list `name`: its row cap, and its share plus what earlier lists left. */
  request(name: ListName): PageRequest {
    const l = SNAPSHOT_LISTS[name];
    this.spentShares += l.share;
    const allowance = Math.floor(this.total * this.spentShares) - this.spent;
    return { limit: l.rows, maxBytes: Math.max(0, allowance), allowEmpty: true };
  }

  take<T>(page: Page<T>): Page<T> {
    this.spent += bytesOf(page.items);
    return page;
  }
}

/**
 * Reads the snapshot. Synchronous on purpose: with no await between this read and
 * the client joining the broadcast set, no commit can fall between the two.
 * `status` may be up to one poll old; its counts are read now.
 */
export function buildSnapshot(ctx: StoreContext, status: StatusDoc, cursor: number, conflicts: ConflictTracker): SnapshotMessage {
  const db = ctx.db;
  // Without hosts and machines: sessions and machines are lists of their own below.
  const head = { machine: status.machine, ...overviewCounts(ctx), truncated: status.truncated, liveness: status.liveness, peers: status.peers, fleet: status.fleet, recovery: status.recovery };
  // The envelope, status and peers first; 2 kB spare for the list wrappers and keys.
  const budget = new Budget(SNAPSHOT_MAX_BYTES - bytesOf(head) - bytesOf(status.peers) - 2048);

  const sessions = budget.take(pageSessions(db, {}, budget.request('sessions')));
  const machines = budget.take(capped(listMachines(db, SNAPSHOT_LISTS.machines.rows), budget.request('machines')));
  const projects = budget.take(pageProjects(db, {}, budget.request('projects')));
  const groups = budget.take(pageGroups(db, {}, budget.request('groups')));
  const in_progress = budget.take(pageTasks(db, { status: 'in_progress' }, 'urgency', budget.request('in_progress')));
  const blocked = budget.take(pageTasks(db, { status: 'blocked' }, 'urgency', budget.request('blocked')));
  const open = budget.take(pageTasks(db, { status: 'open' }, 'urgency', budget.request('open')));
  const done = budget.take(pageTasks(db, { status: 'done' }, 'recent', budget.request('done')));
  const sessionTasks = budget.take(capped(tasksOfSessions(db, sessions.items.map((s) => s.task_id), [in_progress, blocked, open, done]), budget.request('session_tasks')));
  const updates = budget.take(pageUpdates(db, {}, budget.request('updates')));
  const assignments = budget.take(pageAssignments(db, {}, budget.request('assignments')));
  const conflictPage = budget.take(pageConflicts(db, budget.request('conflicts')));
  const conflictRows = conflictPage.items.map(toLiveConflict);
  conflicts.reset(conflictRows);
  return {
    type: 'snapshot',
    protocol: LIVE_PROTOCOL_VERSION,
    cursor,
    data: {
      projects, sessions,
      tasks: { open, in_progress, blocked, done },
      session_tasks: sessionTasks.items,
      assignments, groups, updates,
      conflicts: { items: conflictRows, next_cursor: conflictPage.next_cursor },
      machines: machines.items,
      peers: status.peers,
      status: head,
    },
  };
}

/** The tasks sessions work on that the columns do not already carry. */
function tasksOfSessions(db: Db, taskIds: readonly (string | null)[], columns: readonly Page<Task>[]): Task[] {
  const shown = new Set(columns.flatMap((c) => c.items.map((t) => t.id)));
  const wanted = taskIds.filter((id): id is string => id !== null && !shown.has(id));
  return [...tasksByIds(db, wanted).values()].filter((t) => !t.archived);
}

/** A plain array cut to a page request's rows and bytes (lists without a route: no cursor). */
function capped<T>(rows: readonly T[], p: PageRequest): Page<T> {
  const items: T[] = [];
  let bytes = 0;
  for (const r of rows.slice(0, p.limit)) {
    bytes += bytesOf(r) + 1;
    if (bytes > (p.maxBytes ?? Infinity)) break;
    items.push(r);
  }
  return { items, next_cursor: null };
}
