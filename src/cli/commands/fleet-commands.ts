import type { Argv } from 'yargs';
import type { Assignment, Group, Update } from '../../protocol/models.js';
import type { StatusDoc } from '../../protocol/status.js';
import type { RankedTask } from '../../protocol/ranked-task.js';
import { api, daemonTarget, seg } from '../client.js';
import { ago, duration } from '../../protocol/time.js';
import { type Cell, printJson, printTable, short, truncate } from '../output.js';
import { stateStyle } from '../colour.js';
import { fetchPage, pageOptions, printMore } from '../paging.js';
import { run } from '../run.js';
import { NEXT, UPDATE } from '../hot-verbs.js';
import { choiceFlag, textFlag, TTL_FLAG } from '../flags.js';
import { TASK_HEADER, taskRow } from './task-commands.js';
import type { BroadcastBody, CreateAssignmentBody, CreateGroupBody, PostUpdateBody, UpdateGroupBody } from '../../protocol/inputs.js';



/** `clare next` (also run by the fast path, fast-path.ts, with the same arguments). */
export interface NextArgs { readonly json: boolean; readonly session?: string | undefined; readonly project?: string | undefined; readonly limit?: number | undefined }
export function nextTasks(a: NextArgs): Promise<void> {
  return run(a, async () => {
    const q = new URLSearchParams({ limit: String(a.limit ?? NEXT.options.limit.default) });
    const session = a.session ?? process.env['CLARE_SESSION'];
    if (session !== undefined && session !== '') q.set('session', session);
    if (a.project !== undefined) q.set('project', a.project);
    const ts = await api<RankedTask[]>(await daemonTarget(), 'GET', `/tasks/next?${q.toString()}`);
    if (a.json) return printJson(ts);
    printTable(TASK_HEADER, ts.map((t) => taskRow(t, ts.map((x) => x.id), t.held ? ' (held)' : t.assigned ? ' (assigned)' : '')),
      'nothing ready: every open task waits for a dependency, or none is open');
  });
}

/** `clare update TEXT`: a progress note. */
export interface PostUpdateArgs { readonly json: boolean; readonly text: string; readonly task?: string | undefined; readonly session?: string | undefined }
export function postUpdate(a: PostUpdateArgs): Promise<void> {
  return run(a, async () => {
    const task = a.task ?? process.env['CLARE_TASK'];
    const session = a.session ?? process.env['CLARE_SESSION'];
    const u = await api<Update>(await daemonTarget(), 'POST', '/updates', {
      text: a.text, ...(task === undefined || task === '' ? {} : { task }), ...(session === undefined || session === '' ? {} : { session }),
    } satisfies PostUpdateBody);
    if (a.json) return printJson(u);
    process.stdout.write(`posted ${short(u.id)}\n`);
  });
}

