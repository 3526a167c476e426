import type { Argv } from 'yargs';
import type { Project } from '../../protocol/models.js';
import { api, daemonTarget, seg } from '../client.js';
import { printJson, printTable, short, truncate } from '../output.js';
import { fetchPage, pageOptions, printMore } from '../paging.js';
import { absolutePathFlag, textFlag, WEIGHT_FLAG } from '../flags.js';
import { run } from '../run.js';
import type { CreateProjectBody, UpdateProjectBody } from '../../protocol/inputs.js';

function show(p: Project, json: boolean): void {
  if (json) return printJson(p);
  printTable(['ID', 'NAME', 'PATH', 'WEIGHT', 'ARCHIVED'], [[short(p.id), p.name, p.path ?? '-', String(p.weight), p.archived ? 'yes' : 'no']]);
}

export function projectCommands(y: Argv<{ json: boolean }>): Argv<{ json: boolean }> {
  return y
    .command('add <name>', 'Create a project', (c) => c
      .positional('name', { type: 'string', demandOption: true, describe: 'project name (unique)' })
      .option('path', { type: 'string', coerce: absolutePathFlag('path'), describe: 'absolute working directory of the project' })
      .option('description', { type: 'string', describe: 'what the project is' })
      .option('weight', { ...WEIGHT_FLAG, describe: 'ranking weight, 1 neutral, 2 doubles urgency' }),
    (a) => run(a, async () => {
      const p = await api<Project>(await daemonTarget(), 'POST', '/projects', {
        name: a.name, ...(a.path === undefined ? {} : { path: a.path }), ...(a.description === undefined ? {} : { description: a.description }), ...(a.weight === undefined ? {} : { weight: a.weight }),
      } satisfies CreateProjectBody);
      show(p, a.json);
    }))
    .command('list', 'List projects by name, a page at a time (--all for every page)', (c) => pageOptions(c
      .option('archived', { type: 'boolean', default: false, describe: 'include archived projects' })
      .option('search', { alias: 'q', type: 'string', coerce: textFlag('search'), describe: 'only projects whose name holds this text' })),
    (a) => run(a, async () => {
      const q = new URLSearchParams();
      if (a.archived) q.set('archived', 'true');
      if (a.search !== undefined) q.set('q', a.search);
      const page = await fetchPage<Project>(await daemonTarget(), '/projects', q, a);
      if (a.json) return printJson(page);
      printTable(['ID', 'NAME', 'PATH', 'WEIGHT', 'DESCRIPTION'], page.items.map((p) => [short(p.id, page.items.map((x) => x.id)), p.name + (p.archived ? ' (archived)' : ''), p.path ?? '-', String(p.weight), truncate(p.description, 40)]), 'no projects yet: clare project add NAME --path DIR');
      printMore(page);
    }))
    .command('show <project>', 'Show one project', (c) => c.positional('project', { type: 'string', demandOption: true }),
      (a) => run(a, async () => show(await api<Project>(await daemonTarget(), 'GET', `/projects/${seg(a.project)}`), a.json)))
    .command('update <project>', 'Change a project', (c) => c
      .positional('project', { type: 'string', demandOption: true })
      .option('name', { type: 'string', coerce: textFlag('name') }).option('path', { type: 'string', coerce: absolutePathFlag('path') }).option('description', { type: 'string' }).option('weight', { ...WEIGHT_FLAG, describe: 'ranking weight, 1 neutral, 2 doubles urgency' }),
    (a) => run(a, async () => {
      const body = { ...(a.name === undefined ? {} : { name: a.name }), ...(a.path === undefined ? {} : { path: a.path }), ...(a.description === undefined ? {} : { description: a.description }), ...(a.weight === undefined ? {} : { weight: a.weight }) } satisfies UpdateProjectBody;
      show(await api<Project>(await daemonTarget(), 'PATCH', `/projects/${seg(a.project)}`, body), a.json);
    }))
    .command('archive <project>', 'Archive a project (cannot be undone)', (c) => c.positional('project', { type: 'string', demandOption: true }),
      (a) => run(a, async () => show(await api<Project>(await daemonTarget(), 'PATCH', `/projects/${seg(a.project)}`, { archived: true } satisfies UpdateProjectBody), a.json)))
    .demandCommand(1, 'clare project: say add, list, show, update or archive');
}
