/**
 * The text typed into an agent session: an assignment (what the task is, where,
 * and how to report back with the clare CLI) or a broadcast. Always one line:
 * `rclaude send` presses Enter after the text, and a newline inside it would submit
 * a half-typed instruction.
 */
import type { Project, Task } from '../../protocol/models.js';

/** Longest description typed in full; longer ones point at `clare task show`. */
export const MAX_DESCRIPTION_CHARS = 2000;

/** One line: line breaks become " / ", other whitespace runs one space. */
export function oneLine(text: string): string {
  return text.trim().replace(/\s*[\r\n]+\s*/g, ' / ').replace(/[^\S\r\n]+/g, ' ');
}

/** The instruction for an assigned task. */
export function assignmentMessage(task: Task, project: Project | null): string {
  const where = project === null
    ? ''
    : ` in project ${project.name}${project.path === null ? '' : ` (${project.path})`}`;
  let desc = oneLine(task.description);
  if (desc.length > MAX_DESCRIPTION_CHARS) desc = `${desc.slice(0, MAX_DESCRIPTION_CHARS)}… (full text: clare task show ${task.id})`;
  return oneLine([
    `[clare] You are assigned task ${task.id}: ${task.title}${where}.`,
    desc === '' ? '' : `Details: ${desc}`,
    `Report progress with: clare update --task ${task.id} "what you did".`,
    `When it is finished: clare task done ${task.id}`,
  ].filter((p) => p !== '').join(' '));
}

/** The line typed for a broadcast to `group`. */
export function broadcastMessage(group: string, text: string): string {
  return oneLine(`[clare broadcast to ${group}] ${text}`);
}

/** The line typed into a session whose claim on `task` lost to `winner` when the machines merged. */
export function claimLostMessage(task: Task, winner: string | null): string {
  return oneLine([
    `[clare] Your claim on task ${task.id} (${task.title}) lost:`,
    winner === null ? 'another session claimed it first while the machines were apart.' : `${winner} claimed it first while the machines were apart.`,
    'Stop working on it and post what you did: clare update --task ' + task.id + ' "…".',
    'Then pick other work: clare next --session',
  ].join(' '));
}
