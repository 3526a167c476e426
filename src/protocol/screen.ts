/** The answer of `GET /api/v1/sessions/:host/:session/screen` (`clare peek`, the dashboard's peek). */
import { z } from 'zod';

export const screenModel = z.object({
  host: z.string(),
  session: z.string(),
  lines: z.number().int(),
  text: z.string().describe('the last `lines` lines of the screen, trailing blank lines trimmed'),
});
export type Screen = z.infer<typeof screenModel>;
