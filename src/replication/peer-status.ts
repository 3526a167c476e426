/**
 * What the replication service remembers of each peer (connected or not) and the
 * status line it shows for it: connection, counters, errors, and lag computed from
 * per-origin counts and watermarks alone (O(origins), no event is read).
 */
import type { ErrorCode } from '../core/errors.js';
import type { Hlc } from '../core/hlc.js';
import type { MachineId } from '../core/ids.js';
import type { Watermarks } from '../core/store.js';
import type { PeerStatus } from '../protocol/status.js';
import type { Divergence } from './session-reconciler.js';
import type { Direction, SyncSession } from './sync-session.js';
import { newCounters, type PeerCounters } from './tuning.js';

/** What the service remembers of one peer, connected or not. */
export interface PeerRecord {
  url: string | null;
  machineId: MachineId | null;
  name: string | null;
  readonly counters: PeerCounters;
  since: number | null;
  lastError: { code: ErrorCode; message: string; at: number } | null;
  faulty: boolean;
  protocolVersion: number | null;
  clockOffsetMs: number | null;
  direction: Direction | null;
  /** What it held when last seen (for lag while disconnected). */
  lastWatermarks: Watermarks | null;
  lastCounts: Readonly<Record<string, number>> | null;
  lastDivergence: Divergence | null;
  /** When its last link ended, the last frame heard on it (ms) and the machines it said it was linked to. */
  lastHeard: number | null;
  lastLinks: readonly string[];
  /** While recovering: whether its statements showed events of our origin (null: not heard yet). */
  holdsOurs: boolean | null;
}

/**
 * Events of one origin each side lacks, from counts and watermarks alone, O(1).
 * Exact while both hold gap-free prefixes (the difference of counts). Where they do
 * not, a lower bound: the side whose watermark is behind lacks at least one event,
 * and each side lacks as many more than the other as it holds fewer. So two peers
 * holding different events never both show lag 0 — except at equal watermarks and
 * counts, which `divergence` (the digests) reports.
 */
function originLag(ourCount: number, theirCount: number, ourWm: Hlc | undefined, theirWm: Hlc | undefined): { theyLack: number; weLack: number } {
  const weAtLeast = Math.max(theirCount - ourCount, theirWm !== undefined && (ourWm === undefined || theirWm > ourWm) ? 1 : 0, 0);
  const theyAtLeast = Math.max(ourCount - theirCount, ourWm !== undefined && (theirWm === undefined || ourWm > theirWm) ? 1 : 0, 0);
  // |ours \ theirs| = ourCount − theirCount + |theirs \ ours|, and symmetrically.
  return {
    theyLack: Math.max(theyAtLeast, ourCount - theirCount + weAtLeast),
    weLack: Math.max(weAtLeast, theirCount - ourCount + theyAtLeast),
  };
}

export function newRecord(url: string | null, machineId: MachineId | null): PeerRecord {
  return {
    url, machineId, name: null, counters: newCounters(), since: null, lastError: null, faulty: false,
    protocolVersion: null, clockOffsetMs: null, direction: null, lastWatermarks: null, lastCounts: null, lastDivergence: null, holdsOurs: null,
    lastHeard: null, lastLinks: [],
  };
}

/** One peer's status line: from its open session when connected, else from what was last seen. */
export function statusLine(r: PeerRecord, live: SyncSession | null, ourCounts: Readonly<Record<string, number>>, ourWm: Watermarks): PeerStatus {
  const wm = live?.peerWatermarks() ?? r.lastWatermarks;
  const counts = live?.peerCounts() ?? r.lastCounts;
  let lag: PeerStatus['lag'] = null;
  if (wm !== null && counts !== null) {
    let theyLack = 0;
    let weLack = 0;
    for (const origin of new Set([...Object.keys(ourCounts), ...Object.keys(counts)])) {
      const l = originLag(ourCounts[origin] ?? 0, counts[origin] ?? 0, ourWm[origin], wm[origin]);
      theyLack += l.theyLack;
      weLack += l.weLack;
    }
    lag = { they_lack: theyLack, we_lack: weLack };
  }
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return {
    url: r.url,
    machine_id: r.machineId,
    name: r.name,
    connected: live !== null,
    since: iso(r.since),
    last_error: r.lastError === null ? null : { code: r.lastError.code, message: r.lastError.message, at: new Date(r.lastError.at).toISOString() },
    faulty: r.faulty,
    events_sent: r.counters.events_sent,
    events_received: r.counters.events_received,
    duplicates_received: r.counters.duplicates_received,
    lag,
    divergence: live === null ? r.lastDivergence : live.divergence(),
    clock_offset_ms: live?.clockOffsetMs ?? r.clockOffsetMs,
    protocol: live?.remote?.protocolVersion ?? r.protocolVersion,
    direction: live?.direction ?? r.direction,
    last_heard: iso(live?.lastHeardAt ?? r.lastHeard),
    links: live?.peerLinks ?? [...r.lastLinks],
  };
}
