/**
 * The writers: one per daemon, calling its HTTP API at a steady rate with a seeded
 * mix of operations — task creation, edits of the same fields of a few shared
 * ("hot") tasks from every machine, status changes, assignments, broadcasts to
 * groups of stand-in sessions, progress notes, dependencies.
 *
 * Every write carries a unique marker (or, for an assignment or a dependency, the
 * ids the event will hold), and every acknowledged (2xx) write goes into the
 * ledger with what its event must contain. The final check looks each one up in
 * every daemon's event log.
 */
import type { TortureNode } from './node.js';

/** What an event must contain for an acknowledged write to count as present. */
export interface Ack {
  readonly op: string;
  readonly node: string;
  /** Wall-clock ms when the 2xx answer arrived. */
  readonly at: number;
  /** Strings the event's payload text must all contain. */
  readonly contains: readonly string[];
  /** The event type, when the strings alone are ambiguous. */
  readonly type?: string;
  /** Broadcasts: the group and marker, for the delivery check. */
  readonly group?: string;
  readonly marker?: string;
}

export interface WriteStats {
  /** Answers by op and HTTP status ("0" when no answer came). */
  readonly answers: Record<string, Record<string, number>>;
  /** 5xx answers with their error codes. */
  readonly serverErrors: { node: string; op: string; status: number; code: string; at: number }[];
  /** Ticks skipped because too many requests of that writer were in flight. */
  skipped: number;
}

export interface SharedWorld {
  readonly projects: readonly string[];
  /** Tasks created before the run: every daemon knows them; all edit them. */
  readonly hotTasks: readonly string[];
  /** host:session of every stand-in session. */
  readonly sessions: readonly string[];
  readonly groups: readonly string[];
}

const STATUSES = ['open', 'in_progress', 'blocked', 'done'] as const;
const MAX_IN_FLIGHT = 4;

export class Writer {
  private timer: NodeJS.Timeout | null = null;
  private inFlight = new Set<Promise<void>>();
  private n = 0;
  private readonly own: string[] = [];
  private stopped = true;
  /** Once closed (the run's end), `start()` does nothing: a node that comes back late writes no more. */
  private closed = false;

  constructor(
    private readonly node: TortureNode,
    private readonly rnd: () => number,
    private readonly world: SharedWorld,
    private readonly ledger: Ack[],
    private readonly stats: WriteStats,
    private readonly opsPerSecond: number,
    private readonly markerPrefix: string,
  ) {}

  start(): void {
    if (!this.stopped || this.closed) return;
    this.stopped = false;
    this.tick();
  }

  /** Stops issuing writes for good and waits for those in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
  }

  private tick(): void {
    if (this.stopped) return;
    const period = 1000 / this.opsPerSecond;
    this.timer = setTimeout(() => this.tick(), period * (0.5 + this.rnd()));
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      this.stats.skipped += 1;
      return;
    }
    const p = this.one().catch(() => undefined).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private marker(): string {
    this.n += 1;
    return `${this.markerPrefix}-${this.node.name}-${String(this.n).padStart(5, '0')}`;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  private someTask(): string {
    return this.own.length > 0 && this.rnd() < 0.6 ? this.pick(this.own) : this.pick(this.world.hotTasks);
  }

  private async one(): Promise<void> {
    const r = this.rnd() * 100;
    const m = this.marker();
    if (r < 20) {
      const res = await this.call<{ id: string }>('task.create', 'POST', '/tasks', { project: this.pick(this.world.projects), title: m, priority: Math.floor(this.rnd() * 5) });
      if (res !== null) {
        this.own.push(res.id);
        if (this.own.length > 40) this.own.shift();
        this.ack('task.create', [m]);
      }
    } else if (r < 45) {
      const body = this.rnd() < 0.5 ? { title: m } : { description: m, priority: Math.floor(this.rnd() * 5) };
      if (await this.call('task.edit', 'PATCH', `/tasks/${this.pick(this.world.hotTasks)}`, body)) this.ack('task.edit', [m]);
    } else if (r < 55) {
      const body = { status: this.pick(STATUSES), note: m, description: m };
      if (await this.call('task.status', 'PATCH', `/tasks/${this.someTask()}`, body)) this.ack('task.status', [m]);
    } else if (r < 61) {
      const task = this.someTask();
      const res = await this.call<{ id: string }>('assign', 'POST', '/assignments', { task, session: this.pick(this.world.sessions) });
      if (res !== null) this.ack('assign', [res.id], 'assignment.created');
    } else if (r < 65) {
      const group = this.pick(this.world.groups);
      if (await this.call('broadcast', 'POST', '/broadcast', { group, message: m })) {
        this.ledger.push({ op: 'broadcast', node: this.node.name, at: Date.now(), contains: [m], group, marker: m });
      }
    } else if (r < 68 && this.own.length >= 2) {
      const a = this.pick(this.own);
      const b = this.pick(this.own);
      if (a !== b && (await this.call('dependency', 'POST', `/tasks/${a}/dependencies`, { depends_on: b }))) this.ack('dependency', [a, b], 'task.dependency_added');
    } else {
      const body = this.rnd() < 0.5 ? { text: m, task: this.someTask() } : { text: m, session: this.pick(this.world.sessions) };
      if (await this.call('update', 'POST', '/updates', body)) this.ack('update', [m]);
    }
  }

  private ack(op: string, contains: readonly string[], type?: string): void {
    this.ledger.push({ op, node: this.node.name, at: Date.now(), contains, ...(type === undefined ? {} : { type }) });
  }

  /** One request; the parsed body on 2xx (an empty object if none), else null. */
  private async call<T = unknown>(op: string, method: string, path: string, body: unknown): Promise<T | null> {
    const res = await this.node.api<T & { error?: { code: string } }>(method, path, body, 8000);
    const byStatus = (this.stats.answers[op] ??= {});
    byStatus[String(res.status)] = (byStatus[String(res.status)] ?? 0) + 1;
    if (res.status >= 500) {
      this.stats.serverErrors.push({ node: this.node.name, op, status: res.status, code: res.body?.error?.code ?? '?', at: Date.now() });
    }
    if (res.status >= 200 && res.status < 300) return (res.body ?? {}) as T;
    return null;
  }
}
