/**
 * How a sync session ends: the report it resolves `done` with, which refusals are
 * the peer's fault, and the WebSocket close code each refusal is sent with.
 */
import type { ClareError, ErrorCode } from '../core/errors.js';
import { CLOSE } from './close-codes.js';

/** How a session ended. */
export interface SessionEnd {
  /** True if the handshake had completed. */
  readonly established: boolean;
  readonly code: number;
  readonly reason: string;
  /** Why, when not a clean close: a refusal we sent, or one the peer sent us (`byPeer`). */
  readonly error: ClareError | null;
  /** The error was the peer's refusal of us (we did something it rejects). */
  readonly byPeer: boolean;
  /** The peer broke the rules (bad frame, bad event, skew, version): shown as faulty. */
  readonly faulty: boolean;
  /** Wall-clock ms of the end. */
  readonly at: number;
}

/** Why a session is ending, recorded once (the first cause wins). */
export interface EndCause {
  readonly error: ClareError;
  readonly byPeer: boolean;
  readonly faulty: boolean;
}

/** Close code for each refusal. */
export function closeCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'CLARE_PROTOCOL':
      return CLOSE.PROTOCOL_ERROR;
    case 'CLARE_TOO_LARGE':
      return CLOSE.TOO_BIG;
    case 'CLARE_INTERNAL':
    case 'CLARE_DB':
      return CLOSE.INTERNAL;
    default:
      return CLOSE.POLICY;
  }
}

/** Errors that mean the peer sent something wrong (as opposed to our own failure). */
export const PEER_FAULTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CLARE_PROTOCOL', 'CLARE_PROTOCOL_VERSION', 'CLARE_BAD_EVENT', 'CLARE_HLC_SKEW', 'CLARE_HLC_FORMAT', 'CLARE_VALIDATION', 'CLARE_BAD_REQUEST',
  'CLARE_IDENTITY_CONFLICT', 'CLARE_TOO_LARGE', 'CLARE_TOO_DEEP',
]);
