// `next` reads its candidates on the rank index (task-queries.ts readyCandidates,
// schema migration 6) instead of scoring every ready task. The law: on any history,
// for any time, session directory, project filter and limit, the candidates ranked by
// the scheduler give exactly the tasks the scheduler ranks first among all tasks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/core/db.js';
import { EVENT_CATALOG, type EventDraft } from '../../src/core/events/catalog.js';
import { formatHlc, HybridClock } from '../../src/core/hlc.js';
import { newMachineId, type MachineId, type ProjectId, type TaskId } from '../../src/core/ids.js';
import { projectsByIds, projectsHolding, tasksByIds } from '../../src/core/queries.js';
import { rankTasks } from '../../src/core/scheduler.js';
import { ingest } from '../../src/core/store.js';
import { readyCandidates } from '../../src/core/task-queries.js';
import { fixedUuid, historyArb, SIM_T0 } from '../helpers/event-gen.js';

const RUNS = Number(process.env.FC_RUNS ?? 40);
const DAY = 86_400_000;
const PEER = fixedUuid(0xa0, 9) as MachineId;
const PATHS = ['/home/me/src/clare', '/srv/api', null] as const;

/** The scheduler's order of every task against readyCandidates' (re-ranked), for one query. */
function compare(db: Db, q: { now: number; cwd: string | null; project: number | null; limit: number }): void {
  const ids = db.prepare('SELECT id FROM tasks WHERE created = 1 ORDER BY id').pluck().all() as string[];
  const projectIds = db.prepare('SELECT id FROM projects ORDER BY id').pluck().all() as string[];
  const projectId = q.project === null ? undefined : projectIds[q.project];
  const projects = [...projectsByIds(db, projectIds).values()];
  const all = [...tasksByIds(db, ids).values()].filter((t) => projectId === undefined || t.project_id === projectId);
  const expected = rankTasks(all, projects, { now: q.now, cwd: q.cwd }).slice(0, q.limit).map((r) => r.task.id);
  const near = q.cwd === null ? [] : projectsHolding(db, q.cwd);
  const candidates = readyCandidates(db, { projectId, now: q.now, limit: q.limit, nearProjects: near });
  expect(candidates.length).toBeLessThanOrEqual(q.limit);
  expect(rankTasks(candidates, projects, { now: q.now, cwd: q.cwd }).map((r) => r.task.id)).toEqual(expected);
}

describe('ready candidates', () => {
  it('the best-ranked candidates are the best-ranked of all tasks', () => {
    const query = fc.record({
      // Before the history, in it, and past the 30-day age cap.
      now: fc.integer({ min: SIM_T0 - DAY, max: SIM_T0 + 60 * DAY }),
      cwd: fc.option(fc.constantFrom('/home/me/src/clare', '/home/me/src/clare/ui', '/srv/api', '/home/me/notes', '/elsewhere'), { nil: null }),
      project: fc.option(fc.nat(2), { nil: null }),
      limit: fc.integer({ min: 1, max: 7 }),
    });
    fc.assert(fc.property(historyArb({ maxCommands: 60 }), query, (h, q) => {
      const db = openDb(':memory:');
      try {
        const clock = new HybridClock({ machine: newMachineId() });
        for (let i = 0; i < h.events.length; i += 50) ingest(db, clock, h.events.slice(i, i + 50));
        compare(db, q);
      } finally {
        db.close();
      }
    }), { numRuns: RUNS });
  });

  // Histories span minutes, so their age terms hardly differ: here tasks are weeks
  // apart, in projects of every weight, some archived, so an older task of a worse
  // priority can beat a young one of a better priority, and the walk over rank_bases
  // must not stop early.
  it('holds when ages, weights and archived projects decide', () => {
    const rarely = fc.nat(9).map((n) => n === 0);
    const store = fc.record({
      projects: fc.array(fc.record({ weight: fc.constantFrom(0.5, 1, 2, 3.5), path: fc.constantFrom(...PATHS), archived: rarely } as const), { minLength: 1, maxLength: 4 }),
      tasks: fc.array(fc.record({ project: fc.nat(3), priority: fc.integer({ min: 0, max: 4 }), ageDays: fc.integer({ min: 0, max: 45 }), done: rarely }), { minLength: 2, maxLength: 30 }),
    });
    const query = fc.record({
      now: fc.integer({ min: SIM_T0 + 40 * DAY, max: SIM_T0 + 50 * DAY }),
      cwd: fc.option(fc.constantFrom('/home/me/src/clare/ui', '/srv/api'), { nil: null }),
      project: fc.option(fc.nat(3), { nil: null }),
      limit: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(fc.property(store, query, (st, q) => {
      const db = openDb(':memory:');
      try {
        const clock = new HybridClock({ machine: newMachineId() });
        let counter = 0;
        const put = (ms: number, d: EventDraft): void => {
          ingest(db, clock, [{ id: crypto.randomUUID(), hlc: formatHlc({ ms, counter: counter++, machine: PEER }), origin: PEER, type: d.type, v: EVENT_CATALOG[d.type].v, payload: d.payload }]);
        };
        const pids = st.projects.map((_, i) => fixedUuid(0x01, i) as ProjectId);
        st.projects.forEach((p, i) => {
          put(SIM_T0, { type: 'project.created', payload: { project_id: pids[i]!, name: `p${i}`, path: p.path, description: '', weight: p.weight } });
          if (p.archived) put(SIM_T0 + 1, { type: 'project.archived', payload: { project_id: pids[i]! } });
        });
        st.tasks.forEach((t, i) => {
          const id = fixedUuid(0x02, i) as TaskId;
          const ms = SIM_T0 + 40 * DAY - t.ageDays * DAY;
          put(ms, { type: 'task.created', payload: { task_id: id, project_id: pids[t.project % pids.length]!, title: `t${i}`, description: '', priority: t.priority, depends_on: [] } });
          if (t.done) put(ms + 1, { type: 'task.status_changed', payload: { task_id: id, base: null, status: 'done' } });
        });
        compare(db, { ...q, project: q.project === null ? null : q.project % pids.length });
      } finally {
        db.close();
      }
    }), { numRuns: RUNS * 5 });
  });
});
