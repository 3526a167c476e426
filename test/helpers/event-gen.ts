/**
 * fast-check arbitraries for Clare event histories, made by a simulated mesh.
 *
 * A history is not drawn event by event: fast-check draws a list of abstract
 * commands (machine 2 edits "some task it knows", machine 0 syncs 5 events to
 * machine 1, the wall clock of machine 3 steps back 4 s, …) and `simulate` plays
 * them on real stores — each machine a `:memory:` database with its own
 * `HybridClock` on an injected wall clock — through the real `append`, `ingest`,
 * `eventsAfter` and `watermarks`. So every event is one a real machine could
 * write: HLCs come from real clocks, `base` is what the writing machine had seen,
 * concurrent edits happen when machines have not synced. Two raw peers add what
 * current machines never write: a newer peer (unknown types, newer `v`) and an
 * older, sloppy one (task.created v1, untrimmed names, non-UTC instants).
 *
 * Ids are deterministic (small pools) so counterexamples read well; event ids of
 * machine-written events are real uuidv7s.
 *
 * Reusable by replication tests: `historyArb` for whole histories, `commandArb`
 * and `simulate` to drive a mesh, `deliveryArb` for "the same events, any order,
 * duplicated, in random batches".
 */
import fc from 'fast-check';
import { digest } from '../../src/core/digest.js';
import { openDb, type Db } from '../../src/core/db.js';
import { RECEIPT_STATUSES, SESSION_STATES, TASK_STATUSES, type ReceiptStatus, type SessionState, type TaskStatus } from '../../src/protocol/models.js';
import type { EventDraft } from '../../src/core/events/catalog.js';
import type { EventEnvelope } from '../../src/core/events/envelope.js';
import { compareHlc, HybridClock, type Hlc } from '../../src/core/hlc.js';
import type { AssignmentId, EventId, MachineId, ProjectId, TaskId, UpdateId } from '../../src/core/ids.js';
import { append, eventsAfter, ingest, watermarks } from '../../src/core/store.js';

/** Start of simulated time (ms since epoch). In the past, so real clocks never see it as skewed. */
export const SIM_T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
/** Simulated wall clocks stay within this of the mesh time: well inside the default 60 s skew bound. */
const MAX_OFFSET_MS = 20_000;

