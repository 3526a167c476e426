// The page's windows over paged lists (src/ui/live/fleet-state.ts, src/ui/derive.ts),
// as pure functions: a board column shows what it holds up to the last row loaded,
// in the daemon's order; Activity merges three newest-first lists down to the
// horizon none of them can still hold something newer than, and names the list to
// load next; fetched rows never overwrite live ones nor revive tombstoned ones.
import { describe, expect, it } from 'vitest';
import { columns } from '../../src/ui/derive.js';
import { ALL_TASKS, applyFrames, fromSnapshot, mergeColumns, mergeList, type FleetState } from '../../src/ui/live/fleet-state.js';
import type { SnapshotMessage } from '../../src/protocol/live.js';
import type { Assignment, Task, Update } from '../../src/protocol/models.js';

const at = (ms: number): string => new Date(Date.UTC(2025, 0, 6) + ms).toISOString();
const task = (id: string, priority: number, createdMs: number, extra: Partial<Task> = {}): Task => ({
  id, project_id: 'p', project: 'p', title: id, description: '', priority, status: 'open', status_at: at(createdMs), archived: false,
  depends_on: [], blocked_by: [], ready: true, assignment: null, holder: null, created_at: at(createdMs), ...extra,
});
const update = (id: string, ms: number): Update => ({ id, kind: 'note', text: id, origin: 'm', task_id: null, host: null, session: null, group: null, ttl_s: null, expires_at: null, created_at: at(ms), receipts: [] });
const page = <T>(items: T[], next: string | null = null) => ({ items, next_cursor: next });

function state(open: Task[], openNext: string | null, updates: Update[], updatesNext: string | null, assignments: Assignment[], assignmentsNext: string | null): FleetState {
  const empty = page<never>([]);
  const snap: SnapshotMessage = {
    type: 'snapshot', protocol: 2, cursor: 1,
    data: {
      projects: empty, sessions: empty, groups: empty, conflicts: empty, machines: [], peers: [], session_tasks: [],
      tasks: { open: page(open, openNext), in_progress: empty, blocked: empty, done: empty },
      updates: page(updates, updatesNext), assignments: page(assignments, assignmentsNext),
      status: {
        machine: { id: 'm', name: 'desk', version: 't', started_at: at(0) }, truncated: { sessions: false, machines: false }, liveness: { silent_after_s: 300 }, peers: [], fleet: null, recovery: null,
        counts: { projects: 0, tasks: {}, ready_tasks: 0, sessions: 0, events: 0, skipped_events: 0, conflicts: 0 }, sessions_by_state: {},
      },
    },
  };
  return fromSnapshot(snap);
}

describe('page windows', () => {
  it('a column shows held tasks up to its last loaded row, most urgent first; a change beyond it stays hidden', () => {
    let s = state([task('a', 0, 5), task('b', 1, 1)], 'more', [], null, [], null);
    s = applyFrames(s, [
      { type: 'change', cursor: 2, entity: 'task', id: 'c', row: task('c', 1, 0) }, // before b: inside the window
      { type: 'change', cursor: 2, entity: 'task', id: 'd', row: task('d', 3, 0) }, // after b: beyond it
    ])!;
    const open = columns(s.tasks, { project: null, q: '' }, s.columns.get(ALL_TASKS)).open;
    expect(open.tasks.map((t) => t.id)).toEqual(['a', 'c', 'b']);
    expect(open.more).toBe(true);
    // The next page extends the window; its copy of `c` does not replace the live one.
    s = mergeColumns(s, ALL_TASKS, { open: page([task('c', 1, 0, { title: 'stale' }), task('d', 3, 0)], null) });
    const all = columns(s.tasks, { project: null, q: '' }, s.columns.get(ALL_TASKS)).open;
    expect(all.tasks.map((t) => t.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(s.tasks.get('c')!.title).toBe('c');
    expect(all.more).toBe(false);
  });

  it('a fetched page does not bring back a row tombstoned since the snapshot', () => {
    let s = state([], null, [update('u9', 90)], 'more', [], null);
    s = applyFrames(s, [{ type: 'change', cursor: 2, entity: 'update', id: 'u5', row: null }])!;
    s = mergeList(s, 'updates', page([update('u5', 50), update('u4', 40)], null));
    expect([...s.updates.keys()]).toEqual(['u9', 'u4']);
  });
});
