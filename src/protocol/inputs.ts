/**
 * Input schemas of the service operations. The HTTP API parses bodies and queries
 * with them once, at the boundary (src/server/route.ts), and hands the parsed value
 * (`z.infer`, defaults applied) to the service, which does not parse it again; the
 * OpenAPI document is generated from them; the CLI builds the same shapes.
 */
import { z } from 'zod';
import {
  descriptionSchema, groupNameSchema, memberPatternSchema, noteSchema, pathSchema, prioritySchema, projectNameSchema,
  taskStatusSchema, textSchema, titleSchema, weightSchema,
} from './values.js';

/** A reference a person would type: an id, a short id, or a name. */
const ref = z.string().trim().min(1).max(200);

export const createProjectInput = z.strictObject({
  name: projectNameSchema,
  path: pathSchema.nullable().optional(),
  description: descriptionSchema.optional(),
  weight: weightSchema.optional(),
});
export type CreateProjectInput = z.infer<typeof createProjectInput>;
/** What a client sends (before defaults). */
export type CreateProjectBody = z.input<typeof createProjectInput>;

export const updateProjectInput = z.strictObject({
  name: projectNameSchema.optional(),
  path: pathSchema.nullable().optional(),
  description: descriptionSchema.optional(),
  weight: weightSchema.optional(),
  archived: z.literal(true).optional().describe('archive the project (a tombstone; cannot be undone)'),
});
export type UpdateProjectInput = z.infer<typeof updateProjectInput>;
/** What a client sends (before defaults). */
export type UpdateProjectBody = z.input<typeof updateProjectInput>;

export const createTaskInput = z.strictObject({
  project: ref.describe('project id, short id or name'),
  title: titleSchema,
  description: descriptionSchema.optional(),
  priority: prioritySchema.optional().describe('0 most urgent … 4; default 2'),
  depends_on: z.array(ref).max(100).optional().describe('tasks (id, short id or title) that must be done first'),
});
export type CreateTaskInput = z.infer<typeof createTaskInput>;
/** What a client sends (before defaults). */
export type CreateTaskBody = z.input<typeof createTaskInput>;

export const updateTaskInput = z.strictObject({
  title: titleSchema.optional(),
  description: descriptionSchema.optional(),
  priority: prioritySchema.optional(),
  project: ref.optional(),
  status: taskStatusSchema.optional(),
  note: noteSchema.optional().describe('why the status changed (kept with the event)'),
  archived: z.literal(true).optional(),
});
export type UpdateTaskInput = z.infer<typeof updateTaskInput>;
/** What a client sends (before defaults). */
export type UpdateTaskBody = z.input<typeof updateTaskInput>;

export const dependencyInput = z.strictObject({
  depends_on: ref,
  remove: z.boolean().optional().describe('remove the dependency instead of adding it'),
});
export type DependencyInput = z.infer<typeof dependencyInput>;
/** What a client sends (before defaults). */
export type DependencyBody = z.input<typeof dependencyInput>;

export const createAssignmentInput = z.union([
  z.strictObject({ task: ref, session: z.string().min(3).max(200).describe('host:session') }),
  z.strictObject({ task: ref, auto: z.literal(true).describe('pick an idle session with the scheduler') }),
]);
export type CreateAssignmentInput = z.infer<typeof createAssignmentInput>;
/** What a client sends (before defaults). */
export type CreateAssignmentBody = z.input<typeof createAssignmentInput>;

export const createGroupInput = z.strictObject({
  name: groupNameSchema,
  members: z.array(memberPatternSchema).max(200).default([]),
});
export type CreateGroupInput = z.infer<typeof createGroupInput>;
/** What a client sends (before defaults). */
export type CreateGroupBody = z.input<typeof createGroupInput>;

export const updateGroupInput = z.strictObject({
  add: z.array(memberPatternSchema).max(200).optional(),
  remove: z.array(memberPatternSchema).max(200).optional(),
});
export type UpdateGroupInput = z.infer<typeof updateGroupInput>;
/** What a client sends (before defaults). */
export type UpdateGroupBody = z.input<typeof updateGroupInput>;

export const postUpdateInput = z.strictObject({
  text: textSchema,
  task: ref.optional(),
  session: z.string().min(3).max(200).optional().describe('host:session that posts it'),
});
export type PostUpdateInput = z.infer<typeof postUpdateInput>;
/** What a client sends (before defaults). */
export type PostUpdateBody = z.input<typeof postUpdateInput>;

export const broadcastInput = z.strictObject({
  group: groupNameSchema,
  message: textSchema,
  ttl_s: z.number().int().min(1).max(90 * 86_400).optional().describe('seconds until undelivered copies expire'),
});
export type BroadcastInput = z.infer<typeof broadcastInput>;
/** What a client sends (before defaults). */
export type BroadcastBody = z.input<typeof broadcastInput>;

export const nextInput = z.strictObject({
  session: z.string().min(3).max(200).optional(),
  project: ref.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(10),
});
export type NextInput = z.infer<typeof nextInput>;
/** What a client sends (before defaults). */
export type NextBody = z.input<typeof nextInput>;

export const startTaskInput = z.strictObject({
  session: z.string().min(3).max(200).optional().describe('host:session that takes the task (becomes its holder)'),
  force: z.boolean().optional().describe('take the task over from the session holding it'),
  note: noteSchema.optional().describe('why (kept with the status event)'),
});
export type StartTaskInput = z.infer<typeof startTaskInput>;
/** What a client sends (before defaults). */
export type StartTaskBody = z.input<typeof startTaskInput>;
