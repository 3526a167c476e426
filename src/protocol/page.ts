/** One page of a list, as every paged API route and the live snapshot's lists answer it. */
import { z } from 'zod';

/** One page of a list. */
export interface Page<T> {
  readonly items: T[];
  /** Pass as `cursor` to get the rows after these; null when there are none. */
  readonly next_cursor: string | null;
}

/** The response schema of a paged list route. */
export function pageModel<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    next_cursor: z.string().nullable().describe('null on the last page; else pass as `cursor` for the next one'),
  });
}
