/**
 * One payload schema per event type, discriminated by `type`, with the current
 * schema version `v` of each and upcasters from older versions.
 *
 * Versioning rules (docs/protocol.md): an event of a type we do not know, or of a
 * `v` newer than ours, is stored and relayed untouched but skipped by projections;
 * an event of an older `v` is upcast to the current shape when read.
 */
import { z } from 'zod';
import {
  cwdSchema, descriptionSchema, groupNameSchema, hlcSchema, hostNameSchema, isoInstantSchema, memberPatternSchema,
  noteSchema, pathSchema, prioritySchema, projectNameSchema, receiptStatusSchema, sessionNameSchema, sessionStateSchema,
  taskStatusSchema, textSchema, titleSchema, weightSchema,
} from '../domain.js';
import { assignmentIdSchema, eventIdSchema, projectIdSchema, taskIdSchema, updateIdSchema } from '../ids.js';
import { fastPayload } from './payload-fast.js';

/** The HLC of the newest value the writer saw for the fields it changes (null: none); used to detect concurrent edits. */
const baseSchema = hlcSchema.nullable();
const nonEmpty = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape).refine((o) => Object.values(o).some((v) => v !== undefined), 'at least one field must change');

const sessionRef = { host: hostNameSchema, session: sessionNameSchema };

export const projectCreated = z.strictObject({
  project_id: projectIdSchema, name: projectNameSchema, path: pathSchema.nullable(),
  description: descriptionSchema, weight: weightSchema,
});
export const projectUpdated = z.strictObject({
  project_id: projectIdSchema, base: baseSchema,
  fields: nonEmpty({ name: projectNameSchema.optional(), path: pathSchema.nullable().optional(), description: descriptionSchema.optional(), weight: weightSchema.optional() }),
});
export const projectArchived = z.strictObject({ project_id: projectIdSchema });

export const taskCreated = z.strictObject({
  task_id: taskIdSchema, project_id: projectIdSchema, title: titleSchema, description: descriptionSchema,
  priority: prioritySchema, depends_on: z.array(taskIdSchema).max(100),
});
/** v1 of task.created (the first version's shape): no description, no dependencies. */
export const taskCreatedV1 = z.strictObject({
  task_id: taskIdSchema, project_id: projectIdSchema, title: titleSchema, priority: prioritySchema,
});
export const taskUpdated = z.strictObject({
  task_id: taskIdSchema, base: baseSchema,
  fields: nonEmpty({ title: titleSchema.optional(), description: descriptionSchema.optional(), priority: prioritySchema.optional(), project_id: projectIdSchema.optional() }),
});
export const taskStatusChanged = z.strictObject({ task_id: taskIdSchema, base: baseSchema, status: taskStatusSchema, note: noteSchema.optional() });
export const taskDependency = z.strictObject({ task_id: taskIdSchema, depends_on: taskIdSchema });
export const taskArchived = z.strictObject({ task_id: taskIdSchema });
/**
 * A session takes a task (it becomes the task's holder). `base` is the HLC of the
 * newest claim of the task the writer held (null: none); concurrent claims merge by the
 * rule in docs/protocol.md ("Claims"): the newer base wins, and between equal bases
 * the earlier claim. `previous` is the holder it took the task from (`--force`, or an
 * assignment delivered to another session), null when the task was free.
 */
export const taskClaimed = z.strictObject({
  task_id: taskIdSchema, ...sessionRef, base: baseSchema,
  previous: z.strictObject(sessionRef).nullable(),
});
/** The owning host typed the "your claim lost" message into the losing session (or failed to). */
export const taskClaimNotice = z.strictObject({
  claim_event: eventIdSchema, task_id: taskIdSchema, ...sessionRef,
  status: z.enum(['delivered', 'failed']), detail: z.string().max(2000).nullable(),
});

export const assignmentCreated = z.strictObject({ assignment_id: assignmentIdSchema, task_id: taskIdSchema, ...sessionRef });
export const assignmentRemoved = z.strictObject({ assignment_id: assignmentIdSchema });
export const assignmentDelivered = z.strictObject({ assignment_id: assignmentIdSchema });
export const assignmentFailed = z.strictObject({ assignment_id: assignmentIdSchema, error: z.string().max(2000) });

export const sessionSeen = z.strictObject({ ...sessionRef, cwd: cwdSchema, state: sessionStateSchema, last_activity: isoInstantSchema });
export const sessionChanged = z.strictObject({
  ...sessionRef,
  fields: nonEmpty({ cwd: cwdSchema.optional(), state: sessionStateSchema.optional(), last_activity: isoInstantSchema.optional() }),
});
export const sessionGone = z.strictObject(sessionRef);

export const groupCreated = z.strictObject({ group: groupNameSchema });
export const groupMember = z.strictObject({ group: groupNameSchema, pattern: memberPatternSchema });
export const groupArchived = z.strictObject({ group: groupNameSchema });

