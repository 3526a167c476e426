import type { Argv } from 'yargs';
import type { Task, TaskStatus } from '../../protocol/models.js';
import { api, daemonTarget, seg } from '../client.js';
import { type Cell, printJson, printTable, short, truncate } from '../output.js';
import { stateStyle } from '../colour.js';
import { fetchPage, pageOptions, printMore } from '../paging.js';
import { choiceFlag, PRIORITY_FLAG, TASK_STATUS_CHOICES, textFlag } from '../flags.js';
import { run } from '../run.js';
import { TASK_ADD, TASK_START, taskStatusVerb } from '../hot-verbs.js';
import type { CreateTaskBody, DependencyBody, StartTaskBody, UpdateTaskBody } from '../../protocol/inputs.js';

/** A task as a table row; `among`: the ids of the rows printed with it (short ids unique among them); `mark`: added to the state. */
export function taskRow(t: Task, among: readonly string[] = [], mark = ''): Cell[] {
  const state = (t.archived ? 'archived' : t.status === 'open' && t.blocked_by.length > 0 ? `waiting(${t.blocked_by.length})` : t.status) + mark;
  const who = t.holder !== null ? `${t.holder.host}:${t.holder.session}` : t.assignment === null ? '-' : `${t.assignment.host}:${t.assignment.session}`;
  return [short(t.id, among), { text: `P${t.priority}`, style: t.priority === 0 ? 'red' : undefined }, { text: state, style: stateStyle(state) }, t.project ?? short(t.project_id), truncate(t.title, 60), who];
}

export const TASK_HEADER = ['ID', 'PRI', 'STATUS', 'PROJECT', 'TITLE', 'SESSION'];

function show(t: Task, json: boolean): void {
  if (json) return printJson(t);
  printTable(TASK_HEADER, [taskRow(t)]);
  if (t.depends_on.length > 0) process.stdout.write(`depends on: ${t.depends_on.map((d) => short(d, t.depends_on)).join(', ')}${t.blocked_by.length > 0 ? ` (waiting for ${t.blocked_by.map((d) => short(d, t.depends_on)).join(', ')})` : ''}\n`);
  if (t.description !== '') process.stdout.write(`\n${t.description}\n`);
}

/** `clare task add` (also run by the fast path, fast-path.ts, with the same arguments). */
export interface AddTaskArgs { readonly json: boolean; readonly project: string; readonly title: string; readonly priority?: number | undefined; readonly dependsOn?: readonly string[] | undefined; readonly description?: string | undefined }
export function addTask(a: AddTaskArgs): Promise<void> {
  return run(a, async () => {
    const t = await api<Task>(await daemonTarget(), 'POST', '/tasks', {
      project: a.project, title: a.title,
      ...(a.priority === undefined ? {} : { priority: a.priority }),
      ...(a.dependsOn === undefined ? {} : { depends_on: [...a.dependsOn] }),
      ...(a.description === undefined ? {} : { description: a.description }),
    } satisfies CreateTaskBody);
    show(t, a.json);
  });
}

/** `clare task done|block|reopen`. */
export interface TaskStatusArgs { readonly json: boolean; readonly task: string; readonly note?: string | undefined }
export function setTaskStatus(a: TaskStatusArgs, status: TaskStatus): Promise<void> {
  return run(a, async () => show(await api<Task>(await daemonTarget(), 'PATCH', `/tasks/${seg(a.task)}`, { status, ...(a.note === undefined ? {} : { note: a.note }) } satisfies UpdateTaskBody), a.json));
}

/** `clare task start`. */
export interface StartTaskArgs { readonly json: boolean; readonly task: string; readonly session?: string | undefined; readonly force: boolean; readonly note?: string | undefined }
export function startTask(a: StartTaskArgs): Promise<void> {
  return run(a, async () => {
    const session = a.session ?? process.env['CLARE_SESSION'];
    const body = {
      ...(session === undefined || session === '' ? {} : { session }), ...(a.force ? { force: true } : {}), ...(a.note === undefined ? {} : { note: a.note }),
    } satisfies StartTaskBody;
    show(await api<Task>(await daemonTarget(), 'POST', `/tasks/${seg(a.task)}/start`, body), a.json);
  });
}

function statusCommand(y: Argv<{ json: boolean }>, name: string, status: TaskStatus, describe: string): Argv<{ json: boolean }> {
  const spec = taskStatusVerb(name);
  return y.command(`${name} <task>`, describe, (c) => c.positional('task', spec.positionals.task).options(spec.options),
    (a) => setTaskStatus(a, status));
}

