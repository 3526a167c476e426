// What a pull records: events only for what changed, and the last_activity volume rule.
import { describe, expect, it } from 'vitest';
import { diffSessions, LAST_ACTIVITY_RESOLUTION_MS } from '../../src/core/fleet/session-diff.js';
import type { ListedSession } from '../../src/core/fleet/rclaude.js';
import type { Session } from '../../src/protocol/models.js';
import type { SessionState } from '../../src/protocol/models.js';

const T0 = Date.parse('2026-11-22T04:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

function known(session: string, state: SessionState, activityMs: number, extra: Partial<Session> = {}): Session {
  return { key: `desk:${session}`, host: 'desk', session, cwd: '/src', state, last_activity: at(activityMs), gone: false, task_id: null, ...extra };
}
function listed(session: string, state: SessionState, activityMs: number, cwd = '/src'): ListedSession {
  return { host: 'desk', session, cwd, state, last_activity: at(activityMs) };
}

describe('diffSessions', () => {
  it('an unchanged listing gives no events', () => {
    const d = diffSessions([known('a', 'idle', 0), known('b', 'working', 5)], [listed('a', 'idle', 0), listed('b', 'working', 5)]);
    expect(d).toEqual({ drafts: [], appeared: 0, changed: 0, gone: 0 });
  });

  it('new and reappeared sessions are seen; missing ones gone (once); gone ones stay quiet', () => {
    const d = diffSessions(
      [known('old', 'idle', 0), known('back', 'idle', 0, { gone: true }), known('dead', 'idle', 0, { gone: true })],
      [listed('new', 'idle', 1), listed('back', 'working', 2)],
    );
    expect(d.appeared).toBe(2);
    expect(d.gone).toBe(1);
    expect(d.drafts).toEqual([
      { type: 'session.seen', payload: { host: 'desk', session: 'new', cwd: '/src', state: 'idle', last_activity: at(1) } },
      { type: 'session.seen', payload: { host: 'desk', session: 'back', cwd: '/src', state: 'working', last_activity: at(2) } },
      { type: 'session.gone', payload: { host: 'desk', session: 'old' } },
    ]);
  });

  it('a state or cwd change records only the changed fields, last_activity riding along', () => {
    const d = diffSessions([known('a', 'working', 0), known('b', 'idle', 0)], [listed('a', 'idle', 1000), listed('b', 'idle', 0, '/elsewhere')]);
    expect(d.changed).toBe(2);
    expect(d.drafts).toEqual([
      { type: 'session.changed', payload: { host: 'desk', session: 'a', fields: { state: 'idle', last_activity: at(1000) } } },
      { type: 'session.changed', payload: { host: 'desk', session: 'b', fields: { cwd: '/elsewhere' } } },
    ]);
  });

  it('last_activity alone: never while working; otherwise only when it moved a minute or more', () => {
    const r = LAST_ACTIVITY_RESOLUTION_MS;
    expect(diffSessions([known('w', 'working', 0)], [listed('w', 'working', 10 * r)]).drafts).toEqual([]);
    expect(diffSessions([known('i', 'idle', 0)], [listed('i', 'idle', r - 1)]).drafts).toEqual([]);
    expect(diffSessions([known('i', 'idle', 0)], [listed('i', 'idle', r)]).drafts).toEqual([
      { type: 'session.changed', payload: { host: 'desk', session: 'i', fields: { last_activity: at(r) } } },
    ]);
  });

  it('a busy agent polled every 10 s for an hour costs no events until its state changes', () => {
    let rows = [known('busy', 'working', 0)];
    let events = 0;
    for (let t = 10_000; t <= 3_600_000; t += 10_000) {
      const d = diffSessions(rows, [listed('busy', 'working', t)]);
      events += d.drafts.length;
      expect(d.drafts).toEqual([]);
    }
    const done = diffSessions(rows, [listed('busy', 'idle', 3_600_000)]);
    events += done.drafts.length;
    rows = [known('busy', 'idle', 3_600_000)];
    expect(events).toBe(1);
    expect(diffSessions(rows, [listed('busy', 'idle', 3_600_000)]).drafts).toEqual([]);
  });
});
