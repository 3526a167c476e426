/**
 * Read-models: the shapes the service layer returns and the API, CLI and dashboard
 * show. Zod schemas so the OpenAPI document is generated from the same source.
 */
import { z } from 'zod';

export const TASK_STATUSES = ['open', 'in_progress', 'blocked', 'done'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const SESSION_STATES = ['working', 'waiting', 'idle', 'exited'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const RECEIPT_STATUSES = ['delivered', 'failed', 'expired'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

export const projectModel = z.object({
  id: z.string(),
  name: z.string(),
  path: z.string().nullable(),
  description: z.string(),
  weight: z.number(),
  archived: z.boolean(),
  created_at: z.string().describe('ISO-8601 time of the create event'),
});
export type Project = z.infer<typeof projectModel>;

export const assignmentModel = z.object({
  id: z.string(),
  task_id: z.string(),
  host: z.string(),
  session: z.string(),
  delivery: z.enum(['pending', 'delivered', 'failed']),
  error: z.string().nullable(),
  removed: z.boolean(),
  created_at: z.string(),
});
export type Assignment = z.infer<typeof assignmentModel>;

export const taskModel = z.object({
  id: z.string(),
  project_id: z.string(),
  project: z.string().nullable().describe('project name, null if the project is unknown here yet'),
  title: z.string(),
  description: z.string(),
  priority: z.number().int(),
  status: z.enum(TASK_STATUSES),
  status_at: z.string().describe('ISO-8601 time of the event that set the current status'),
  archived: z.boolean(),
  depends_on: z.array(z.string()),
  blocked_by: z.array(z.string()).describe('dependencies not yet done'),
  ready: z.boolean().describe('open, not archived, all dependencies done, not assigned'),
  assignment: assignmentModel.nullable().describe('the active assignment, if any'),
  holder: z.object({ host: z.string(), session: z.string(), since: z.string().describe('ISO-8601 time of the claim') }).nullable()
    .describe('the session working on it: the standing claim, while the task is in_progress or blocked'),
  created_at: z.string(),
});
export type Task = z.infer<typeof taskModel>;

export const sessionModel = z.object({
  key: z.string().describe('host:session'),
  host: z.string(),
  session: z.string(),
  cwd: z.string().nullable(),
  state: z.enum(SESSION_STATES).nullable(),
  last_activity: z.string().nullable(),
  gone: z.boolean(),
  task_id: z.string().nullable().describe('the task it holds (in progress or blocked), else the task of an assignment still being delivered to it'),
});
export type Session = z.infer<typeof sessionModel>;

export const groupModel = z.object({
  name: z.string(),
  members: z.array(z.string()),
  archived: z.boolean(),
});
export type Group = z.infer<typeof groupModel>;

export const receiptModel = z.object({
  host: z.string(),
  session: z.string(),
  status: z.enum(RECEIPT_STATUSES),
  detail: z.string().nullable(),
});
export type Receipt = z.infer<typeof receiptModel>;

export const updateModel = z.object({
  id: z.string(),
  kind: z.enum(['note', 'broadcast']),
  text: z.string(),
  origin: z.string(),
  task_id: z.string().nullable(),
  host: z.string().nullable(),
  session: z.string().nullable(),
  group: z.string().nullable(),
  ttl_s: z.number().int().nullable(),
  expires_at: z.string().nullable(),
  created_at: z.string(),
  receipts: z.array(receiptModel),
});
export type Update = z.infer<typeof updateModel>;

export const conflictModel = z.object({
  entity: z.string(),
  entity_id: z.string(),
  field: z.string(),
  winner: z.object({ event: z.string(), hlc: z.string(), value: z.unknown() }),
  loser: z.object({ event: z.string(), hlc: z.string(), value: z.unknown() }),
});
export type Conflict = z.infer<typeof conflictModel>;

export const machineModel = z.object({
  machine_id: z.string(),
  name: z.string().nullable(),
  last_event_at: z.string().nullable().describe('time of the newest event held from it'),
  events: z.number().int(),
});
export type Machine = z.infer<typeof machineModel>;
