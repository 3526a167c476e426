// A realistic, seeded stream of valid Clare events as peers send them (the wire
// envelope), for benchmarks and the crash-safety test. Not a benchmark itself
// (bench/run.mjs runs only *.bench.mjs).
//
// The mix is what a fleet produces: mostly session state changes reported by the
// daemons, task edits and status changes, progress notes, and a trickle of
// projects, assignments, dependencies, groups and broadcasts. Several machines
// write, each with its own HybridClock on a simulated wall clock; edits carry the
// `base` their writer had seen (a few percent stale, so some are concurrent).
// Ids are time-ordered uuidv7s, as Clare makes them.
import { HybridClock } from '../dist/core/hlc.js';

/** mulberry32: small, fast, seeded. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['fix', 'write', 'review', 'ship', 'profile', 'refactor', 'login', 'sync', 'docs', 'ranking', 'deploy', 'cache',
  'the', 'flaky', 'test', 'for', 'gossip', 'daemon', 'dashboard', 'migration', 'index', 'budget', 'agent', 'session'];
const HOSTS = ['desk', 'build', 'laptop', 'gpu-box'];
const SESSION_NAMES = ['api', 'web', 'ops', 'docs', 'infra', 'ml', 'cli', 'ui'];
const STATES = ['working', 'waiting', 'idle'];
const STATUSES = ['open', 'in_progress', 'blocked', 'done'];
const GROUPS = ['all', 'backend', 'frontend', 'night'];

/**
 * Returns `next()`, which yields one valid event envelope per call, in HLC order per origin.
 * @param {{ seed?: number, origins?: number, startMs?: number }} [opts]
 */
