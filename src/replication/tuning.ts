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
}

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