/** A valid lower-case uuid (v4 layout) from a kind tag and a number: readable, deterministic ids. */
export function fixedUuid(kind: number, n: number): string {
  return `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

const KIND = { machine: 0xa0, rawPeer: 0xb0, project: 0x01, task: 0x02, assignment: 0x03, update: 0x04, rawEvent: 0x05 } as const;

export const machineIdOf = (i: number): MachineId => fixedUuid(KIND.machine, i) as MachineId;
const PROJECTS = [0, 1, 2].map((n) => fixedUuid(KIND.project, n) as ProjectId);
const TASKS = [0, 1, 2, 3, 4, 5].map((n) => fixedUuid(KIND.task, n) as TaskId);
const ASSIGNMENTS = [0, 1, 2, 3].map((n) => fixedUuid(KIND.assignment, n) as AssignmentId);
const SESSIONS = ['desk', 'build', 'laptop'].flatMap((host) => ['api', 'web', 'ops'].map((session) => ({ host, session })));
const GROUPS = ['all', 'backend', 'night'];
const PATTERNS = ['desk:*', 'build:api-*', '*:web', 'laptop:ops'];

const at = <T>(list: readonly T[], pick: number): T => list[pick % list.length]!;

// ---------------------------------------------------------------------------
// Commands

type ProjectFields = { name?: string; path?: string | null; description?: string; weight?: number };
type TaskFields = { title?: string; description?: string; priority?: number; project?: number };
type SessionFields = { cwd?: string; state?: SessionState; touch?: boolean };

/** One thing a person, an agent or the daemon does on one machine. `pick`s index into what that machine knows. */
export type Action =
  | { kind: 'project.create'; pick: number; name: string; path: string | null; description: string; weight: number }
  | { kind: 'project.update'; pick: number; known: boolean; fields: ProjectFields }
  | { kind: 'project.archive'; pick: number; known: boolean }
  | { kind: 'task.create'; pick: number; project: number; title: string; description: string; priority: number; deps: number[] }
  | { kind: 'task.update'; pick: number; known: boolean; fields: TaskFields }
  | { kind: 'task.status'; pick: number; known: boolean; status: TaskStatus; note: string | null }
  | { kind: 'task.dependency'; pick: number; on: number; add: boolean }
  | { kind: 'task.archive'; pick: number; known: boolean }
  | { kind: 'task.claim'; pick: number; session: number; takeOver: boolean }
  | { kind: 'claim.notice'; pick: number; delivered: boolean }
  | { kind: 'assignment.create'; pick: number; task: number; session: number }
  | { kind: 'assignment.outcome'; pick: number; outcome: 'removed' | 'delivered' | 'failed' }
  | { kind: 'session.seen'; session: number; cwd: string; state: SessionState }
  | { kind: 'session.changed'; session: number; fields: SessionFields }
  | { kind: 'session.gone'; session: number }
  | { kind: 'group.create'; group: number }
  | { kind: 'group.member'; group: number; pattern: number; add: boolean }
  | { kind: 'group.archive'; group: number }
  | { kind: 'note'; task: number | null; session: number | null; text: string }
  | { kind: 'broadcast'; group: number; text: string; ttl: number | null }
  | { kind: 'receipt'; pick: number; session: number; status: ReceiptStatus; detail: string | null }
  | { kind: 'machine.named'; name: string };

/** Events current machines never write, sent by the two raw peers. */
export type RawAction =
  | { kind: 'unknown-type'; task: number; label: string }
  | { kind: 'newer-version'; task: number; title: string }
  | { kind: 'v1-task-created'; task: number; project: number; title: string; priority: number }
  | { kind: 'padded-project-name'; project: number; name: string }
  | { kind: 'offset-timestamp'; session: number; hours: number; state: SessionState };

export type Command =
  | { kind: 'act'; machine: number; action: Action }
  | { kind: 'raw'; action: RawAction }
  /** `from` sends `to` what `to` lacks per its watermarks, at most `limit` events (null: all). */
  | { kind: 'sync'; from: number; to: number; limit: number | null }
  /** Mesh time passes. */
  | { kind: 'wait'; ms: number }
  /** One machine's wall clock steps (backwards when negative), as NTP does. */
  | { kind: 'step'; machine: number; ms: number };

const pick = fc.nat(1000);
const word = (...ws: string[]) => fc.constantFrom(...ws);
const nameArb = word('clare', 'billing api', 'infra', 'docs site', 'mobile');
const titleArb = fc.tuple(word('fix', 'write', 'review', 'ship', 'profile'), word('login', 'docs', 'sync', 'ranking', 'deploy'), fc.nat(99))
  .map(([a, b, n]) => `${a} ${b} #${n}`);
const descArb = word('', 'the main repo', 'see the design doc', 'ops scripts');
const pathArb = fc.option(word('/home/me/src/clare', '/srv/api', '/home/me/notes'), { nil: null });
const weightArb = fc.constantFrom(0.5, 1, 2, 3.5);
const textArb = word('tests pass', 'blocked on review', 'please rebase on main', 'deploy at 5pm', 'stop and commit');
const nonEmpty = <T extends object>(a: fc.Arbitrary<T>) => a.filter((o) => Object.keys(o).length > 0);

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('project.create' as const), pick, name: nameArb, path: pathArb, description: descArb, weight: weightArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('project.update' as const), pick, known: fc.boolean(),
    fields: nonEmpty(fc.record({ name: nameArb, path: pathArb, description: descArb, weight: weightArb }, { requiredKeys: [] })) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('project.archive' as const), pick, known: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('task.create' as const), pick, project: pick, title: titleArb, description: descArb,
    priority: fc.integer({ min: 0, max: 4 }), deps: fc.array(pick, { maxLength: 2 }) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('task.update' as const), pick, known: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, fc.constant(false)),
    fields: nonEmpty(fc.record({ title: titleArb, description: descArb, priority: fc.integer({ min: 0, max: 4 }), project: pick }, { requiredKeys: [] })) }), weight: 8 },
  { arbitrary: fc.record({ kind: fc.constant('task.status' as const), pick, known: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, fc.constant(false)),
    status: fc.constantFrom(...TASK_STATUSES), note: fc.option(textArb, { nil: null }) }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('task.dependency' as const), pick, on: pick, add: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('task.archive' as const), pick, known: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('task.claim' as const), pick, session: pick, takeOver: fc.boolean() }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('claim.notice' as const), pick, delivered: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('assignment.create' as const), pick, task: pick, session: pick }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('assignment.outcome' as const), pick, outcome: fc.constantFrom('removed' as const, 'delivered' as const, 'failed' as const) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('session.seen' as const), session: pick, cwd: word('/srv/api', '/home/me/src/clare'), state: fc.constantFrom(...SESSION_STATES) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('session.changed' as const), session: pick,
    fields: nonEmpty(fc.record({ cwd: word('/srv/api', '/tmp/x'), state: fc.constantFrom(...SESSION_STATES), touch: fc.constant(true) }, { requiredKeys: [] })) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('session.gone' as const), session: pick }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('group.create' as const), group: pick }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('group.member' as const), group: pick, pattern: pick, add: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('group.archive' as const), group: pick }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('note' as const), task: fc.option(pick, { nil: null }), session: fc.option(pick, { nil: null }), text: textArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('broadcast' as const), group: pick, text: textArb, ttl: fc.option(fc.constantFrom(60, 3600, 86_400), { nil: null }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('receipt' as const), pick, session: pick, status: fc.constantFrom(...RECEIPT_STATUSES), detail: fc.option(word('tmux gone', 'ok'), { nil: null }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('machine.named' as const), name: word('desk', 'build', 'laptop', 'desk-2') }), weight: 1 },
);

