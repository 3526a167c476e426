// The dashboard's URL filters and their rules (src/ui/filters.ts): a hash is input,
// so bad values are dropped; filters round-trip through the URL; sessions sort
// waiting-first; and "started waiting" is a transition, not a state.
import { describe, expect, it } from 'vitest';
import { byUrgency, filtersFromHash, hashFor, NO_FILTERS, newlyWaiting, sessionMatches, taskMatches } from '../../src/ui/filters.js';
import type { Session, Task } from '../../src/protocol/models.js';

const session = (key: string, state: Session['state'], over: Partial<Session> = {}): Session => {
  const [host, name] = key.split(':') as [string, string];
  return { key, host, session: name, cwd: `/src/${name}`, state, last_activity: null, gone: false, task_id: null, ...over };
};

const task = (over: Partial<Task>): Task => ({
  id: '0190f5e2-0000-7000-8000-00000000abcd', project_id: 'p1', project: 'api', title: 'Rate limiter', description: 'token bucket', priority: 1,
  status: 'open', status_at: '2026-01-01T00:00:00.000Z', archived: false, depends_on: [], blocked_by: [], ready: true, assignment: null, holder: null,
  created_at: '2026-01-01T00:00:00.000Z', ...over,
});

describe('URL filters', () => {
  it('round-trip through the hash, and drop what is not a filter', () => {
    const f = { ...NO_FILTERS, q: 'rate limit', priority: '0', state: 'waiting', host: 'desk' };
    expect(hashFor('fleet', f)).toBe('#/fleet?q=rate+limit&host=desk&priority=0&state=waiting');
    expect(filtersFromHash(hashFor('fleet', f))).toEqual(f);
    expect(hashFor('board', NO_FILTERS)).toBe('#/board');
    expect(filtersFromHash('#/board?priority=9&state=%3Cscript%3E&evil=1')).toEqual(NO_FILTERS);
    expect(filtersFromHash('#/board').q).toBe('');
    expect(filtersFromHash(`#/board?q=${'x'.repeat(500)}`).q).toHaveLength(200);
  });

  it('match tasks by search, priority, state, host and session', () => {
    const t = task({ assignment: { id: 'a', task_id: 'x', host: 'desk', session: 'api-1', delivery: 'delivered', error: null } as unknown as Task['assignment'] });
    expect(taskMatches(t, { ...NO_FILTERS, q: 'BUCKET' })).toBe(true);
    expect(taskMatches(t, { ...NO_FILTERS, q: 'abcd' })).toBe(true); // the short id
    expect(taskMatches(t, { ...NO_FILTERS, priority: '0' })).toBe(false);
    expect(taskMatches(t, { ...NO_FILTERS, state: 'done' })).toBe(false);
    expect(taskMatches(t, { ...NO_FILTERS, host: 'desk', session: 'desk:api-1' })).toBe(true);
    expect(taskMatches(task({}), { ...NO_FILTERS, host: 'desk' })).toBe(false);
  });

  it('match sessions by name, folder, task title and state', () => {
    const s = session('desk:api-1', 'idle');
    expect(sessionMatches(s, { ...NO_FILTERS, q: 'src/api' })).toBe(true);
    expect(sessionMatches(s, { ...NO_FILTERS, q: 'limiter' }, 'Rate limiter')).toBe(true);
    expect(sessionMatches(s, { ...NO_FILTERS, state: 'waiting' })).toBe(false);
    expect(sessionMatches(s, { ...NO_FILTERS, host: 'build' })).toBe(false);
  });
});

describe('waiting sessions', () => {
  it('sort first, gone ones last', () => {
    const xs = [session('d:a', 'idle'), session('d:b', 'waiting', { gone: true }), session('d:c', 'working'), session('d:d', 'waiting')];
    expect(xs.sort(byUrgency).map((s) => s.key)).toEqual(['d:d', 'd:c', 'd:a', 'd:b']);
  });

  it('notify on the transition into waiting only, never for the first snapshot', () => {
    const m = (...xs: Session[]): Map<string, Session> => new Map(xs.map((s) => [s.key, s]));
    const first = m(session('d:a', 'waiting'), session('d:b', 'working'));
    expect(newlyWaiting(null, first)).toEqual([]);
    const second = m(session('d:a', 'waiting'), session('d:b', 'waiting'), session('d:c', 'waiting'));
    expect(newlyWaiting(first, second).map((s) => s.key)).toEqual(['d:b', 'd:c']);
    expect(newlyWaiting(second, second)).toEqual([]);
    expect(newlyWaiting(second, m(session('d:a', 'waiting', { gone: true })))).toEqual([]);
  });
});