export function eventMix(opts = {}) {
  const rnd = prng(opts.seed ?? 1);
  const int = (k) => Math.floor(rnd() * k);
  const pick = (xs) => xs[int(xs.length)];
  const hex = (k) => {
    let s = '';
    for (let i = 0; i < k; i++) s += int(16).toString(16);
    return s;
  };
  let t = opts.startMs ?? Date.UTC(2025, 0, 6, 9, 0, 0);
  const uuidv7 = () => {
    const ms = t.toString(16).padStart(12, '0');
    return `${ms.slice(0, 8)}-${ms.slice(8)}-7${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
  };
  const words = (lo, hi) => Array.from({ length: lo + int(hi - lo + 1) }, () => pick(WORDS)).join(' ');

  const origins = Array.from({ length: opts.origins ?? 3 }, (_, i) => {
    const machine = `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
    const offset = (i % 3) - 1; // ms; clocks a little apart
    return { machine, clock: new HybridClock({ machine, now: () => t + offset }) };
  });
  const projects = [];
  /** Working set of recent tasks: { id, title, priority, status } → HLC each field was last written at. */
  const tasks = [];
  const assignments = [];
  const broadcasts = [];
  const WORKING_SET = 3000;
  const recent = (xs) => xs[Math.max(0, xs.length - 1 - int(Math.min(xs.length, WORKING_SET)))];
  const session = () => ({ host: pick(HOSTS), session: `${pick(SESSION_NAMES)}-${int(5)}` });
  const baseFor = (task, field) => (rnd() < 0.03 ? null : task[field]);

  return function next() {
    t += int(3);
    const o = origins[int(origins.length)];
    const hlc = o.clock.tick();
    const r = rnd() * 100;
    let type;
    let payload;
    let v = 1;
    if (projects.length === 0 || r < 0.5) {
      const id = uuidv7();
      projects.push({ id, weight: hlc, description: hlc });
      type = 'project.created';
      payload = { project_id: id, name: `${pick(WORDS)} ${projects.length}`, path: `/home/me/src/${pick(WORDS)}-${projects.length}`, description: words(0, 12), weight: pick([0.5, 1, 1, 2]) };
    } else if (r < 1.5) {
      const project = pick(projects);
      const field = rnd() < 0.5 ? 'weight' : 'description';
      type = 'project.updated';
      payload = { project_id: project.id, base: baseFor(project, field), fields: field === 'weight' ? { weight: pick([0.5, 1, 2, 3]) } : { description: words(3, 20) } };
      project[field] = hlc;
    } else if (tasks.length < 20 || r < 13.5) {
      const id = uuidv7();
      const deps = tasks.length > 0 && rnd() < 0.2 ? [recent(tasks).id] : [];
      tasks.push({ id, title: hlc, priority: hlc, status: hlc, description: hlc });
      type = 'task.created';
      v = 2;
      payload = { task_id: id, project_id: pick(projects).id, title: words(3, 8), description: words(0, 40), priority: int(5), depends_on: deps };
    } else if (r < 27.5) {
      const task = recent(tasks);
      const field = pick(['title', 'priority', 'description']);
      type = 'task.updated';
      payload = { task_id: task.id, base: baseFor(task, field), fields: field === 'title' ? { title: words(3, 8) } : field === 'priority' ? { priority: int(5) } : { description: words(5, 40) } };
      task[field] = hlc;
    } else if (r < 41.5) {
      const task = recent(tasks);
      type = 'task.status_changed';
      payload = { task_id: task.id, base: baseFor(task, 'status'), status: pick(STATUSES), ...(rnd() < 0.3 ? { note: words(3, 15) } : {}) };
      task.status = hlc;
    } else if (r < 44.5) {
      const a = recent(tasks);
      const b = recent(tasks);
      type = a.id === b.id || rnd() < 0.7 ? 'task.dependency_added' : 'task.dependency_removed';
      payload = { task_id: a.id, depends_on: a.id === b.id ? tasks[0].id : b.id };
    } else if (r < 45.5) {
      type = 'task.archived';
      payload = { task_id: recent(tasks).id };
    } else if (r < 48.5) {
      const id = uuidv7();
      assignments.push(id);
      type = 'assignment.created';
      payload = { assignment_id: id, task_id: recent(tasks).id, ...session() };
    } else if (r < 51.5 && assignments.length > 0) {
      const id = assignments[Math.max(0, assignments.length - 1 - int(50))];
      const x = rnd();
      type = x < 0.8 ? 'assignment.delivered' : x < 0.95 ? 'assignment.failed' : 'assignment.removed';
      payload = type === 'assignment.failed' ? { assignment_id: id, error: 'rclaude: session not found' } : { assignment_id: id };
    } else if (r < 57.5) {
      type = 'session.seen';
      payload = { ...session(), cwd: `/home/me/src/${pick(WORDS)}`, state: pick(STATES), last_activity: new Date(t).toISOString() };
    } else if (r < 82.5) {
      type = 'session.changed';
      payload = { ...session(), fields: rnd() < 0.7 ? { state: pick(STATES), last_activity: new Date(t).toISOString() } : { last_activity: new Date(t).toISOString() } };
    } else if (r < 84.5) {
      type = 'session.gone';
      payload = session();
    } else if (r < 96.5) {
      const s = session();
      type = 'update.posted';
      payload = { update_id: uuidv7(), text: words(5, 50), task_id: rnd() < 0.8 ? recent(tasks).id : null, host: s.host, session: s.session };
    } else if (r < 97) {
      const id = uuidv7();
      broadcasts.push(id);
      type = 'broadcast.sent';
      payload = { update_id: id, group: pick(GROUPS), text: words(4, 20), ttl_s: pick([null, 3600, 86_400]) };
    } else if (r < 99 && broadcasts.length > 0) {
      type = 'broadcast.receipt';
      payload = { update_id: broadcasts[Math.max(0, broadcasts.length - 1 - int(5))], ...session(), status: pick(['delivered', 'delivered', 'failed']), detail: null };
    } else if (r < 99.9) {
      const add = rnd() < 0.7;
      type = rnd() < 0.2 ? 'group.created' : add ? 'group.member_added' : 'group.member_removed';
      payload = type === 'group.created' ? { group: pick(GROUPS) } : { group: pick(GROUPS), pattern: `${pick(HOSTS)}:${pick(['*', 'api-*', 'web-?'])}` };
    } else {
      type = 'machine.named';
      payload = { name: pick(HOSTS) };
    }
    return { id: uuidv7(), hlc, origin: o.machine, type, v, payload };
  };
}
