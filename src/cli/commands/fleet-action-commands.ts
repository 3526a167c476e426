/**
 * Verbs that act on sessions through the daemon (and so through rclaude): pull
 * this host's listing now, peek at a screen, spawn a session — another host's
 * through its own daemon, over the mesh — and attach this terminal to a session.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import type { Session } from '../../protocol/models.js';
import type { PullResult } from '../../protocol/status.js';
import type { Screen } from '../../protocol/screen.js';
import { clarePaths } from '../../core/paths.js';
import { api, daemonTarget, seg } from '../client.js';
import { printJson } from '../output.js';
import { run } from '../run.js';
import { LINES_FLAG } from '../flags.js';

export function fleetActionCommands(y: Argv<{ json: boolean }>): Argv<{ json: boolean }> {
  return y
    .command('pull', "List this host's sessions through rclaude now and record what changed", (c) => c,
      (a) => run(a, async () => {
        const r = await api<PullResult>(await daemonTarget(), 'POST', '/sessions/pull');
        if (a.json) return printJson(r);
        const what = [r.appeared > 0 ? `${r.appeared} appeared` : '', r.changed > 0 ? `${r.changed} changed` : '', r.gone > 0 ? `${r.gone} gone` : ''].filter((s) => s !== '');
        process.stdout.write(`${r.host}: ${r.sessions} session${r.sessions === 1 ? '' : 's'}; ${what.length === 0 ? 'no changes' : what.join(', ')}\n`);
      }))
    .command('peek <session>', "Show the last lines of a session's screen (host:session, on any host of the mesh)", (c) => c
      .positional('session', { type: 'string', demandOption: true, describe: 'host:session' })
      .option('lines', { ...LINES_FLAG, describe: 'how many lines (1…2000)' }),
    (a) => run(a, async () => {
      const s = (await import('../../core/service/resolve.js')).parseSessionRef(a.session);
      const r = await api<Screen>(await daemonTarget(), 'GET', `/sessions/${seg(s.host)}/${seg(s.session)}/screen?lines=${encodeURIComponent(String(a.lines))}`);
      if (a.json) return printJson(r);
      process.stdout.write(r.text === '' || r.text.endsWith('\n') ? r.text : `${r.text}\n`);
    }))
    .command('spawn <host>', 'Start a new agent session on a host of the mesh (rclaude spawn, run by that host\'s daemon)', (c) => c
      .positional('host', { type: 'string', demandOption: true, describe: 'the host to start it on' })
      .option('name', { type: 'string', demandOption: true, describe: 'session name (letters, digits, _ and -)' })
      .option('cwd', { type: 'string', default: process.cwd(), defaultDescription: 'the current directory', describe: 'working directory of the session' }),
    (a) => run(a, async () => {
      const r = await api<Session>(await daemonTarget(), 'POST', '/sessions', { host: a.host, session: a.name, cwd: resolve(a.cwd) });
      if (a.json) return printJson(r);
      process.stdout.write(`spawned ${r.key} in ${r.cwd ?? '?'} (${r.state ?? 'unknown state'})\n`);
    }))
    .command('attach <session>', 'Hand this terminal to a session (host:session, any host): runs `rclaude attach`, which reaches the host', (c) => c
      .positional('session', { type: 'string', demandOption: true, describe: 'host:session' }),
    (a) => run(a, async () => {
      const s = (await import('../../core/service/resolve.js')).parseSessionRef(a.session);
      const { attachSession, locateRclaude } = await import('../../core/fleet/rclaude.js');
      const file = clarePaths().configFile;
      const configured = existsSync(file) ? (await import('../../core/config.js')).loadConfig(file).rclaude.path : undefined;
      const code = await attachSession({ path: locateRclaude(configured), timeoutMs: 0 }, s.host, s.session);
      process.exitCode = code;
    }));
}
