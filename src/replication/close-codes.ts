/**
 * WebSocket close codes the sync engine uses. The error frame sent before a close
 * carries the precise ClareError code; the close code only says how the link
 * ended, so a dialer can tell "retry soon" from "another link is preferred".
 * Codes 1000–1011 are RFC 6455's; 4000–4999 are ours.
 */
export const CLOSE = {
  /** Normal end (e.g. the peer was removed from the config). */
  NORMAL: 1000,
  /** The service is stopping. */
  GOING_AWAY: 1001,
  /** A frame broke the protocol (unparsable, out of order, a gap). */
  PROTOCOL_ERROR: 1002,
  /** Refused: bad events, clock skew, unsupported protocol version, ourselves. */
  POLICY: 1008,
  /** A frame over the size limit (ws sends this itself when `maxPayload` is passed). */
  TOO_BIG: 1009,
  /** Our own failure (e.g. the database refused a write); not the peer's fault. */
  INTERNAL: 1011,
  /** Too many connections right now; dial again later. */
  TRY_AGAIN_LATER: 1013,
  /** No frame from the peer within the keepalive deadline (closed locally). */
  KEEPALIVE_TIMEOUT: 4008,
  /** Another connection to the same machine is kept; this one is redundant. */
  DUPLICATE: 4009,
} as const;

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/** Close codes a peer may legally send (RFC 6455 §7.4: 1005/1006/1015 are never sent). */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
