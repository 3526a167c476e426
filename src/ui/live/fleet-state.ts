/**
 * What the page knows: the read-models from the last snapshot plus every change
 * since. Immutable: applying a batch returns a new state in which only the maps
 * that changed are new objects, so Lit's identity checks re-render only the views
 * whose inputs changed.
 */
import type {
  Assignment, ChangeMessage, Conflict, FleetStatus, Group, Machine, PeerStatus, Project, ServerMessage, Session, SnapshotMessage, StatusDoc, Task, Update,
} from './wire-types.js';

export interface FleetState {
  /** Cursor of the newest frame applied (events held by the daemon then). */
  readonly cursor: number;
  readonly protocol: number;
  readonly projects: ReadonlyMap<string, Project>;
  readonly tasks: ReadonlyMap<string, Task>;
  readonly sessions: ReadonlyMap<string, Session>;
  readonly assignments: ReadonlyMap<string, Assignment>;
  readonly groups: ReadonlyMap<string, Group>;
  readonly updates: ReadonlyMap<string, Update>;
  readonly conflicts: ReadonlyMap<string, Conflict>;
  readonly machines: ReadonlyMap<string, Machine>;
  readonly peers: readonly PeerStatus[];
  readonly fleet: FleetStatus | null;
  /** The status document at snapshot time: this machine's name and version, event counts. */
  readonly status: StatusDoc;
}

/** Updates kept in memory; older ones fall off (the API still has them). */
export const MAX_UPDATES = 500;

function byKey<T>(rows: readonly T[], key: (r: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const r of rows) m.set(key(r), r);
  return m;
}

export function fromSnapshot(s: SnapshotMessage): FleetState {
  const d = s.data;
  return {
    cursor: s.cursor,
    protocol: s.protocol,
    projects: byKey(d.projects, (p) => p.id),
    tasks: byKey(d.tasks, (t) => t.id),
    sessions: byKey(d.sessions, (x) => x.key),
    assignments: byKey(d.assignments, (a) => a.id),
    groups: byKey(d.groups, (g) => g.name),
    updates: byKey(d.updates, (u) => u.id),
    conflicts: byKey(d.conflicts, (c) => c.id),
    machines: byKey(d.machines, (m) => m.machine_id),
    peers: d.peers,
    fleet: d.status.fleet,
    status: d.status,
  };
}

type MapKeys = 'projects' | 'tasks' | 'sessions' | 'assignments' | 'groups' | 'updates' | 'conflicts' | 'machines';

const MAP_OF: Readonly<Record<ChangeMessage['entity'], MapKeys>> = {
  project: 'projects', task: 'tasks', session: 'sessions', assignment: 'assignments',
  group: 'groups', update: 'updates', conflict: 'conflicts', machine: 'machines',
};

/** Drops the oldest updates beyond MAX_UPDATES (created_at is ISO, so it sorts as text). */
function trimUpdates(m: Map<string, unknown>): void {
  if (m.size <= MAX_UPDATES) return;
  const old = [...(m as Map<string, Update>).values()].sort((a, b) => a.created_at.localeCompare(b.created_at)).slice(0, m.size - MAX_UPDATES);
  for (const u of old) m.delete(u.id);
}

/**
 * Applies frames received within one animation frame. A snapshot replaces
 * everything before it; `state` is null until the first snapshot.
 */
export function applyFrames(state: FleetState | null, frames: readonly ServerMessage[]): FleetState | null {
  let s = state;
  // Copy-on-write: each touched map is copied once per batch.
  let copies: Partial<Record<MapKeys, Map<string, unknown>>> = {};
  let extra: { cursor?: number; peers?: readonly PeerStatus[]; fleet?: FleetStatus | null } = {};
  const flush = (): void => {
    if (s === null) return;
    if (copies.updates !== undefined) trimUpdates(copies.updates);
    s = { ...s, ...(copies as Partial<FleetState>), ...extra };
    copies = {};
    extra = {};
  };
  for (const f of frames) {
    switch (f.type) {
      case 'snapshot':
        copies = {};
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
        if (f.row === null) m.delete(f.id);
        else m.set(f.id, f.row);
        extra.cursor = f.cursor;
        break;
      }
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
  return s;
}
