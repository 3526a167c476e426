/**
 * `links`: the machines the sender is directly connected to, sent whenever that
 * set changes. A peer does not relay origin X's events to us while we list X:
 * X sends them itself, so the mesh does not flood. `rev` orders the frames.
 */
import { z } from 'zod';
import { uuidSchema } from '../ids.js';
import { MAX_ORIGINS } from './common.js';

export const linksSchema = z.object({
  type: z.literal('links'),
  /** Increases with each links frame of a session (the hello counts as rev 0). */
  rev: z.number().int().min(1),
  links: z.array(uuidSchema).max(MAX_ORIGINS),
});

export type LinksMsg = z.infer<typeof linksSchema>;
