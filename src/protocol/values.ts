/**
 * Value schemas shared by events, the service layer, the API and the sync frames:
 * an HLC, names, text, states, priorities. Each boundary composes these, so a rule
 * is stated once. src/core/domain.ts re-exports them for core code.
 */
import { z } from 'zod';
import { isUuid, type Hlc } from './ids.js';
import { RECEIPT_STATUSES, SESSION_STATES, TASK_STATUSES } from './models.js';

/** `<ms since epoch, 15 digits>:<counter, 5 digits>:<machine_id>` (src/core/hlc.ts has the clock). */
export const HLC_RE = /^(\d{15}):(\d{5}):([0-9a-f-]{36})$/;

export function isHlc(s: string): s is Hlc {
  const machine = HLC_RE.exec(s)?.[3];
  return machine !== undefined && isUuid(machine);
}

export const hlcSchema = z.string().refine(isHlc, 'must be an HLC <15-digit ms>:<5-digit counter>:<machine uuid>').transform((s) => s);

/** A host's display name (the `name` in clare.toml, the first column of rclaude's listing). */
export const HOST_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const hostNameSchema = z.string().regex(HOST_NAME_RE, 'host names are letters, digits, ".", "_" or "-" (max 63)');

/** A session name as rclaude reports it (a tmux session name: no ":"). */
export const SESSION_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,127}$/;
export const sessionNameSchema = z.string().regex(SESSION_NAME_RE, 'session names are letters, digits, ".", "_", "@", "+" or "-" (max 128)');

/**
 * Control characters: C0 but tab and newline, DEL, and C1. Text Clare types into agent
 * sessions (through rclaude: tmux keystrokes) or prints in terminals must not steer
 * them — an escape sequence, a carriage return that hides what came before, a NUL
 * that fails every delivery. Refused at every boundary, events from peers included.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
export const NO_CONTROL = 'no control characters (only newline and tab, where the field allows them)';
/** True when `s` holds no control character but newline and tab. */
export function noControlChars(s: string): boolean {
  return !CONTROL_CHARS.test(s);
}

export const pathSchema = z.string().min(1).max(4096).startsWith('/', 'must be an absolute path').refine(noControlChars, NO_CONTROL).refine((s) => !/[\n\t]/.test(s), 'no tabs or newlines in a path');

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
