/**
 * `error`: the last frame before a refusal-close. `code` is a ClareError code
 * (docs/errors.md); the sender closes the socket right after.
 */
import { z } from 'zod';

export const errorSchema = z.object({
  type: z.literal('error'),
  /** A CLARE_… code; unknown codes from newer peers are shown as CLARE_PEER. */
  code: z.string().min(1).max(100),
  message: z.string().max(4000),
});

export type ErrorMsg = z.infer<typeof errorSchema>;
