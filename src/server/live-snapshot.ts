/** The `snapshot` frame: every read-model the dashboard shows, read in one go. */
import type { Db } from '../core/db.js';
import { listAssignments, listConflicts, listGroups, listMachines, listProjects, listSessions, listTasks, listUpdates } from '../core/queries.js';
import { ConflictTracker, toLiveConflict } from './live-changes.js';
import { LIVE_PROTOCOL_VERSION, type SnapshotMessage } from './live-protocol.js';
import type { StatusDoc } from './status-models.js';

/** How many recent updates (notes and broadcasts) a snapshot carries. */
export const SNAPSHOT_UPDATES = 200;

/**
 * Reads the snapshot. Synchronous on purpose: with no await between this read and
 * the client joining the broadcast set, no commit can fall between the two.
 * `status` may be up to one poll old; peers and fleet follow in their own frames.
 */
export function buildSnapshot(db: Db, status: StatusDoc, cursor: number, conflicts: ConflictTracker): SnapshotMessage {
  const conflictRows = listConflicts(db, ConflictTracker.WINDOW).map(toLiveConflict);
  conflicts.reset(conflictRows);
  return {
    type: 'snapshot',
    protocol: LIVE_PROTOCOL_VERSION,
    cursor,
    data: {
      projects: listProjects(db),
      tasks: listTasks(db),
      sessions: listSessions(db),
      assignments: listAssignments(db),
      groups: listGroups(db),
      updates: listUpdates(db, { limit: SNAPSHOT_UPDATES }),
      conflicts: conflictRows,
      machines: listMachines(db),
      peers: status.peers,
      status,
    },
  };
}
