/** Validation of service inputs into coded errors that name the field. */
import { z } from 'zod';
import { ClareError } from '../errors.js';

/** Parses `raw` with `schema`; on failure throws CLARE_VALIDATION naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const text = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ');
  throw new ClareError('CLARE_VALIDATION', text, { issues });
}