export function printStatus(s: StatusDoc): void {
  const out = process.stdout;
  out.write(`${s.machine.name} (${short(s.machine.id)})  clare ${s.machine.version}  events ${s.counts.events}\n`);
  if (s.recovery?.state === 'recovering') {
    out.write(`RECOVERING since ${ago(s.recovery.since)}: fetching this machine's own events from its peers; writes are refused until done (${s.recovery.reason})\n`);
  }
  out.write(`projects ${s.counts.projects}  tasks: ${Object.entries(s.counts.tasks).map(([k, v]) => `${k} ${v}`).join(', ')}  ready ${s.counts.ready_tasks}`);
  out.write(`${s.counts.conflicts > 0 ? `  conflicts ${s.counts.conflicts}` : ''}${s.counts.skipped_events > 0 ? `  events from newer peers not applied ${s.counts.skipped_events}` : ''}\n\n`);
  const rows: Cell[][] = [];
  for (const h of s.hosts) {
    if (h.sessions.length === 0) rows.push([h.name, '-', '-', '-', '-']);
    for (const x of h.sessions) rows.push([h.name, x.session, { text: x.state ?? '?', style: stateStyle(x.state ?? '?') }, x.idle_s === null ? '-' : duration(x.idle_s), x.task_id === null ? '-' : `${short(x.task_id)} ${truncate(x.task_title ?? '', 40)}`]);
  }
  printTable(['HOST', 'SESSION', 'STATE', 'IDLE', 'TASK'], rows, 'no sessions known yet (clare pull)');
  if (s.truncated.sessions) out.write(`(the first ${rows.length} of ${s.counts.sessions} sessions; clare status lists at most that many: GET /api/v1/sessions pages through all)\n`);
  const silent = s.hosts.filter((h) => h.silent);
  if (silent.length > 0) out.write(`\nnot heard from: ${silent.map((h) => `${h.name} (last heard ${ago(h.last_heard)})`).join(', ')}\n`);
  if (s.peers.length > 0) {
    out.write('\n');
    printTable(['PEER', 'NAME', 'STATE', 'SENT', 'RECEIVED', 'LAG(they/we)', 'OFFSET', 'LAST ERROR'], s.peers.map((p) => [
      p.url ?? '(inbound)', p.name ?? '-', ((state: string) => ({ text: state, style: stateStyle(state) }))(p.faulty ? 'FAULTY' : p.connected ? `up since ${ago(p.since)}` : `down since ${ago(p.since)}`),
      String(p.events_sent), String(p.events_received),
      `${p.lag === null ? '-' : `${p.lag.they_lack}/${p.lag.we_lack}`}${p.divergence === null ? '' : ` DIVERGED (${p.divergence.origins.length} origin${p.divergence.origins.length === 1 ? '' : 's'}, ${p.divergence.state})`}`,
      p.clock_offset_ms === null ? '-' : `${p.clock_offset_ms}ms`, p.last_error === null ? '-' : truncate(`${p.last_error.code}: ${p.last_error.message}`, 60),
    ]));
  }
  const f = s.fleet;
  // last_error is the failure of the latest pull (cleared by a good one): show it even
  // when no pull ever worked, since then the session list above is stale or empty.
  if (f !== null && f.last_error !== null) {
    out.write(`\nsession pulls are failing (${f.last_error.code}, ${ago(f.last_error.at)}): ${f.last_error.message}${f.last_pull === null ? '' : `\nlast good pull ${ago(f.last_pull.at)} (${f.last_pull.sessions} sessions)`}\n`);
  } else if (f !== null && f.last_pull !== null) {
    out.write(`\nlast pull ${ago(f.last_pull.at)} (${f.last_pull.sessions} sessions)\n`);
  }
}

