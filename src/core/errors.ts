/**
 * The one catalog of Clare's coded errors. Every error that crosses a boundary
 * (HTTP body, CLI exit, WebSocket frame) is a `ClareError` with a code from here.
 * Codes are stable: tools and agents match on them. `test/unit/errors.test.ts`
 * checks that each code is documented in `docs/errors.md`, that every CLARE_ code
 * src/ names is here and every code here is used, and that each has an HTTP error
 * status and a usable exit code. The wire body is src/protocol/error-body.ts.
 */
import type { ErrorBody } from '../protocol/error-body.js';

/** HTTP status and CLI exit code of each error code, with a one-line meaning. */
export const ERROR_CATALOG = {
  CLARE_BAD_REQUEST: { status: 400, exit: 2, summary: 'The request or arguments are malformed.' },
  CLARE_VALIDATION: { status: 422, exit: 2, summary: 'A value failed validation.' },
  CLARE_UNAUTHORIZED: { status: 401, exit: 4, summary: 'Missing or wrong mesh token.' },
  CLARE_FORBIDDEN: { status: 403, exit: 4, summary: 'Refused: a foreign Origin or Host, or a request that needs the mesh token even from this machine.' },
  CLARE_NOT_FOUND: { status: 404, exit: 5, summary: 'No such project, task, session, group or assignment.' },
  CLARE_AMBIGUOUS: { status: 409, exit: 5, summary: 'A name matches more than one thing; use the id.' },
  CLARE_CONFLICT: { status: 409, exit: 6, summary: 'The change conflicts with the current state.' },
  CLARE_DEPENDENCY_CYCLE: { status: 409, exit: 6, summary: 'The dependency would create a cycle.' },
  CLARE_ARCHIVED: { status: 409, exit: 6, summary: 'The target is archived.' },
  CLARE_BAD_EVENT: { status: 422, exit: 7, summary: 'An event failed validation; the whole batch was refused.' },
  CLARE_HLC_SKEW: { status: 422, exit: 7, summary: "A remote clock is too far ahead of ours." },
  CLARE_HLC_FORMAT: { status: 422, exit: 7, summary: 'A hybrid logical clock string is malformed.' },
  CLARE_PROTOCOL: { status: 400, exit: 7, summary: 'A sync message broke the protocol.' },
  CLARE_PROTOCOL_VERSION: { status: 426, exit: 7, summary: 'The peer speaks no protocol version we support.' },
  CLARE_IDENTITY_CONFLICT: { status: 409, exit: 7, summary: 'An event reuses a held id with other content, or a held HLC under another id (a cloned machine or a restored backup).' },
  CLARE_TOO_LARGE: { status: 413, exit: 2, summary: 'A body, frame, buffer or list is over its size limit.' },
  CLARE_TOO_DEEP: { status: 400, exit: 2, summary: 'JSON nested deeper than the limit (64).' },
  CLARE_RECOVERING: { status: 503, exit: 3, summary: "The daemon is fetching this machine's own events from its peers; local writes are refused until it is done." },
  CLARE_CONFIG: { status: 500, exit: 8, summary: 'The config file is missing, broken or invalid.' },
  CLARE_DB: { status: 500, exit: 9, summary: 'The database could not be opened or migrated.' },
  CLARE_RCLAUDE_MISSING: { status: 503, exit: 10, summary: 'The rclaude program is not on PATH or does not run.' },
  CLARE_RCLAUDE_FAILED: { status: 502, exit: 10, summary: 'An rclaude call failed or timed out.' },
  CLARE_RCLAUDE_OUTPUT: { status: 502, exit: 10, summary: 'rclaude printed output Clare cannot parse.' },
  CLARE_PEER: { status: 502, exit: 11, summary: 'A peer could not be reached or answered badly.' },
  CLARE_HOST_UNREACHABLE: { status: 503, exit: 11, summary: 'No peer link reaches the host that owns the session: it is offline, or not in this mesh.' },
  CLARE_TIMEOUT: { status: 504, exit: 11, summary: 'A remote call got no answer in time; the action may or may not have run.' },
  CLARE_DAEMON_DOWN: { status: 503, exit: 3, summary: 'No daemon answers at the configured address.' },
  CLARE_PORT_IN_USE: { status: 500, exit: 12, summary: 'The daemon port is already taken.' },
  CLARE_UNSAFE_BIND: { status: 500, exit: 12, summary: 'Binding a non-loopback address needs [mesh] token.' },
  CLARE_UNHEALTHY: { status: 503, exit: 13, summary: '`clare doctor` found a problem, or `clare health` answered degraded; each problem comes with what to do.' },
  CLARE_SERVICE: { status: 500, exit: 14, summary: 'systemctl --user failed while installing or removing the service (no user systemd instance?).' },
  CLARE_INTERNAL: { status: 500, exit: 1, summary: 'An unexpected internal error.' },
} as const satisfies Record<string, { status: number; exit: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** An error with a stable code, a message a person can act on, and optional details. */
export class ClareError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ClareError';
    this.code = code;
    this.details = details === undefined ? undefined : Object.freeze({ ...details });
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }

  get exitCode(): number {
    return ERROR_CATALOG[this.code].exit;
  }

  /** The wire form used by the HTTP API and the sync protocol. */
  toBody(): ErrorBody & { error: { code: ErrorCode } } {
    return this.details === undefined
      ? { error: { code: this.code, message: this.message } }
      : { error: { code: this.code, message: this.message, details: { ...this.details } } };
  }
}

/** True when `code` is one of the catalog's codes (for parsing error bodies from the wire). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, code);
}

/**
 * The error as a ClareError, also when it comes from another copy of this module
 * (the CLI bundle lazily loads the daemon's modules, which have their own class).
 */
export function asClareError(e: unknown): ClareError | null {
  if (e instanceof ClareError) return e;
  if (e instanceof Error && e.name === 'ClareError' && 'code' in e && typeof e.code === 'string' && isErrorCode(e.code)) {
    const details = 'details' in e && typeof e.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : undefined;
    return new ClareError(e.code, e.message, details);
  }
  return null;
}