export const rawActionArb: fc.Arbitrary<RawAction> = fc.oneof(
  fc.record({ kind: fc.constant('unknown-type' as const), task: pick, label: word('urgent', 'later') }),
  fc.record({ kind: fc.constant('newer-version' as const), task: pick, title: titleArb }),
  fc.record({ kind: fc.constant('v1-task-created' as const), task: pick, project: pick, title: titleArb, priority: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('padded-project-name' as const), project: pick, name: nameArb }),
  fc.record({ kind: fc.constant('offset-timestamp' as const), session: pick, hours: fc.integer({ min: -11, max: 12 }), state: fc.constantFrom(...SESSION_STATES) }),
);

/** Commands for a mesh of `machines` machines (indices are taken modulo the count). */
export function commandArb(opts: { raw?: boolean } = {}): fc.Arbitrary<Command> {
  const m = fc.nat(7);
  return fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('act' as const), machine: m, action: actionArb }), weight: 14 },
    { arbitrary: fc.record({ kind: fc.constant('sync' as const), from: m, to: m, limit: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }) }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3000 }) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('step' as const), machine: m, ms: fc.integer({ min: -8000, max: 8000 }) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('raw' as const), action: rawActionArb }), weight: opts.raw === false ? 0 : 1 },
  );
}

// ---------------------------------------------------------------------------
// The simulated mesh

/** What a simulated mesh produced. */
export interface History {
  /** Every distinct event, in HLC order, as a peer would send it (the raw peers' events verbatim). */
  readonly events: readonly EventEnvelope[];
  readonly machines: readonly MachineId[];
  /**
   * Per machine, the ids of the events it stored, in the order it stored them (its
   * `seq` order): a machine had seen exactly the events before one of its own.
   */
  readonly storedOrder: ReadonlyMap<MachineId, readonly EventId[]>;
  /** Ids of events a current store keeps but must not apply (unknown type, newer `v`). */
  readonly skipped: ReadonlySet<EventId>;
  /** Each machine's digest after a final all-pairs sync. */
  readonly machineDigests: readonly string[];
}

interface SimMachine {
  readonly id: MachineId;
  readonly db: Db;
  readonly clock: HybridClock;
  offset: number;
}

