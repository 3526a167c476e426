/**
 * The short form of an id, as every interface shows it (CLI tables, dashboard,
 * error messages): its last 8 characters. Not the first: UUIDv7 ids begin with a
 * timestamp, so ids minted close together share their prefixes. `clare` resolves a
 * unique prefix or suffix of at least 6 hex characters back to the id.
 */
// zod/mini, as the dashboard's frame parser: the page bundles this module.
import * as z from 'zod/mini';

export const SHORT_ID_LENGTH = 8;

/** The short form of `id`: its last SHORT_ID_LENGTH characters. */
export function shortId(id: string): string {
  return id.slice(-SHORT_ID_LENGTH);
}

/** A short id as people type it: 6 to 36 characters of a uuid. */
export const shortIdSchema = z.string().check(z.regex(/^[0-9a-f-]{6,36}$/i, 'a short id is 6 to 36 characters of a uuid'));