export const updatePosted = z.strictObject({
  update_id: updateIdSchema, text: textSchema, task_id: taskIdSchema.nullable(),
  host: hostNameSchema.nullable(), session: sessionNameSchema.nullable(),
});
export const broadcastSent = z.strictObject({
  update_id: updateIdSchema, group: groupNameSchema, text: textSchema,
  /** Seconds after the event's HLC time when undelivered copies expire; null = never. */
  ttl_s: z.number().int().min(1).max(90 * 86_400).nullable(),
});
export const broadcastReceipt = z.strictObject({ update_id: updateIdSchema, ...sessionRef, status: receiptStatusSchema, detail: z.string().max(2000).nullable() });

export const machineNamed = z.strictObject({ name: hostNameSchema });

/** Every known event type: its current version, payload schema and upcasters from older versions. */
export const EVENT_CATALOG = {
  'project.created': { v: 1, schema: projectCreated },
  'project.updated': { v: 1, schema: projectUpdated },
  'project.archived': { v: 1, schema: projectArchived },
  'task.created': { v: 2, schema: taskCreated },
  'task.updated': { v: 1, schema: taskUpdated },
  'task.status_changed': { v: 1, schema: taskStatusChanged },
  'task.dependency_added': { v: 1, schema: taskDependency },
  'task.dependency_removed': { v: 1, schema: taskDependency },
  'task.archived': { v: 1, schema: taskArchived },
  'task.claimed': { v: 1, schema: taskClaimed },
  'task.claim_notice': { v: 1, schema: taskClaimNotice },
  'assignment.created': { v: 1, schema: assignmentCreated },
  'assignment.removed': { v: 1, schema: assignmentRemoved },
  'assignment.delivered': { v: 1, schema: assignmentDelivered },
  'assignment.failed': { v: 1, schema: assignmentFailed },
  'session.seen': { v: 1, schema: sessionSeen },
  'session.changed': { v: 1, schema: sessionChanged },
  'session.gone': { v: 1, schema: sessionGone },
  'group.created': { v: 1, schema: groupCreated },
  'group.member_added': { v: 1, schema: groupMember },
  'group.member_removed': { v: 1, schema: groupMember },
  'group.archived': { v: 1, schema: groupArchived },
  'update.posted': { v: 1, schema: updatePosted },
  'broadcast.sent': { v: 1, schema: broadcastSent },
  'broadcast.receipt': { v: 1, schema: broadcastReceipt },
  'machine.named': { v: 1, schema: machineNamed },
} as const;

export type EventType = keyof typeof EVENT_CATALOG;
export type PayloadOf<T extends EventType> = z.infer<(typeof EVENT_CATALOG)[T]['schema']>;
/** What callers give when appending: the type and a payload in the current version's shape. */
export type EventDraft = { [T in EventType]: { type: T; payload: PayloadOf<T> } }[EventType];

/**
 * Upcasters, keyed `type@v`: turn a payload of version v into version v+1's input.
 * Each older version a peer may still send has one; they chain.
 */
const UPCASTERS: Readonly<Record<string, { schema: z.ZodType<Record<string, unknown>>; up: (p: Record<string, unknown>) => Record<string, unknown> }>> = {
  'task.created@1': { schema: taskCreatedV1, up: (p) => ({ ...p, description: '', depends_on: [] }) },
};

export function isEventType(t: string): t is EventType {
  return Object.hasOwn(EVENT_CATALOG, t);
}

export type PayloadCheck =
  | { kind: 'known'; draft: EventDraft }
  | { kind: 'unknown'; reason: 'unknown-type' | 'newer-version' }
  | { kind: 'invalid'; message: string };

/**
 * Validates (and upcasts) a payload of type `type`, version `v`. Unknown types and
 * newer versions are not errors: they come from newer peers and are kept.
 */
export function checkPayload(type: string, v: number, payload: unknown): PayloadCheck {
  if (!isEventType(type)) return { kind: 'unknown', reason: 'unknown-type' };
  const entry = EVENT_CATALOG[type];
  if (v > entry.v) return { kind: 'unknown', reason: 'newer-version' };
  let current: unknown = payload;
  for (let ver = v; ver < entry.v; ver++) {
    const up = UPCASTERS[`${type}@${ver}`];
    if (up === undefined) return { kind: 'invalid', message: `${type} v${ver} is no longer supported` };
    const r = up.schema.safeParse(current);
    if (!r.success) return { kind: 'invalid', message: `${type} v${ver}: ${z.prettifyError(r.error)}` };
    current = up.up(r.data);
  }
  // The hottest type in its common form skips zod (payload-fast.ts); the schema decides the rest.
  const fast = v === entry.v ? fastPayload(type, current) : null;
  if (fast !== null) return { kind: 'known', draft: fast };
  const r = entry.schema.safeParse(current);
  if (!r.success) return { kind: 'invalid', message: `${type} v${entry.v}: ${z.prettifyError(r.error)}` };
  return { kind: 'known', draft: { type, payload: r.data } as EventDraft };
}
