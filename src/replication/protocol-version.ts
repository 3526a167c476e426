/**
 * The sync protocol's versions. The handshake (`hello`) states every version a
 * peer speaks; both sides then use the highest one they share, or refuse with
 * CLARE_PROTOCOL_VERSION when they share none.
 *
 * What must stay true across versions: a `hello` frame is a JSON object with
 * `type: "hello"` and `versions: number[]`, whatever else it carries, so any two
 * versions can always at least agree that they disagree.
 *
 * History (one line per version; docs/protocol.md has the same list):
 * - 1: hello/batch/ack/ping/pong/links/error frames; per-origin watermarks; batches
 *      carry a per-origin base; acks carry the receiver's watermarks and counts.
 * - 2: anti-entropy: hello/ack/ping/pong also carry per-origin digests; new frames
 *      sum_req/sum and range_req/range find and fetch events that differ below equal
 *      watermarks. Version-1 peers are still spoken to (without anti-entropy).
 * - 3: remote fleet calls: call/call_result carry peek and spawn to the daemon of the
 *      host that owns a session, relayed where there is no direct link. Version-1 and
 *      -2 peers are still spoken to (calls are not routed through them).
 */

/** Every protocol version this build speaks, oldest first. */
export const PROTOCOL_VERSIONS: readonly number[] = [1, 2, 3];

/** The version this build prefers (the newest it speaks). */
export const CURRENT_PROTOCOL_VERSION = 3;

/**
 * The version two peers will speak: the highest one both list, or null when they
 * share none (the handshake then fails with CLARE_PROTOCOL_VERSION).
 */
export function negotiateVersion(theirs: readonly number[], ours: readonly number[] = PROTOCOL_VERSIONS): number | null {
  let best: number | null = null;
  for (const v of theirs) if (ours.includes(v) && (best === null || v > best)) best = v;
  return best;
}
