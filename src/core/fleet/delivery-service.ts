/**
 * Delivery: the owning host's daemon types assignments and broadcasts into its own
 * sessions through `rclaude send`, and records each outcome as an event
 * (assignment.delivered / assignment.failed, broadcast.receipt).
 *
 * Exactly-once per session, what must stay true:
 * - the receipt event is the record: an item with an outcome is never sent again;
 * - an intent row (delivery_intents, local) is committed before the send starts and
 *   deleted after the receipt commits. An intent found at start-up is a send that a
 *   crash interrupted: it may or may not have arrived, so it is recorded as failed
 *   and NOT sent again (at-most-once in that window, exactly-once otherwise). A
 *   power loss cannot turn this into a duplicate either: the tmux sessions rclaude
 *   types into live on this machine and die with it;
 * - a send is never retried (after a timeout the keys may have arrived);
 * - sends to one session run one at a time, in the order the work was found.
 */
import { commitLocal, type StoreContext } from '../context.js';
import { ClareError } from '../errors.js';
import type { EventDraft } from '../events/catalog.js';
import { sessionKey } from '../domain.js';
import { assignmentIdSchema, eventIdSchema, taskIdSchema, updateIdSchema } from '../ids.js';
import type { Logger } from '../log.js';
import { claimRegister, getProject, getTask } from '../queries.js';
import { claimOnDelivery } from '../service/claims.js';
import type { Service } from '../service-lifecycle.js';
import { assignmentMessage, broadcastMessage, claimLostMessage } from './delivery-message.js';
import {
  clearIntent, hasOutcome, itemKey, listIntents, lostClaimTask, pendingAssignments, pendingBroadcastCopies, pendingClaimNotices, stillPending, writeIntent,
  type DeliveryItem, type Intent,
} from './delivery-work.js';
import { sendText, type RclaudeOptions } from './rclaude.js';

/** What a recovered intent's receipt says. */
export const INTERRUPTED = 'interrupted during delivery; not resent to avoid a duplicate (it may or may not have arrived)';

/** Event types after which there may be new work to deliver. */
const WORK_EVENTS = new Set(['assignment.created', 'broadcast.sent', 'session.seen', 'group.created', 'group.member_added', 'task.created', 'task.claimed']);

const ERROR_MAX = 2000;

export interface DeliveryOptions {
  readonly ctx: StoreContext;
  /** This host's name: it delivers what targets `host:*`. */
  readonly host: string;
  readonly rclaude: RclaudeOptions;
  readonly log: Logger;
  /** Broadcast audience grace (ms): see `pendingBroadcastCopies`. */
  readonly broadcastGraceMs: number;
  /** Periodic rescan for work (ms), besides start-up and every commit. */
  readonly rescanMs: number;
  /** Resolves when the first scan may run (after the first session pull). */
  readonly ready?: Promise<void>;
  readonly now?: () => number;
}

export class DeliveryService implements Service {
  readonly name = 'delivery';
  private readonly o: DeliveryOptions;
  private readonly now: () => number;
  /** Items queued or sending, by itemKey: never queued twice. */
  private readonly inflight = new Set<string>();
  /** Tail of each session's queue, by host:session. */
  private readonly queues = new Map<string, Promise<void>>();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scanQueued = false;
  private started = false;
  private stopped = false;

