/**
 * The body of every refused HTTP request: `{ error: { code, message, details? } }`.
 * The daemon sends it (ClareError.toBody), the CLI, the dashboard and a pulling peer
 * read it with this one schema. `code` is a CLARE_… code (src/core/errors.ts); a
 * reader checks it against the catalog it knows, since a newer daemon may send more.
 */
// zod/mini: the dashboard bundles this module.
import * as z from 'zod/mini';

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().check(z.minLength(1), z.maxLength(100)),
    message: z.string(),
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
});

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** The coded error in an answer's body, or null when the body is not an error body. */
export function parseErrorBody(body: unknown): ErrorBody['error'] | null {
  const r = errorBodySchema.safeParse(body);
  return r.success ? r.data.error : null;
}
