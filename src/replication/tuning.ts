/**
 * Knobs of the sync engine, with the daemon's defaults. Tests shrink the timers;
 * the daemon uses the defaults.
 */
export interface SyncTuning {
  /** Most events per batch. */
  readonly batchSize: number;
  /** A batch is cut once its JSON passes this many bytes (at least one event is sent). */
  readonly maxBatchBytes: number;
  /** Batches sent and not yet acknowledged, per session (the backpressure window). */
  readonly maxInflight: number;
  /** Interval between keepalive pings (ms). */
  readonly keepaliveMs: number;
  /** A link with no inbound frame for this long is dead and is closed (ms). */
  readonly deadAfterMs: number;
  /** Time allowed for the peer's hello after the socket opens (ms). */
  readonly handshakeTimeoutMs: number;
  /** First reconnect delay (ms); doubles per failed attempt, with jitter. */
  readonly backoffMinMs: number;
  /** Largest reconnect delay (ms). */
  readonly backoffMaxMs: number;
  /** How often the peer list is re-read even without `reloadPeers()` (ms). */
  readonly peerRefreshMs: number;
  /** Largest inbound frame (bytes, UTF-8); a larger one is refused with CLARE_TOO_LARGE. */
  readonly maxFrameBytes: number;
  /** Bytes of early batches held back while an earlier `seq` is missing (the reorder buffer). */
  readonly maxPendingBytes: number;
  /** Bytes queued for a peer that is not reading before the link is closed with CLARE_TOO_LARGE. */
  readonly maxSendBufferBytes: number;
  /** Anti-entropy: a differing range is cut into this many parts. */
  readonly reconcileFanout: number;
  /** Anti-entropy: a range the peer holds at most this many events of is fetched whole. */
  readonly reconcileLeaf: number;
  /** Time a request (`sum_req`, `range_req`) may wait for its answer before the link is presumed broken (ms). */
  readonly requestTimeoutMs: number;
}

/**
 * Largest sync frame: a batch is cut at 4 MiB of events (`maxBatchBytes`) plus at most
 * one event's 64 KiB payload; twice that leaves room for older senders' framing.
 * The WebSocket servers and dialers use it as their `maxPayload`.
 */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

export const DEFAULT_TUNING: SyncTuning = Object.freeze({
  batchSize: 1000,
  maxBatchBytes: 4 * 1024 * 1024,
  maxInflight: 4,
  keepaliveMs: 10_000,
  deadAfterMs: 30_000,
  handshakeTimeoutMs: 10_000,
  backoffMinMs: 250,
  backoffMaxMs: 30_000,
  peerRefreshMs: 30_000,
  maxFrameBytes: MAX_FRAME_BYTES,
  maxPendingBytes: MAX_FRAME_BYTES,
  // Four unacknowledged batches of up to a frame each, plus acks, pongs and answers.
  maxSendBufferBytes: 5 * MAX_FRAME_BYTES,
  reconcileFanout: 16,
  reconcileLeaf: 128,
  requestTimeoutMs: 30_000,
});

/** Fills unset knobs with the defaults. */
export function resolveTuning(t: Partial<SyncTuning> | undefined): SyncTuning {
  return Object.freeze({ ...DEFAULT_TUNING, ...t });
}

/** Per-peer traffic counters; a session adds to the record it is given. */
export interface PeerCounters {
  /** Events we sent it in batches (re-sends after a reconnect count again). */
  events_sent: number;
  /** Events it sent us in batches, duplicates included. */
  events_received: number;
  /** Of those, events we already held (uuid dedup). */
  duplicates_received: number;
}

export function newCounters(): PeerCounters {
  return { events_sent: 0, events_received: 0, duplicates_received: 0 };
}
