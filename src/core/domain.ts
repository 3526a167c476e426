/**
 * Value schemas shared by events, the service layer and the API: names, states,
 * priorities. Each boundary composes these, so a rule is stated once.
 */
import { z } from 'zod';
import { RECEIPT_STATUSES, SESSION_STATES, TASK_STATUSES } from '../protocol/models.js';
import { NO_CONTROL, noControlChars } from '../protocol/values.js';

// The value schemas wire frames share live in src/protocol/values.ts.
export { HOST_NAME_RE, hlcSchema, hostNameSchema, noControlChars, pathSchema, SESSION_NAME_RE, sessionNameSchema } from '../protocol/values.js';

export const groupNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'group names are letters, digits, ".", "_" or "-" (max 64)');
/** `host:session` with `*` and `?` wildcards on either side, e.g. `desk:*`, `build:api-*`. */
export const memberPatternSchema = z.string().regex(/^[A-Za-z0-9*?][A-Za-z0-9._*?-]{0,62}:[A-Za-z0-9_*?][A-Za-z0-9._@+*?-]{0,127}$/, 'a member is a host:session pattern such as desk:* or build:api-*');

export const projectNameSchema = z.string().trim().min(1).max(200).refine(noControlChars, NO_CONTROL).refine((s) => !/[\n\t]/.test(s), 'no tabs or newlines');
export const titleSchema = z.string().trim().min(1).max(500).refine(noControlChars, NO_CONTROL).refine((s) => !s.includes('\n'), 'a title is one line');
export const descriptionSchema = z.string().max(20_000).refine(noControlChars, NO_CONTROL);
export const textSchema = z.string().trim().min(1).max(20_000).refine(noControlChars, NO_CONTROL);
/** A short note kept with a status change. */
export const noteSchema = z.string().max(2000).refine(noControlChars, NO_CONTROL);
/** A session's working directory as rclaude reports it (may be empty when unknown). */
export const cwdSchema = z.string().max(4096).refine(noControlChars, NO_CONTROL).refine((s) => !/[\n\t]/.test(s), 'no tabs or newlines in a path');
/** Priority 0 = most urgent … 4 = someday. */
export const prioritySchema = z.number().int().min(0).max(4);
/** How much a project's tasks count in ranking; 1 is neutral. */
export const weightSchema = z.number().min(0.1).max(10);

export const taskStatusSchema = z.enum(TASK_STATUSES);
export const sessionStateSchema = z.enum(SESSION_STATES);
export const receiptStatusSchema = z.enum(RECEIPT_STATUSES);

/** ISO-8601 instant with an explicit zone, normalised to UTC `…Z`. */
export const isoInstantSchema = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

/** `host:session` key of a session. */
export function sessionKey(host: string, session: string): string {
  return `${host}:${session}`;
}

/** Glob match of a `host:session` pattern (`*` any run, `?` one char) against a key. */
export function matchesPattern(pattern: string, key: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\@-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(key);
}
