/**
 * Views of the fleet state that several elements show: hosts with their sessions,
 * the board's columns, the counts. Pure functions of the state.
 */
import { inContext, inWindow, type Columns, type TaskContext } from './live/fleet-state.js';
import { COLUMN_ORDER_OF, compareTasks } from './live/task-order.js';
import type { LiveCounts } from '../protocol/live.js';
import type { Machine, Session, Task, TaskStatus } from '../protocol/models.js';
import type { PeerStatus } from '../protocol/status.js';
import { hostLiveness, type Reach } from '../protocol/liveness.js';
import { shortId } from '../protocol/short-id.js';

export interface HostView {
  readonly name: string;
  readonly sessions: readonly Session[];
  /** Newest event from the machine that publishes this host (null: none known). */
  readonly lastSeen: string | null;
  /** Last frame or event any link carried from it (at least lastSeen). */
  readonly lastHeard: string | null;
  /** How it is reached now (protocol/liveness.ts). */
  readonly reach: Reach;
  readonly silent: boolean;
  readonly self: boolean;
}

/**
 * The fleet by host, with each host's liveness judged as the status document judges
 * it (protocol/liveness.ts): reachable over a link, or silent past `silentAfterMs`.
 */
export function hostViews(
  sessions: ReadonlyMap<string, Session>, machines: ReadonlyMap<string, Machine>, peers: readonly PeerStatus[],
  self: { readonly id: string; readonly name: string }, now: number, silentAfterMs: number,
): HostView[] {
  const lastSeen = new Map<string, string>();
  for (const m of machines.values()) if (m.name !== null && m.last_event_at !== null) lastSeen.set(m.name, m.last_event_at);
  const live = hostLiveness(machines.values(), peers, self.id, now, silentAfterMs);
  const byHost = new Map<string, Session[]>();
  for (const x of sessions.values()) {
    const l = byHost.get(x.host);
    if (l === undefined) byHost.set(x.host, [x]);
    else l.push(x);
  }
  const names = [...new Set([...byHost.keys(), ...lastSeen.keys()])].sort();
  return names.map((name) => {
    const seen = lastSeen.get(name) ?? null;
    const isSelf = name === self.name;
    const l = live.get(name);
    return {
      name,
      sessions: (byHost.get(name) ?? []).sort((a, b) => a.session.localeCompare(b.session)),
      lastSeen: seen,
      lastHeard: l?.lastHeard ?? seen,
      reach: isSelf ? 'self' : l?.reach ?? null,
      self: isSelf,
      silent: !isSelf && (l?.silent ?? false),
    };
  });
}

export const COLUMN_ORDER: readonly TaskStatus[] = ['open', 'in_progress', 'blocked', 'done'];

/** One column as the board shows it: the tasks loaded of it, in order, and whether there are more. */
export interface ColumnView {
  readonly tasks: readonly Task[];
  /** Not all of the column is loaded (the board offers the next page). */
  readonly more: boolean;
  /** The context's columns are not loaded at all yet. */
  readonly loading: boolean;
}

/**
 * The board's columns for a context: the tasks it holds that belong to the context and
 * lie within what is loaded of their column, most urgent first (done: newest first).
 */
export function columns(tasks: ReadonlyMap<string, Task>, context: TaskContext, windows: Columns | undefined): Record<TaskStatus, ColumnView> {
  const lists: Record<TaskStatus, Task[]> = { open: [], in_progress: [], blocked: [], done: [] };
  if (windows !== undefined) {
    for (const t of tasks.values()) if (!t.archived && inContext(context, t) && inWindow(windows[t.status], t.status, t)) lists[t.status].push(t);
  }
  const view = (k: TaskStatus): ColumnView => ({
    tasks: lists[k].sort((a, b) => compareTasks(COLUMN_ORDER_OF[k], a, b)),
    more: windows === undefined || windows[k].next !== null,
    loading: windows === undefined,
  });
  return { open: view('open'), in_progress: view('in_progress'), blocked: view('blocked'), done: view('done') };
}

export interface Counts {
  readonly tasks: Readonly<Record<TaskStatus, number>>;
  readonly ready: number;
  readonly sessions: Readonly<Record<string, number>>;
  readonly conflicts: number;
  readonly peersUp: number;
  readonly peers: number;
}

/** The summary: the daemon's counts (whole, whatever the page has loaded) and the peers. */
export function counts(live: LiveCounts, peers: readonly PeerStatus[]): Counts {
  const n = (k: TaskStatus): number => live.counts.tasks[k] ?? 0;
  return {
    tasks: { open: n('open'), in_progress: n('in_progress'), blocked: n('blocked'), done: n('done') },
    ready: live.counts.ready_tasks, sessions: live.sessions_by_state, conflicts: live.counts.conflicts,
    peersUp: peers.filter((p) => p.connected).length, peers: peers.length,
  };
}

/** Name of a machine id as the fleet knows it. */
export function machineName(machines: ReadonlyMap<string, Machine>, id: string): string {
  return machines.get(id)?.name ?? shortId(id);
}