export function taskCommands(y: Argv<{ json: boolean }>): Argv<{ json: boolean }> {
  let c = y
    .command('add <project> <title>', 'Create a task', (c) => c
      .positional('project', TASK_ADD.positionals.project).positional('title', TASK_ADD.positionals.title).options(TASK_ADD.options),
    (a) => addTask(a))
    .command('list [project]', 'List tasks, a page at a time (oldest first; --all for every page)', (c) => pageOptions(c
      .positional('project', { type: 'string', describe: 'only this project' })
      .option('status', choiceFlag('status', TASK_STATUS_CHOICES))
      .option('ready', { type: 'boolean', describe: 'only tasks that could start now' })
      .option('search', { alias: 'q', type: 'string', coerce: textFlag('search'), describe: 'only tasks whose title holds this text' })
      .option('order', { ...choiceFlag('order', ['created', 'urgency', 'recent']), describe: 'created (default): oldest first; urgency: priority, then oldest; recent: newest status change first' })
      .option('archived', { type: 'boolean', default: false, describe: 'include archived tasks' })),
    (a) => run(a, async () => {
      const q = new URLSearchParams();
      if (a.project !== undefined) q.set('project', a.project);
      if (a.status !== undefined) q.set('status', a.status);
      if (a.ready !== undefined) q.set('ready', String(a.ready));
      if (a.search !== undefined) q.set('q', a.search);
      if (a.order !== undefined) q.set('order', a.order);
      if (a.archived) q.set('archived', 'true');
      const page = await fetchPage<Task>(await daemonTarget(), '/tasks', q, a);
      if (a.json) return printJson(page);
      printTable(TASK_HEADER, page.items.map((t) => taskRow(t, page.items.map((x) => x.id))), 'no tasks');
      printMore(page);
    }))
    .command('show <task>', 'Show one task', (c) => c.positional('task', { type: 'string', demandOption: true }),
      (a) => run(a, async () => show(await api<Task>(await daemonTarget(), 'GET', `/tasks/${seg(a.task)}`), a.json)))
    .command('update <task>', 'Change a task', (c) => c
      .positional('task', { type: 'string', demandOption: true })
      .option('title', { type: 'string', coerce: textFlag('title') }).option('description', { type: 'string' }).option('priority', { ...PRIORITY_FLAG, describe: '0 most urgent … 4' })
      .option('project', { type: 'string', coerce: textFlag('project'), describe: 'move to another project' })
      .option('status', choiceFlag('status', TASK_STATUS_CHOICES)),
    (a) => run(a, async () => {
      const body = {
        ...(a.title === undefined ? {} : { title: a.title }), ...(a.description === undefined ? {} : { description: a.description }),
        ...(a.priority === undefined ? {} : { priority: a.priority }), ...(a.project === undefined ? {} : { project: a.project }),
        ...(a.status === undefined ? {} : { status: a.status }),
      } satisfies UpdateTaskBody;
      show(await api<Task>(await daemonTarget(), 'PATCH', `/tasks/${seg(a.task)}`, body), a.json);
    }))
    .command('depend <task> <depends-on>', 'Make a task wait for another (refuses cycles)', (c) => c
      .positional('task', { type: 'string', demandOption: true }).positional('depends-on', { type: 'string', demandOption: true })
      .option('remove', { type: 'boolean', default: false, describe: 'remove the dependency instead' }),
    (a) => run(a, async () => show(await api<Task>(await daemonTarget(), 'POST', `/tasks/${seg(a.task)}/dependencies`, { depends_on: a.dependsOn, remove: a.remove } satisfies DependencyBody), a.json)))
    .command('archive <task>', 'Archive a task', (c) => c.positional('task', { type: 'string', demandOption: true }),
      (a) => run(a, async () => show(await api<Task>(await daemonTarget(), 'PATCH', `/tasks/${seg(a.task)}`, { archived: true } satisfies UpdateTaskBody), a.json)));
  c = statusCommand(c, 'done', 'done', 'Mark a task done (its session is then free for new work)');
  c = c.command('start <task>', 'Start a task; with a session (--session or $CLARE_SESSION) that session claims it', (c) => c
    .positional('task', TASK_START.positionals.task).options(TASK_START.options),
  (a) => startTask(a));
  c = statusCommand(c, 'block', 'blocked', 'Mark a task blocked (its holder keeps it)');
  c = statusCommand(c, 'reopen', 'open', 'Reopen a task (back among the ready ones: its holder and assignment end)');
  return c.demandCommand(1, 'clare task: say add, list, show, update, done, start, block, reopen, depend or archive');
}
