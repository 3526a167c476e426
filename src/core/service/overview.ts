/**
 * The status overview: counts, the fleet per host, and machines heard from.
 *
 * What must stay true: it costs the same at any size of the log. Task counts come
 * from the maintained counters (projections/task-state.ts); other counts are of
 * small tables or `count(*)` of a whole table; the fleet lists at most
 * MAX_STATUS_SESSIONS sessions and MAX_STATUS_MACHINES machines (`truncated` says so).
 */
import type { StoreContext } from '../context.js';
import type { Machine, Session } from '../../protocol/models.js';
import { jsonIds, listMachines, pageSessions, taskCounts } from '../queries.js';
import { eventCount } from '../store.js';
import { cachedStatement as stmt } from '../db.js';

/** Sessions listed under `hosts` (the count is always exact). A fleet is tens of sessions. */
export const MAX_STATUS_SESSIONS = 500;
/** Machines listed under `machines`. */
export const MAX_STATUS_MACHINES = 200;

export interface HostView {
  readonly name: string;
  readonly sessions: { session: string; state: Session['state']; last_activity: string | null; idle_s: number | null; task_id: string | null; task_title: string | null }[];
  /** Newest event time from the machine that publishes this host, null if unknown. */
  readonly last_seen: string | null;
}

export interface OverviewCounts {
  readonly counts: { projects: number; tasks: Record<string, number>; ready_tasks: number; sessions: number; events: number; skipped_events: number; conflicts: number };
  readonly sessions_by_state: Record<string, number>;
}

export interface Overview extends OverviewCounts {
  readonly hosts: HostView[];
  readonly machines: Machine[];
  /** Whether `hosts` or `machines` stop short of all there are (the counts do not). */
  readonly truncated: { readonly sessions: boolean; readonly machines: boolean };
}

/** The counts alone (status `counts` and `sessions_by_state`; the live `counts` frame). */
export function overviewCounts(ctx: StoreContext): OverviewCounts {
  const db = ctx.db;
  const count = (sql: string): number => (stmt(db, sql).get() as { n: number }).n;
  const tasks = taskCounts(db);
  const byState: Record<string, number> = { working: 0, waiting: 0, idle: 0, exited: 0 };
  for (const r of stmt(db, 'SELECT state, count(*) AS n FROM sessions WHERE gone = 0 AND state IS NOT NULL GROUP BY state').all() as { state: string; n: number }[]) byState[r.state] = r.n;
  return {
    counts: {
      projects: count('SELECT count(*) AS n FROM projects WHERE created = 1 AND archived = 0'),
      tasks: tasks.byStatus,
      ready_tasks: tasks.ready,
      sessions: count('SELECT count(*) AS n FROM sessions WHERE gone = 0'),
      events: eventCount(db),
      skipped_events: count('SELECT count(*) AS n FROM skipped_events'),
      conflicts: count('SELECT count(*) AS n FROM conflicts'),
    },
    sessions_by_state: byState,
  };
}

export function overview(ctx: StoreContext, now: number = Date.now()): Overview {
  const db = ctx.db;
  const page = pageSessions(db, {}, { limit: MAX_STATUS_SESSIONS });
  const sessions = page.items;
  // Titles only: the sessions' tasks need no dependencies or assignments here.
  const titles = new Map((stmt(db, 'SELECT id, title FROM tasks WHERE id IN (SELECT value FROM json_each(?))')
    .all(jsonIds(sessions.flatMap((s) => (s.task_id === null ? [] : [s.task_id])))) as { id: string; title: string | null }[]).map((t) => [t.id, t.title ?? '']));
  const machines = listMachines(db, MAX_STATUS_MACHINES + 1);
  const lastSeenByName = new Map<string, string>();
  for (const m of machines) if (m.name !== null && m.last_event_at !== null) lastSeenByName.set(m.name, m.last_event_at);
  const hostNames = new Set([...sessions.map((s) => s.host), ...lastSeenByName.keys()]);
  const hosts: HostView[] = [...hostNames].sort().map((name) => ({
    name,
    last_seen: lastSeenByName.get(name) ?? null,
    sessions: sessions.filter((s) => s.host === name).map((s) => ({
      session: s.session,
      state: s.state,
      last_activity: s.last_activity,
      // A working session is not idle; its last_activity is only re-recorded when its
      // state changes (fleet/session-diff.ts), so for it that would read "working since".
      idle_s: s.last_activity === null || s.state === 'working' ? null : Math.max(0, Math.round((now - Date.parse(s.last_activity)) / 1000)),
      task_id: s.task_id,
      task_title: s.task_id === null ? null : titles.get(s.task_id) ?? null,
    })),
  }));
  return {
    ...overviewCounts(ctx),
    hosts,
    machines: machines.slice(0, MAX_STATUS_MACHINES),
    truncated: { sessions: page.next_cursor !== null, machines: machines.length > MAX_STATUS_MACHINES },
  };
}
