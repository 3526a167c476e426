/** A task as `GET /api/v1/tasks/next` answers it (`clare next`). */
import { z } from 'zod';
import { taskModel } from './models.js';

/** A task as `next` offers it: the task itself plus why it ranks where it does. */
export const rankedTaskModel = taskModel.extend({
  score: z.number(), reasons: z.array(z.string()),
  held: z.boolean().describe('the asking session holds it: its own work, first'),
  assigned: z.boolean().describe('assigned to the asking session and on its way to it'),
});
export type RankedTask = z.infer<typeof rankedTaskModel>;