export function fleetCommands(y: Argv<{ json: boolean }>): Argv<{ json: boolean }> {
  return y
    .command('assign <task> [session]', 'Assign a task to a session (host:session), or --auto', (c) => c
      .positional('task', { type: 'string', demandOption: true, describe: 'task id, short id or title' })
      .positional('session', { type: 'string', describe: 'host:session' })
      .option('auto', { type: 'boolean', default: false, describe: 'pick an idle session with the scheduler' })
      .check((a) => (a.auto === (a.session !== undefined) ? 'give a SESSION (host:session) or --auto, not both or neither' : true)),
    (a) => run(a, async () => {
      const r = await api<Assignment>(await daemonTarget(), 'POST', '/assignments', (a.session === undefined ? { task: a.task, auto: true } : { task: a.task, session: a.session }) satisfies CreateAssignmentBody);
      if (a.json) return printJson(r);
      process.stdout.write(`assigned ${short(r.task_id)} to ${r.host}:${r.session} (assignment ${short(r.id)}, delivery ${r.delivery})\n`);
    }))
    .command('unassign <assignment>', 'Remove an assignment (its id or short id, see clare assignments)', (c) => c.positional('assignment', { type: 'string', demandOption: true }),
      (a) => run(a, async () => {
        const r = await api<Assignment>(await daemonTarget(), 'DELETE', `/assignments/${seg(a.assignment)}`);
        if (a.json) return printJson(r);
        process.stdout.write(`unassigned ${short(r.task_id)} from ${r.host}:${r.session}\n`);
      }))
    .command('assignments', 'List active assignments, newest first, a page at a time', (c) => pageOptions(c
      .option('task', { alias: 't', type: 'string', coerce: textFlag('task'), describe: 'only this task\'s' })
      .option('removed', { type: 'boolean', default: false, describe: 'include removed ones' })),
    (a) => run(a, async () => {
      const q = new URLSearchParams();
      if (a.task !== undefined) q.set('task', a.task);
      if (a.removed) q.set('removed', 'true');
      const page = await fetchPage<Assignment>(await daemonTarget(), '/assignments', q, a);
      if (a.json) return printJson(page);
      printTable(['ID', 'TASK', 'SESSION', 'DELIVERY', 'SINCE'], page.items.map((r) => [short(r.id, page.items.map((x) => x.id)), short(r.task_id), `${r.host}:${r.session}`, r.delivery + (r.error === null ? '' : ` (${truncate(r.error, 40)})`) + (r.removed ? ' (removed)' : ''), ago(r.created_at)]));
      printMore(page);
    }))
    .command('next', 'What to work on: the session\'s own task first (held), then ready tasks, best first', (c) => c.options(NEXT.options),
      (a) => nextTasks(a))
    .command('status', 'The fleet: sessions per host, tasks, peers', (c) => c,
      (a) => run(a, async () => {
        const s = await api<StatusDoc>(await daemonTarget(), 'GET', '/status');
        if (a.json) return printJson(s);
        printStatus(s);
      }))
    .command('broadcast <group> <text>', 'Send a message to every session of a group', (c) => c
      .positional('group', { type: 'string', demandOption: true }).positional('text', { type: 'string', demandOption: true })
      .option('ttl', { ...TTL_FLAG, describe: 'expire undelivered copies after e.g. 30m, 1h, 2d' }),
    (a) => run(a, async () => {
      const ttl = a.ttl === undefined ? {} : { ttl_s: a.ttl };
      const u = await api<Update>(await daemonTarget(), 'POST', '/broadcast', { group: a.group, message: a.text, ...ttl } satisfies BroadcastBody);
      if (a.json) return printJson(u);
      process.stdout.write(`broadcast ${short(u.id)} to group ${a.group}${u.expires_at === null ? '' : `, expires ${u.expires_at}`}\n`);
    }))
    .command('update <text>', 'Post a progress note (agents: about your task)', (c) => c.positional('text', UPDATE.positionals.text).options(UPDATE.options),
      (a) => postUpdate(a))
    .command('updates', 'Notes and broadcasts, newest first, a page at a time', (c) => pageOptions(c
      .option('task', { alias: 't', type: 'string', coerce: textFlag('task') })
      .option('kind', choiceFlag('kind', ['note', 'broadcast']))
      .option('search', { alias: 'q', type: 'string', coerce: textFlag('search'), describe: 'only those whose text holds this' })),
    (a) => run(a, async () => {
      const q = new URLSearchParams();
      if (a.task !== undefined) q.set('task', a.task);
      if (a.kind !== undefined) q.set('kind', a.kind);
      if (a.search !== undefined) q.set('q', a.search);
      const page = await fetchPage<Update>(await daemonTarget(), '/updates', q, { ...a, limit: a.limit ?? (a.all ? undefined : 20) });
      if (a.json) return printJson(page);
      printTable(['WHEN', 'KIND', 'FROM/TO', 'TEXT', 'RECEIPTS'], page.items.map((u) => [
        ago(u.created_at), u.kind, u.kind === 'broadcast' ? `group ${u.group ?? '?'}` : u.host === null ? '-' : `${u.host}:${u.session ?? ''}`,
        truncate(u.text, 60), u.kind === 'broadcast' ? u.receipts.map((r) => `${r.host}:${r.session}=${r.status}`).join(' ') || '-' : '',
      ]));
      printMore(page);
    }))
    .command('group', 'Groups of sessions (host:session patterns)', (g) => g
      .command('add <name> <patterns..>', 'Create a group or add members, e.g. clare group add api desk:api-*', (c) => c
        .positional('name', { type: 'string', demandOption: true }).positional('patterns', { type: 'string', array: true, demandOption: true }),
      (a) => run(a, async () => {
        const r = await api<Group>(await daemonTarget(), 'POST', '/groups', { name: a.name, members: a.patterns } satisfies CreateGroupBody);
        if (a.json) return printJson(r);
        process.stdout.write(`group ${r.name}: ${r.members.join(' ')}\n`);
      }))
      .command('list', 'List groups by name, a page at a time', (c) => pageOptions(c), (a) => run(a, async () => {
        const page = await fetchPage<Group>(await daemonTarget(), '/groups', new URLSearchParams(), a);
        if (a.json) return printJson(page);
        printTable(['GROUP', 'MEMBERS'], page.items.map((x) => [x.name, x.members.join(' ') || '-']), 'no groups: clare group add NAME HOST:SESSION…');
        printMore(page);
      }))
      .command('rm <name> [patterns..]', 'Remove a group, or only the given members from it', (c) => c
        .positional('name', { type: 'string', demandOption: true }).positional('patterns', { type: 'string', array: true }),
      (a) => run(a, async () => {
        const pats = a.patterns ?? [];
        const r = pats.length === 0
          ? await api<Group>(await daemonTarget(), 'DELETE', `/groups/${seg(a.name)}`)
          : await api<Group>(await daemonTarget(), 'PATCH', `/groups/${seg(a.name)}`, { remove: pats } satisfies UpdateGroupBody);
        if (a.json) return printJson(r);
        process.stdout.write(r.archived ? `removed group ${r.name}\n` : `group ${r.name}: ${r.members.join(' ') || '(no members)'}\n`);
      }))
      .demandCommand(1, 'clare group: say add, list or rm'), () => undefined);
}
