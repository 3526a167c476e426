/**
 * `call_result` (protocol 3): the answer to a `call` with the same `id`, sent back
 * along the link the call came in on. Either the action's result or a coded error
 * (an unknown code from a newer peer is shown as CLARE_PEER).
 */
import { z } from 'zod';
import { callIdSchema } from './call.js';

/** Most characters of screen text one answer may carry (2000 lines of a wide pane fit). */
export const MAX_SCREEN_CHARS = 512 * 1024;

export const callResultSchema = z.discriminatedUnion('ok', [
  z.object({
    type: z.literal('call_result'),
    id: callIdSchema,
    ok: z.literal(true),
    /** capture: the screen text; spawn: absent. */
    text: z.string().max(MAX_SCREEN_CHARS).optional(),
  }),
  z.object({
    type: z.literal('call_result'),
    id: callIdSchema,
    ok: z.literal(false),
    code: z.string().min(1).max(100),
    message: z.string().max(4000),
  }),
]);

export type CallResultMsg = z.infer<typeof callResultSchema>;
