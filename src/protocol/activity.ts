/**
 * The activity stream: one item per event of a task's lifecycle, a note or a
 * broadcast, read from the event log (GET /api/v1/activity, GET /api/v1/tasks/:id/history).
 * Kinds are plain values (no zod) so the dashboard imports them without the schemas
 * of activity-model.ts.
 */

/** What an item records, one per event type (core/task-history.ts maps them). */
export const ACTIVITY_KINDS = ['created', 'status', 'edited', 'archived', 'claimed', 'claim_lost', 'assigned', 'note', 'broadcast'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/** One item of the stream (the schema is activityItemModel, protocol/activity-model.ts). */
export interface ActivityEntry {
  /** The event's uuid. */
  readonly id: string;
  readonly hlc: string;
  /** ISO time of the event (its HLC's wall clock). */
  readonly at: string;
  /** Machine that wrote it. */
  readonly origin: string;
  readonly kind: ActivityKind;
  readonly task_id: string | null;
  /** The task's current title (null: no task, or not held here). */
  readonly task_title: string | null;
  /** The session it names: claimer, assignee, author of a note, loser of a claim. */
  readonly host: string | null;
  readonly session: string | null;
  /** status: the new status. */
  readonly status: 'open' | 'in_progress' | 'blocked' | 'done' | null;
  /** note and broadcast: the text; status: its note; claim_lost: why the notice failed. */
  readonly text: string | null;
  /** broadcast: the group. */
  readonly group: string | null;
  /** claimed: the session it took the task from (host:session), null when free. */
  readonly previous: string | null;
  /** edited: the fields changed. */
  readonly fields: string[] | null;
  /** The assignment (assigned) or update (note, broadcast) the event made: its live row has delivery and receipts. */
  readonly ref: string | null;
  /** claim_lost: whether the losing session was told. */
  readonly notice: 'delivered' | 'failed' | null;
}