  constructor(o: DeliveryOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  /**
   * Settles intents a crash left behind (synchronously, before anything can send),
   * then subscribes to commits and scans once the first pull has run.
   */
  run(): Promise<void> {
    this.stopped = false;
    this.recover();
    this.unsubscribe = this.o.ctx.feed.subscribe((n) => {
      if (n.events.some((e) => WORK_EVENTS.has(e.type))) this.scheduleScan();
    });
    const begin = (): void => {
      if (this.stopped) return;
      this.started = true;
      this.scheduleScan();
      this.timer = setInterval(() => this.scheduleScan(), this.o.rescanMs);
    };
    void (this.o.ready ?? Promise.resolve()).then(begin, begin);
    return Promise.resolve();
  }

  /** Records every leftover intent as failed (unless its outcome landed) and clears it. */
  recover(): number {
    const { ctx, log } = this.o;
    const left = listIntents(ctx.db);
    let n = 0;
    for (const i of left) {
      if (!hasOutcome(ctx.db, i)) {
        commitLocal(ctx, [failureDraft(ctx, i, INTERRUPTED)]);
        log.warn('delivery was interrupted by a restart; recorded as failed, not resent', { kind: i.kind, ref: i.ref, target: `${i.host}:${i.session}`, started_at: i.started_at });
        n++;
      }
      clearIntent(ctx.db, i);
    }
    return n;
  }

  /** Coalesces triggers: one scan per turn of the event loop at most. */
  private scheduleScan(): void {
    if (this.scanQueued || this.stopped || !this.started) return;
    this.scanQueued = true;
    setImmediate(() => {
      this.scanQueued = false;
      if (this.stopped) return;
      try {
        this.scan();
      } catch (e) {
        this.o.log.error('delivery scan failed', { err: e });
      }
    });
  }

  /** Finds undelivered work for this host and queues each item on its session's queue. */
  scan(): void {
    const { ctx, host, broadcastGraceMs } = this.o;
    const items = [...pendingAssignments(ctx.db, host), ...pendingClaimNotices(ctx.db, host), ...pendingBroadcastCopies(ctx.db, host, broadcastGraceMs)];
    // An intent without an outcome outside `inflight` is a send whose receipt could not
    // be written (e.g. a database error): it may have arrived, so it is left for `recover`.
    const started = new Set(listIntents(ctx.db).map(itemKey));
    for (const item of items) {
      const key = itemKey(item);
      if (this.inflight.has(key) || started.has(key)) continue;
      this.inflight.add(key);
      this.enqueue(item, key);
    }
  }

  private enqueue(item: DeliveryItem, key: string): void {
    const q = `${item.host}:${item.session}`;
    const prev = this.queues.get(q) ?? Promise.resolve();
    const next = prev
      .then(() => this.deliver(item))
      .catch((e: unknown) => this.o.log.error('delivery failed unexpectedly', { key, err: e }))
      .finally(() => {
        this.inflight.delete(key);
        if (this.queues.get(q) === next) this.queues.delete(q);
      });
    this.queues.set(q, next);
  }

  /** Sends one item (unless it is settled or expired meanwhile) and records the outcome. */
  private async deliver(item: DeliveryItem): Promise<void> {
    const { ctx, log } = this.o;
    if (this.stopped || !stillPending(ctx.db, item)) return;
    const target = `${item.host}:${item.session}`;
    if (item.kind === 'broadcast' && item.expiresMs !== null && this.now() > item.expiresMs) {
      const detail = `expired at ${new Date(item.expiresMs).toISOString()} before this host could deliver it; not typed`;
      commitLocal(ctx, [{ type: 'broadcast.receipt', payload: { update_id: updateIdSchema.parse(item.ref), host: item.host, session: item.session, status: 'expired', detail } }]);
      log.info('broadcast expired before delivery; not sent', { update: item.ref, target });
      return;
    }
    const text = this.compose(item);
    if (text === null) return; // the task is not known here yet; a later scan retries
    writeIntent(ctx.db, item, new Date(this.now()));
    let error: string | null = null;
    try {
      await sendText(this.o.rclaude, item.host, item.session, text, {
        onSpawn: (pid) => log.debug('sending', { kind: item.kind, ref: item.ref, target, pid }),
      });
    } catch (e) {
      error = (e instanceof ClareError ? e.message : String(e)).slice(0, ERROR_MAX);
    }
    const drafts: EventDraft[] = error === null ? successDrafts(ctx, item) : [failureDraft(ctx, item, error)];
    commitLocal(ctx, drafts);
    clearIntent(ctx.db, item);
    if (error === null) log.info('delivered', { kind: item.kind, ref: item.ref, target });
    else log.warn('delivery failed', { kind: item.kind, ref: item.ref, target, err: error });
  }

  private compose(item: DeliveryItem): string | null {
    if (item.kind === 'broadcast') return broadcastMessage(item.group, item.text);
    const task = getTask(this.o.ctx.db, item.taskId);
    if (task === null) return null;
    if (item.kind === 'claim') {
      const w = claimRegister(this.o.ctx.db, task.id);
      return claimLostMessage(task, w === null ? null : sessionKey(w.host, w.session));
    }
    return assignmentMessage(task, getProject(this.o.ctx.db, task.project_id));
  }

  /** Stops taking work and waits for the sends in flight to finish and be recorded. */
  async drain(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    while (this.queues.size > 0) await Promise.all([...this.queues.values()]);
  }

  async stop(): Promise<void> {
    await this.drain();
  }
}

/** The receipt of a send that worked; an assignment typed into its session also claims the task for it. */
function successDrafts(ctx: StoreContext, i: DeliveryItem): EventDraft[] {
  switch (i.kind) {
    case 'assignment':
      return [{ type: 'assignment.delivered', payload: { assignment_id: assignmentIdSchema.parse(i.ref) } }, ...claimOnDelivery(ctx.db, i.taskId, i)];
    case 'claim':
      return [claimNotice(ctx, i, 'delivered', null)];
    case 'broadcast':
      return [{ type: 'broadcast.receipt', payload: { update_id: updateIdSchema.parse(i.ref), host: i.host, session: i.session, status: 'delivered', detail: null } }];
  }
}

function claimNotice(ctx: StoreContext, i: Pick<Intent, 'ref' | 'host' | 'session'>, status: 'delivered' | 'failed', detail: string | null): EventDraft {
  // The lost_claims row is what made the notice due, so it is there.
  const taskId = taskIdSchema.parse(lostClaimTask(ctx.db, i.ref));
  return { type: 'task.claim_notice', payload: { claim_event: eventIdSchema.parse(i.ref), task_id: taskId, host: i.host, session: i.session, status, detail } };
}

function failureDraft(ctx: StoreContext, i: Pick<Intent, 'kind' | 'ref' | 'host' | 'session'>, error: string): EventDraft {
  switch (i.kind) {
    case 'assignment':
      return { type: 'assignment.failed', payload: { assignment_id: assignmentIdSchema.parse(i.ref), error } };
    case 'claim':
      return claimNotice(ctx, i, 'failed', error);
    case 'broadcast':
      return { type: 'broadcast.receipt', payload: { update_id: updateIdSchema.parse(i.ref), host: i.host, session: i.session, status: 'failed', detail: error } };
  }
}