interface RawPeer {
  readonly id: MachineId;
  readonly clock: HybridClock;
  /** The one machine it talks to: an origin's events must reach each store in HLC order. */
  readonly target: number;
}

const idsWhere = (db: Db, sql: string): string[] => (db.prepare(sql).pluck().all() as string[]);

/** The newest HLC among the given fields' registers in one row: the `base` an edit made on this machine carries. */
function baseOf(db: Db, table: string, id: string, fields: readonly string[]): Hlc | null {
  const row = db.prepare(`SELECT ${fields.map((f) => `${f}_hlc`).join(', ')} FROM ${table} WHERE id = ?`).get(id) as Record<string, string | null> | undefined;
  if (row === undefined) return null;
  let best: string | null = null;
  for (const h of Object.values(row)) if (h !== null && (best === null || h > best)) best = h;
  return best as Hlc | null;
}

class Mesh {
  private t = SIM_T0;
  private rawSeq = 0;
  private updateSeq = 0;
  readonly machines: SimMachine[] = [];
  private readonly rawPeers: RawPeer[];
  readonly raws = new Map<EventId, EventEnvelope>();
  readonly skipped = new Set<EventId>();

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const id = machineIdOf(i);
      // The clock reads the machine's offset when ticked, so 'step' commands move it.
      const m: SimMachine = { id, db: openDb(':memory:'), clock: new HybridClock({ machine: id, now: () => this.t + m.offset }), offset: 0 };
      this.machines.push(m);
    }
    this.rawPeers = [0, 1].map((i) => ({
      id: fixedUuid(KIND.rawPeer, i) as MachineId,
      clock: new HybridClock({ machine: fixedUuid(KIND.rawPeer, i) as MachineId, now: () => this.t }),
      target: i % count,
    }));
  }

  run(c: Command): void {
    const n = this.machines.length;
    switch (c.kind) {
      case 'wait':
        this.t += c.ms;
        return;
      case 'step': {
        const m = this.machines[c.machine % n]!;
        m.offset = Math.max(-MAX_OFFSET_MS, Math.min(MAX_OFFSET_MS, m.offset + c.ms));
        return;
      }
      case 'sync':
        this.sync(c.from % n, c.to % n, c.limit);
        return;
      case 'act': {
        const m = this.machines[c.machine % n]!;
        const draft = this.draft(m, c.action);
        if (draft !== null) append(m.db, m.clock, draft);
        return;
      }
      case 'raw':
        this.raw(c.action);
        return;
    }
  }

  /** Returns whether anything new arrived. */
  sync(from: number, to: number, limit: number | null): boolean {
    if (from === to) return false;
    const a = this.machines[from]!;
    const b = this.machines[to]!;
    const events = eventsAfter(a.db, watermarks(b.db), limit ?? 1_000_000);
    if (events.length === 0) return false;
    // Over the wire: JSON, so nothing is shared between the two stores.
    return ingest(b.db, b.clock, JSON.parse(JSON.stringify(events)) as unknown[]).events.length > 0;
  }

  /** All-pairs sync until nothing moves: every machine then holds every event. */
  converge(): void {
    for (let round = 0; round < 5; round++) {
      let moved = false;
      for (let i = 0; i < this.machines.length; i++) {
        for (let j = 0; j < this.machines.length; j++) if (this.sync(i, j, null)) moved = true;
      }
      if (!moved) return;
    }
    throw new Error('mesh did not converge in 5 rounds of all-pairs sync');
  }

  private wall(m: SimMachine): number {
    return this.t + m.offset;
  }

  private draft(m: SimMachine, a: Action): EventDraft | null {
    const db = m.db;
    const created = (table: string) => idsWhere(db, `SELECT id FROM ${table} WHERE created = 1 ORDER BY id`);
    const knownOr = <T extends string>(table: string, pool: readonly T[], p: number, known: boolean): T => {
      const list = created(table) as T[];
      return known && list.length > 0 ? at(list, p) : at(pool, p);
    };
    const fresh = <T extends string>(table: string, pool: readonly T[], p: number): T | null => {
      const have = new Set(created(table));
      const free = pool.filter((id) => !have.has(id));
      return free.length === 0 ? null : at(free, p);
    };
    const session = (p: number) => at(SESSIONS, p);
    switch (a.kind) {
      case 'project.create': {
        const id = fresh('projects', PROJECTS, a.pick);
        return id === null ? null : { type: 'project.created', payload: { project_id: id, name: a.name, path: a.path, description: a.description, weight: a.weight } };
      }
      case 'project.update': {
        const id = knownOr('projects', PROJECTS, a.pick, a.known);
        return { type: 'project.updated', payload: { project_id: id, base: baseOf(db, 'projects', id, Object.keys(a.fields)), fields: a.fields } };
      }
      case 'project.archive':
        return { type: 'project.archived', payload: { project_id: knownOr('projects', PROJECTS, a.pick, a.known) } };
      case 'task.create': {
        const id = fresh('tasks', TASKS, a.pick);
        if (id === null) return null;
        const deps = [...new Set(a.deps.map((d) => at(TASKS, d)))].filter((d) => d !== id);
        return { type: 'task.created', payload: { task_id: id, project_id: knownOr('projects', PROJECTS, a.project, true), title: a.title, description: a.description, priority: a.priority, depends_on: deps } };
      }
      case 'task.update': {
        const id = knownOr('tasks', TASKS, a.pick, a.known);
        const { project, ...rest } = a.fields;
        const fields = project === undefined ? rest : { ...rest, project_id: knownOr('projects', PROJECTS, project, true) };
        return { type: 'task.updated', payload: { task_id: id, base: baseOf(db, 'tasks', id, Object.keys(fields)), fields } };
      }
      case 'task.status': {
        const id = knownOr('tasks', TASKS, a.pick, a.known);
        const base = baseOf(db, 'tasks', id, ['status']);
        return { type: 'task.status_changed', payload: a.note === null ? { task_id: id, base, status: a.status } : { task_id: id, base, status: a.status, note: a.note } };
      }
      case 'task.dependency': {
        const id = knownOr('tasks', TASKS, a.pick, true);
        const on = at(TASKS, a.on);
        if (on === id) return null;
        return { type: a.add ? 'task.dependency_added' : 'task.dependency_removed', payload: { task_id: id, depends_on: on } };
      }
      case 'task.archive':
        return { type: 'task.archived', payload: { task_id: knownOr('tasks', TASKS, a.pick, a.known) } };
      case 'task.claim': {
        // As the service does: base is the newest claim this machine holds for the task, previous the standing one's session.
        const id = knownOr('tasks', TASKS, a.pick, true);
        const held = db.prepare('SELECT holder_host AS host, holder_session AS session FROM tasks WHERE id = ? AND holder_hlc IS NOT NULL').get(id) as { host: string; session: string } | undefined;
        const base = db.prepare("SELECT max(hlc) FROM field_writes WHERE entity = 'task' AND entity_id = ? AND field = 'holder'").pluck().get(id) as Hlc | null;
        return { type: 'task.claimed', payload: { task_id: id, ...session(a.session), base, previous: held !== undefined && a.takeOver ? { host: held.host, session: held.session } : null } };
      }
      case 'claim.notice': {
        const lost = db.prepare('SELECT claim_event, task_id, host, session FROM lost_claims WHERE lost = 1 ORDER BY claim_event').all() as { claim_event: EventId; task_id: TaskId; host: string; session: string }[];
        if (lost.length === 0) return null;
        const l = at(lost, a.pick);
        return { type: 'task.claim_notice', payload: { claim_event: l.claim_event, task_id: l.task_id, host: l.host, session: l.session, status: a.delivered ? 'delivered' : 'failed', detail: a.delivered ? null : 'session not found' } };
      }
      case 'assignment.create': {
        const id = fresh('assignments', ASSIGNMENTS, a.pick);
        if (id === null) return null;
        return { type: 'assignment.created', payload: { assignment_id: id, task_id: knownOr('tasks', TASKS, a.task, true), ...session(a.session) } };
      }
      case 'assignment.outcome': {
        const id = knownOr('assignments', ASSIGNMENTS, a.pick, true);
        if (a.outcome === 'removed') return { type: 'assignment.removed', payload: { assignment_id: id } };
        if (a.outcome === 'delivered') return { type: 'assignment.delivered', payload: { assignment_id: id } };
        return { type: 'assignment.failed', payload: { assignment_id: id, error: 'session not found' } };
      }
      case 'session.seen':
        return { type: 'session.seen', payload: { ...session(a.session), cwd: a.cwd, state: a.state, last_activity: new Date(this.wall(m)).toISOString() } };
      case 'session.changed': {
        const { touch, ...rest } = a.fields;
        const fields = touch === true ? { ...rest, last_activity: new Date(this.wall(m)).toISOString() } : rest;
        return { type: 'session.changed', payload: { ...session(a.session), fields } };
      }
      case 'session.gone':
        return { type: 'session.gone', payload: session(a.session) };
      case 'group.create':
        return { type: 'group.created', payload: { group: at(GROUPS, a.group) } };
      case 'group.member':
        return { type: a.add ? 'group.member_added' : 'group.member_removed', payload: { group: at(GROUPS, a.group), pattern: at(PATTERNS, a.pattern) } };
      case 'group.archive':
        return { type: 'group.archived', payload: { group: at(GROUPS, a.group) } };
      case 'note': {
        const s = a.session === null ? null : session(a.session);
        return { type: 'update.posted', payload: { update_id: this.newUpdateId(), text: a.text, task_id: a.task === null ? null : knownOr('tasks', TASKS, a.task, true), host: s?.host ?? null, session: s?.session ?? null } };
      }
      case 'broadcast':
        return { type: 'broadcast.sent', payload: { update_id: this.newUpdateId(), group: at(GROUPS, a.group), text: a.text, ttl_s: a.ttl } };
      case 'receipt': {
        const broadcasts = idsWhere(db, "SELECT id FROM updates WHERE kind = 'broadcast' ORDER BY id") as UpdateId[];
        if (broadcasts.length === 0) return null;
        return { type: 'broadcast.receipt', payload: { update_id: at(broadcasts, a.pick), ...session(a.session), status: a.status, detail: a.detail } };
      }
      case 'machine.named':
        return { type: 'machine.named', payload: { name: a.name } };
    }
  }

  private newUpdateId(): UpdateId {
    return fixedUuid(KIND.update, this.updateSeq++) as UpdateId;
  }

  private raw(a: RawAction): void {
    const newer = a.kind === 'unknown-type' || a.kind === 'newer-version';
    const peer = this.rawPeers[newer ? 0 : 1]!;
    const shape = ((): { type: string; v: number; payload: Record<string, unknown> } => {
      switch (a.kind) {
        case 'unknown-type':
          return { type: 'task.labelled', v: 1, payload: { task_id: at(TASKS, a.task), label: a.label } };
        case 'newer-version':
          return { type: 'task.updated', v: 2, payload: { task_id: at(TASKS, a.task), base: null, fields: { title: a.title }, reason: 'v2 adds reasons' } };
        case 'v1-task-created':
          return { type: 'task.created', v: 1, payload: { task_id: at(TASKS, a.task), project_id: at(PROJECTS, a.project), title: a.title, priority: a.priority } };
        case 'padded-project-name':
          return { type: 'project.updated', v: 1, payload: { project_id: at(PROJECTS, a.project), base: null, fields: { name: `  ${a.name} ` } } };
        case 'offset-timestamp': {
          // The same instant written in a non-UTC zone and without milliseconds.
          const sign = a.hours < 0 ? '-' : '+';
          const local = new Date(this.t + a.hours * 3_600_000).toISOString().slice(0, 19);
          const s = at(SESSIONS, a.session);
          return { type: 'session.seen', v: 1, payload: { ...s, cwd: '/srv/api', state: a.state, last_activity: `${local}${sign}${String(Math.abs(a.hours)).padStart(2, '0')}:00` } };
        }
      }
    })();
    const e: EventEnvelope = { id: fixedUuid(KIND.rawEvent, this.rawSeq++) as EventId, hlc: peer.clock.tick(), origin: peer.id, ...shape };
    this.raws.set(e.id, e);
    if (newer) this.skipped.add(e.id);
    const target = this.machines[peer.target]!;
    ingest(target.db, target.clock, [JSON.parse(JSON.stringify(e)) as unknown]);
  }

  history(): History {
    const byId = new Map<EventId, EventEnvelope>();
    const storedOrder = new Map<MachineId, EventId[]>();
    for (const m of this.machines) {
      const rows = m.db.prepare('SELECT id, hlc, origin, type, v, payload FROM events ORDER BY seq').all() as { id: EventId; hlc: Hlc; origin: MachineId; type: string; v: number; payload: string }[];
      storedOrder.set(m.id, rows.map((r) => r.id));
      for (const r of rows) if (!byId.has(r.id)) byId.set(r.id, { ...r, payload: JSON.parse(r.payload) as Record<string, unknown> });
    }
    for (const [id, e] of this.raws) byId.set(id, e);
    const events = [...byId.values()].sort((x, y) => compareHlc(x.hlc, y.hlc));
    return { events, machines: this.machines.map((m) => m.id), storedOrder, skipped: new Set(this.skipped), machineDigests: this.machines.map((m) => digest(m.db)) };
  }

  close(): void {
    for (const m of this.machines) m.db.close();
  }
}

