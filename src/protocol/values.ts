/**
 * Value schemas more than one wire shares: an HLC, host and session names, absolute
 * paths, and the control-character rule for text typed into sessions. src/core/domain.ts
 * re-exports them beside the domain's other value schemas.
 */
import { z } from 'zod';
import { isUuid, type Hlc } from './ids.js';

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
