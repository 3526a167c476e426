/**
 * What the HTTP layer needs from the long-lived services, as narrow interfaces so
 * routes can be tested with `inject()` on an app built without them.
 */
import type { FleetStatus, PeerStatus, PullResult, RecoveryStatus } from '../protocol/status.js';

export interface ReplicationPort {
  /** Per-peer connection state, counters, lag and clock offset. */
  status(): PeerStatus[];
  /** The recovery of this machine's own events at start-up, or null when there was none. */
  recoveryStatus(): RecoveryStatus | null;
  /** Re-reads the peer list (after `clare peer add|remove`). */
  reloadPeers(): void;
}

export interface FleetPort {
  /** Lists this host's sessions through rclaude and appends events for what changed. */
  pull(): Promise<PullResult>;
  /** The last `lines` lines of a session's screen (through rclaude on its host). */
  capture(host: string, session: string, lines: number): Promise<string>;
  status(): FleetStatus;
}
