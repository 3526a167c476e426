import { describe, expect, it } from 'vitest';
import type { Project, Task } from '../../src/protocol/models.js';
import { findCycle, rankTasks } from '../../src/core/scheduler.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const DAY = 86_400_000;

function project(id: string, extra: Partial<Project> = {}): Project {
  return { id, name: id, path: null, description: '', weight: 1, archived: false, created_at: new Date(NOW - 100 * DAY).toISOString(), ...extra };
}

function task(id: string, extra: Partial<Task> = {}): Task {
  return {
    id, project_id: 'p', project: 'p', title: id, description: '', priority: 2, status: 'open', status_at: new Date(NOW - DAY).toISOString(), archived: false,
    depends_on: [], blocked_by: [], ready: true, assignment: null, holder: null, created_at: new Date(NOW - DAY).toISOString(), ...extra,
  };
}

describe('rankTasks', () => {
  it('orders by priority, then age', () => {
    const r = rankTasks([task('new', { priority: 1 }), task('urgent', { priority: 0 }), task('old', { priority: 1, created_at: new Date(NOW - 5 * DAY).toISOString() })], [project('p')], { now: NOW });
    expect(r.map((x) => x.task.id)).toEqual(['urgent', 'old', 'new']);
  });

  it('never offers a task that is not ready, or of an archived project', () => {
    const r = rankTasks([task('blocked', { ready: false, blocked_by: ['x'] }), task('ok'), task('gone', { project_id: 'q' })], [project('p'), project('q', { archived: true })], { now: NOW });
    expect(r.map((x) => x.task.id)).toEqual(['ok']);
  });

  it('lets project weight and the session working directory lift tasks', () => {
    const projects = [project('p'), project('heavy', { weight: 4 }), project('here', { path: '/srv/here' })];
    const tasks = [task('plain', { priority: 1 }), task('weighted', { priority: 2, project_id: 'heavy' }), task('local', { priority: 2, project_id: 'here' })];
    expect(rankTasks(tasks, projects, { now: NOW }).map((x) => x.task.id)).toEqual(['weighted', 'plain', 'local']);
    const inHere = rankTasks(tasks, projects, { now: NOW, cwd: '/srv/here/src' });
    expect(inHere.map((x) => x.task.id)).toEqual(['weighted', 'plain', 'local']);
    expect(inHere.find((x) => x.task.id === 'local')!.reasons).toContain('session works in the project path');
    const score = (r: ReturnType<typeof rankTasks>, id: string): number => r.find((x) => x.task.id === id)!.score;
    expect(score(rankTasks(tasks, projects, { now: NOW }), 'local') - score(inHere, 'local')).toBeCloseTo(0.5);
    const elsewhere = rankTasks(tasks, projects, { now: NOW, cwd: '/srv/herefore' });
    expect(elsewhere.find((x) => x.task.id === 'local')!.reasons).not.toContain('session works in the project path');
  });

  it('is deterministic on ties (id order)', () => {
    const r = rankTasks([task('b'), task('a')], [project('p')], { now: NOW });
    expect(r.map((x) => x.task.id)).toEqual(['a', 'b']);
  });
});

describe('findCycle', () => {
  const edges = new Map([['b', ['a']], ['c', ['b']]]);
  it('finds the cycle a new edge would close', () => {
    expect(findCycle(edges, 'a', ['c'])).toEqual(['a', 'c', 'b', 'a']);
  });
  it('allows edges that keep the graph acyclic', () => {
    expect(findCycle(edges, 'c', ['a'])).toBeNull();
    expect(findCycle(edges, 'd', ['c', 'a'])).toBeNull();
  });
});
