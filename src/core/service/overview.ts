/** The status overview: counts, the fleet per host, and machines heard from. */
import type { StoreContext } from '../context.js';
import type { Machine, Session } from '../models.js';
import { cachedStatement as stmt } from '../projections/registers.js';
import { listMachines, listSessions, listTasks } from '../queries.js';
import { eventCount } from '../store.js';

export interface HostView {
  readonly name: string;
  readonly sessions: { session: string; state: Session['state']; last_activity: string | null; idle_s: number | null; task_id: string | null; task_title: string | null }[];
  /** Newest event time from the machine that publishes this host, null if unknown. */
  readonly last_seen: string | null;
}

export interface Overview {
  readonly counts: { projects: number; tasks: Record<string, number>; ready_tasks: number; sessions: number; events: number; skipped_events: number; conflicts: number };
  readonly sessions_by_state: Record<string, number>;
  readonly hosts: HostView[];
  readonly machines: Machine[];
}

export function overview(ctx: StoreContext, now: number = Date.now()): Overview {
  const db = ctx.db;
  const count = (sql: string): number => (stmt(db, sql).get() as { n: number }).n;
  const tasks = listTasks(db);
  const byStatus: Record<string, number> = { open: 0, in_progress: 0, blocked: 0, done: 0 };
  for (const t of tasks) byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
  const titles = new Map(tasks.map((t) => [t.id, t.title]));
  const sessions = listSessions(db);
  const byState: Record<string, number> = { working: 0, waiting: 0, idle: 0, exited: 0 };
  for (const s of sessions) if (s.state !== null) byState[s.state] = (byState[s.state] ?? 0) + 1;
  const machines = listMachines(db);
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
    counts: {
      projects: count('SELECT count(*) AS n FROM projects WHERE created = 1 AND archived = 0'),
      tasks: byStatus,
      ready_tasks: tasks.filter((t) => t.ready).length,
      sessions: sessions.length,
      events: eventCount(db),
      skipped_events: count('SELECT count(*) AS n FROM skipped_events'),
      conflicts: count('SELECT count(*) AS n FROM conflicts'),
    },
    sessions_by_state: byState,
    hosts,
    machines,
  };
}