/** Plays `commands` on a fresh mesh of `machineCount` machines, syncs everyone, and returns what they wrote. */
export function simulate(machineCount: number, commands: readonly Command[]): History {
  const mesh = new Mesh(machineCount);
  try {
    for (const c of commands) mesh.run(c);
    mesh.converge();
    return mesh.history();
  } finally {
    mesh.close();
  }
}

export interface HistoryOptions {
  readonly minMachines?: number;
  readonly maxMachines?: number;
  readonly minCommands?: number;
  readonly maxCommands?: number;
  /** Include the raw peers' events (unknown types, newer/older `v`, unnormalised payloads). Default true. */
  readonly raw?: boolean;
}

/** Histories of a simulated mesh of 2–4 machines. */
export function historyArb(opts: HistoryOptions = {}): fc.Arbitrary<History> {
  return fc.record({
    machines: fc.integer({ min: opts.minMachines ?? 2, max: opts.maxMachines ?? 4 }),
    commands: fc.array(commandArb({ raw: opts.raw ?? true }), { minLength: opts.minCommands ?? 10, maxLength: opts.maxCommands ?? 80, size: 'max' }),
  }).map(({ machines, commands }) => simulate(machines, commands));
}

// ---------------------------------------------------------------------------
// Delivery: the same events in any order, duplicated, in random batches

