/**
 * Task ranking: a pure function of the tasks, their projects, the session asking
 * and the time. No database, no clock of its own, so it is tested exhaustively.
 *
 * Score (lower ranks first):
 *   priority                       0 most urgent … 4
 *   − log2(project weight)         weight 2 gains one priority step, 0.5 loses one
 *   − 0.5 if the session's cwd is inside the project's path
 *   − 0.5 × min(age, 30 days) / 30 days   older work slowly rises
 * Ties: older first, then id. Only ready tasks are ranked: open, not archived, not
 * assigned, every dependency done (a task with an open dependency is never offered).
 */
import type { Project, Task } from '../protocol/models.js';

export interface RankContext {
  readonly now: number;
  /** Working directory of the session asking, to prefer its project's tasks. */
  readonly cwd?: string | null;
}

export interface RankedTask {
  readonly task: Task;
  readonly score: number;
  readonly reasons: string[];
}

const DAY_MS = 86_400_000;

function inside(cwd: string, path: string): boolean {
  const p = path.endsWith('/') ? path : `${path}/`;
  return cwd === path || cwd.startsWith(p);
}

/** Ranks the ready tasks among `tasks`, best first. */
export function rankTasks(tasks: readonly Task[], projects: readonly Project[], ctx: RankContext): RankedTask[] {
  const byId = new Map(projects.map((p) => [p.id, p]));
  const ranked: RankedTask[] = [];
  for (const task of tasks) {
    if (!task.ready) continue;
    const project = byId.get(task.project_id);
    if (project === undefined || project.archived) continue;
    const reasons = [`priority ${task.priority}`];
    let score = task.priority;
    if (project.weight !== 1) {
      score -= Math.log2(project.weight);
      reasons.push(`project weight ${project.weight}`);
    }
    if (ctx.cwd != null && project.path !== null && inside(ctx.cwd, project.path)) {
      score -= 0.5;
      reasons.push('session works in the project path');
    }
    const ageMs = Math.max(0, ctx.now - Date.parse(task.created_at));
    score -= (0.5 * Math.min(ageMs, 30 * DAY_MS)) / (30 * DAY_MS);
    ranked.push({ task, score, reasons });
  }
  return ranked.sort((a, b) => a.score - b.score || a.task.created_at.localeCompare(b.task.created_at) || a.task.id.localeCompare(b.task.id));
}

/**
 * Whether adding edges `from → to` (from depends on to) would close a cycle in the
 * dependency graph `edges` (task → tasks it depends on; a map, or a reader that looks
 * edges up one task at a time). Returns the cycle path if so.
 */
export function findCycle(edges: { get(task: string): readonly string[] | undefined }, from: string, to: readonly string[]): string[] | null {
  for (const start of to) {
    // A cycle exists iff `from` is reachable from `start`.
    const stack: string[][] = [[start]];
    const seen = new Set<string>();
    for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
      const node = path.at(-1) ?? start;
      if (node === from) return [from, ...path];
      if (seen.has(node)) continue;
      seen.add(node);
      for (const next of edges.get(node) ?? []) stack.push([...path, next]);
    }
  }
  return null;
}
