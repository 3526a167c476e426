/** Schemas of the activity stream (protocol/activity.ts has the kinds and the type). */
import { z } from 'zod';
import { ACTIVITY_KINDS, type ActivityEntry } from './activity.js';
import { TASK_STATUSES } from './models.js';

export const activityItemModel = z.object({
  id: z.string().describe('the event uuid'),
  hlc: z.string(),
  at: z.string().describe('ISO time of the event'),
  origin: z.string().describe('machine id of its writer'),
  kind: z.enum(ACTIVITY_KINDS).describe('created, status (done / blocked / reopened: status open / started: in_progress), edited, archived, claimed, claim_lost (a claim lost in a merge: the claim conflict), assigned, note, broadcast'),
  task_id: z.string().nullable(),
  task_title: z.string().nullable().describe('the task\'s title now'),
  host: z.string().nullable(),
  session: z.string().nullable(),
  status: z.enum(TASK_STATUSES).nullable(),
  text: z.string().nullable(),
  group: z.string().nullable(),
  previous: z.string().nullable().describe('claimed: host:session it was taken from'),
  fields: z.array(z.string()).nullable(),
  ref: z.string().nullable().describe('assigned: the assignment id; note, broadcast: the update id'),
  notice: z.enum(['delivered', 'failed']).nullable(),
}) satisfies z.ZodType<ActivityEntry>;
