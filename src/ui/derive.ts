/**
 * Views of the fleet state that several elements show: hosts with their sessions,
 * the board's columns, the activity stream. Pure functions of the state.
 */
import type { Assignment, Conflict, Machine, PeerStatus, Session, Task, TaskStatus, Update } from './live/wire-types.js';
import { hlcMs } from './format.js';

/** A host not heard from for this long is shown as silent. */
export const SILENT_AFTER_MS = 5 * 60_000;

export interface HostView {
  readonly name: string;
  readonly sessions: readonly Session[];
  /** Newest event from the machine that publishes this host (null: none known). */
  readonly lastSeen: string | null;
  readonly silent: boolean;
  readonly self: boolean;
}

export function hostViews(sessions: ReadonlyMap<string, Session>, machines: ReadonlyMap<string, Machine>, selfName: string, now: number): HostView[] {
  const lastSeen = new Map<string, string>();
  for (const m of machines.values()) if (m.name !== null && m.last_event_at !== null) lastSeen.set(m.name, m.last_event_at);
  const byHost = new Map<string, Session[]>();
  for (const x of sessions.values()) {
    const l = byHost.get(x.host);
    if (l === undefined) byHost.set(x.host, [x]);
    else l.push(x);
  }
  const names = [...new Set([...byHost.keys(), ...lastSeen.keys()])].sort();
  return names.map((name) => {
    const seen = lastSeen.get(name) ?? null;
    const self = name === selfName;
    return {
      name,
      sessions: (byHost.get(name) ?? []).sort((a, b) => a.session.localeCompare(b.session)),
      lastSeen: seen,
      self,
      silent: !self && seen !== null && now - Date.parse(seen) > SILENT_AFTER_MS,
    };
  });
}

export const COLUMN_ORDER: readonly TaskStatus[] = ['open', 'in_progress', 'blocked', 'done'];

/** Most urgent first, then oldest first; done tasks newest first. */
function byUrgency(a: Task, b: Task): number {
  return a.priority - b.priority || a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id);
}

/** Tasks of the project (all when null) in their status columns. */
export function columns(tasks: ReadonlyMap<string, Task>, project: string | null): Record<TaskStatus, Task[]> {
  const out: Record<TaskStatus, Task[]> = { open: [], in_progress: [], blocked: [], done: [] };
  for (const t of tasks.values()) if (project === null || t.project_id === project) out[t.status].push(t);
  for (const k of COLUMN_ORDER) out[k].sort(byUrgency);
  out.done.reverse();
  return out;
}

export type ActivityItem =
  | { readonly kind: 'update'; readonly key: string; readonly at: number; readonly update: Update }
  | { readonly kind: 'assignment'; readonly key: string; readonly at: number; readonly assignment: Assignment; readonly task: Task | undefined }
  | { readonly kind: 'conflict'; readonly key: string; readonly at: number; readonly conflict: Conflict };

/** Updates, broadcasts, assignments and conflicts, newest first, at most `limit`. */
export function activity(
  updates: ReadonlyMap<string, Update>, assignments: ReadonlyMap<string, Assignment>, conflicts: ReadonlyMap<string, Conflict>, tasks: ReadonlyMap<string, Task>, limit = 300,
): ActivityItem[] {
  const items: ActivityItem[] = [];
  for (const u of updates.values()) items.push({ kind: 'update', key: `u:${u.id}`, at: Date.parse(u.created_at), update: u });
  for (const a of assignments.values()) items.push({ kind: 'assignment', key: `a:${a.id}`, at: Date.parse(a.created_at), assignment: a, task: tasks.get(a.task_id) });
  for (const c of conflicts.values()) items.push({ kind: 'conflict', key: `c:${c.id}`, at: hlcMs(c.loser.hlc), conflict: c });
  items.sort((a, b) => b.at - a.at || a.key.localeCompare(b.key));
  return items.slice(0, limit);
}

export interface Counts {
  readonly tasks: Readonly<Record<TaskStatus, number>>;
  readonly ready: number;
  readonly sessions: Readonly<Record<string, number>>;
  readonly conflicts: number;
  readonly peersUp: number;
  readonly peers: number;
}

export function counts(
  tasks: ReadonlyMap<string, Task>, sessions: ReadonlyMap<string, Session>, conflicts: ReadonlyMap<string, Conflict>, peers: readonly PeerStatus[],
): Counts {
  const byStatus: Record<TaskStatus, number> = { open: 0, in_progress: 0, blocked: 0, done: 0 };
  let ready = 0;
  for (const t of tasks.values()) {
    byStatus[t.status]++;
    if (t.ready) ready++;
  }
  const byState: Record<string, number> = { working: 0, waiting: 0, idle: 0, exited: 0 };
  for (const x of sessions.values()) if (x.state !== null) byState[x.state] = (byState[x.state] ?? 0) + 1;
  return { tasks: byStatus, ready, sessions: byState, conflicts: conflicts.size, peersUp: peers.filter((p) => p.connected).length, peers: peers.length };
}

/** Name of a machine id as the fleet knows it. */
export function machineName(machines: ReadonlyMap<string, Machine>, id: string): string {
  return machines.get(id)?.name ?? id.slice(0, 8);
}
