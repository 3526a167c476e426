/**
 * The one short form of an id, the same in the CLI, the API's messages, the
 * dashboard and the docs: its last 8 characters (UUIDv7 ids begin with their
 * timestamp, so first characters repeat among ids made close together; the last
 * ones are random). Where ids shown together end alike, each of those is shown
 * with as many more characters as it takes to tell them apart. Every verb that
 * takes an id accepts this form (core/service/resolve.ts).
 */
// zod/mini, as the dashboard's frame parser: the page bundles this module.
import * as z from 'zod/mini';

/** Characters a short id has at least. */
export const SHORT_ID_LENGTH = 8;

/** The short form of `id`: its last 8 characters, more if another of `among` ends the same. */
export function shortId(id: string, among: Iterable<string> = []): string {
  let n = SHORT_ID_LENGTH;
  const others = [...among].filter((x) => x !== id && x.slice(-n) === id.slice(-n));
  while (n < id.length && others.some((x) => x.slice(-n) === id.slice(-n))) n++;
  return id.slice(-n);
}

/** The short forms of ids shown together, each unique among them. */
export function shortIds(ids: Iterable<string>): Map<string, string> {
  const all = [...new Set(ids)];
  const bySuffix = new Map<string, string[]>();
  for (const id of all) {
    const k = id.slice(-SHORT_ID_LENGTH);
    bySuffix.set(k, [...(bySuffix.get(k) ?? []), id]);
  }
  return new Map(all.map((id) => [id, shortId(id, bySuffix.get(id.slice(-SHORT_ID_LENGTH)) ?? [])]));
}

/**
 * A short id as people type it: 6 to 36 characters of a uuid. Marked pure so a
 * bundle that does not use it (the CLI's) does not carry zod for it.
 */
export const shortIdSchema = /* @__PURE__ */ z.string().check(z.regex(/^[0-9a-f-]{6,36}$/i, 'a short id is 6 to 36 characters of a uuid'));
