/**
 * The read-models and live frames as the page receives them: the browser-side view
 * of core/models.ts, server/status-models.ts and server/live-protocol.ts. Those
 * modules pull in Node (ids, clocks), so the page declares the shapes here;
 * test/integration/dashboard-protocol.test.ts checks at compile time that every frame the
 * server can send is assignable to these types, so the two cannot drift apart.
 */

export const LIVE_PROTOCOL_VERSION = 2;

export type TaskStatus = 'open' | 'in_progress' | 'blocked' | 'done';
export type SessionState = 'working' | 'waiting' | 'idle' | 'exited';
export type ReceiptStatus = 'delivered' | 'failed' | 'expired';

export interface Project {
  readonly id: string;
  readonly name: string;
  readonly path: string | null;
  readonly description: string;
  readonly weight: number;
  readonly archived: boolean;
  readonly created_at: string;
}

export interface Assignment {
  readonly id: string;
  readonly task_id: string;
  readonly host: string;
  readonly session: string;
  readonly delivery: 'pending' | 'delivered' | 'failed';
  readonly error: string | null;
  readonly removed: boolean;
  readonly created_at: string;
}

export interface Task {
  readonly id: string;
  readonly project_id: string;
  readonly project: string | null;
  readonly title: string;
  readonly description: string;
  readonly priority: number;
  readonly status: TaskStatus;
  /** When the current status was set. */
  readonly status_at: string;
  readonly archived: boolean;
  readonly depends_on: readonly string[];
  /** Dependencies not yet done. */
  readonly blocked_by: readonly string[];
  readonly ready: boolean;
  readonly assignment: Assignment | null;
  readonly created_at: string;
}

export interface Session {
  /** `host:session` */
  readonly key: string;
  readonly host: string;
  readonly session: string;
  readonly cwd: string | null;
  readonly state: SessionState | null;
  readonly last_activity: string | null;
  readonly gone: boolean;
  readonly task_id: string | null;
}

export interface Group {
  readonly name: string;
  readonly members: readonly string[];
  readonly archived: boolean;
}

export interface Receipt {
  readonly host: string;
  readonly session: string;
  readonly status: ReceiptStatus;
  readonly detail: string | null;
}

export interface Update {
  readonly id: string;
  readonly kind: 'note' | 'broadcast';
  readonly text: string;
  readonly origin: string;
  readonly task_id: string | null;
  readonly host: string | null;
  readonly session: string | null;
  readonly group: string | null;
  readonly ttl_s: number | null;
  readonly expires_at: string | null;
  readonly created_at: string;
  readonly receipts: readonly Receipt[];
}

export interface ConflictSide {
  readonly event: string;
  readonly hlc: string;
  readonly value: unknown;
}

export interface Conflict {
  readonly id: string;
  readonly entity: string;
  readonly entity_id: string;
  readonly field: string;
  readonly winner: ConflictSide;
  readonly loser: ConflictSide;
}

export interface Machine {
  readonly machine_id: string;
  readonly name: string | null;
  readonly last_event_at: string | null;
  readonly events: number;
}

export interface CodedError {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

export interface PeerStatus {
  readonly url: string | null;
  readonly machine_id: string | null;
  readonly name: string | null;
  readonly connected: boolean;
  readonly since: string | null;
  readonly faulty: boolean;
  readonly last_error: CodedError | null;
  readonly events_sent: number;
  readonly events_received: number;
  readonly duplicates_received: number;
  readonly lag: { readonly they_lack: number; readonly we_lack: number } | null;
  readonly clock_offset_ms: number | null;
  readonly protocol: number | null;
}

export interface PullResult {
  readonly host: string;
  readonly at: string;
  readonly sessions: number;
  readonly appeared: number;
  readonly changed: number;
  readonly gone: number;
}

export interface FleetStatus {
  readonly last_pull: PullResult | null;
  readonly last_error: CodedError | null;
  readonly rclaude_version: string | null;
}

export interface Counts {
  readonly projects: number;
  readonly tasks: Readonly<Record<string, number>>;
  readonly ready_tasks: number;
  readonly sessions: number;
  readonly events: number;
  readonly skipped_events: number;
  readonly conflicts: number;
}

/** The counts the page shows, from the snapshot and `counts` frames. */
export interface LiveCounts {
  readonly counts: Counts;
  readonly sessions_by_state: Readonly<Record<string, number>>;
}

/** The status document as the snapshot carries it (GET /api/v1/status without hosts and machines). */
export interface StatusDoc extends LiveCounts {
  readonly machine: { readonly id: string; readonly name: string; readonly version: string; readonly started_at: string };
  readonly truncated: { readonly sessions: boolean; readonly machines: boolean };
  readonly peers: readonly PeerStatus[];
  readonly fleet: FleetStatus | null;
}

/** One page of a list: `next_cursor` (null: no more) continues it through its API route. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next_cursor: string | null;
}

export interface SnapshotData {
  readonly projects: Page<Project>;
  readonly sessions: Page<Session>;
  /** The board's columns: open work by urgency, recently done first. */
  readonly tasks: Readonly<Record<TaskStatus, Page<Task>>>;
  /** Tasks the sessions work on that the columns do not carry. */
  readonly session_tasks: readonly Task[];
  readonly assignments: Page<Assignment>;
  readonly groups: Page<Group>;
  readonly updates: Page<Update>;
  readonly conflicts: Page<Conflict>;
  readonly machines: readonly Machine[];
  readonly peers: readonly PeerStatus[];
  readonly status: StatusDoc;
}

export interface SnapshotMessage {
  readonly type: 'snapshot';
  readonly protocol: number;
  readonly cursor: number;
  readonly data: SnapshotData;
}

/** Row type of each entity kind of a `change` frame. */
export interface EntityRows {
  readonly project: Project;
  readonly task: Task;
  readonly assignment: Assignment;
  readonly session: Session;
  readonly group: Group;
  readonly update: Update;
  readonly machine: Machine;
  readonly conflict: Conflict;
}
export type LiveEntity = keyof EntityRows;
export const LIVE_ENTITIES: readonly LiveEntity[] = ['project', 'task', 'assignment', 'session', 'group', 'update', 'machine', 'conflict'];

export type ChangeMessage = {
  readonly [E in LiveEntity]: { readonly type: 'change'; readonly cursor: number; readonly entity: E; readonly id: string; readonly row: EntityRows[E] | null };
}[LiveEntity];

export interface CountsMessage extends LiveCounts {
  readonly type: 'counts';
  readonly cursor: number;
}

export interface PeersMessage {
  readonly type: 'peers';
  readonly peers: readonly PeerStatus[];
}

export interface FleetMessage {
  readonly type: 'fleet';
  readonly fleet: FleetStatus | null;
}

export interface PongMessage {
  readonly type: 'pong';
  readonly t: number;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly code: string;
  readonly message: string;
}

export type ServerMessage = SnapshotMessage | ChangeMessage | CountsMessage | PeersMessage | FleetMessage | PongMessage | ErrorMessage;

export type ClientFrame = { readonly type: 'resync' } | { readonly type: 'ping'; readonly t: number };