export interface Delivery {
  /** Batches as they arrive over the wire (fresh JSON copies). */
  readonly batches: readonly (readonly unknown[])[];
  /** Events delivered, duplicates included. */
  readonly copies: number;
}

/** A random delivery of `events`: a permutation, with up to n/3 extra copies spliced in, cut into batches of 1..maxBatch. */
export function deliveryArb(events: readonly EventEnvelope[], opts: { maxBatch?: number } = {}): fc.Arbitrary<Delivery> {
  const n = events.length;
  if (n === 0) return fc.constant({ batches: [], copies: 0 });
  return fc.tuple(
    fc.shuffledSubarray([...events.keys()], { minLength: n, maxLength: n }),
    fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n)), { maxLength: Math.ceil(n / 3) }),
    fc.array(fc.integer({ min: 1, max: opts.maxBatch ?? 25 }), { minLength: 1, maxLength: 8 }),
  ).map(([order, dups, sizes]) => {
    const seq = order.map((i) => events[i]!);
    for (const [which, pos] of dups) seq.splice(Math.min(pos, seq.length), 0, events[which]!);
    const batches: unknown[][] = [];
    for (let i = 0, k = 0; i < seq.length; k++) {
      const size = sizes[k % sizes.length]!;
      batches.push(JSON.parse(JSON.stringify(seq.slice(i, i + size))) as unknown[]);
      i += size;
    }
    return { batches, copies: seq.length };
  });
}
