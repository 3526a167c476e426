/**
 * `clare`: the command line of Clare, for people and for agents. Every verb but
 * init, serve and rebuild is a thin client of the local daemon's API; `--json`
 * prints exactly what the API returns.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { backupCommands } from './commands/backup-commands.js';
import { eventLogCommands } from './commands/event-log-commands.js';
import { fleetActionCommands } from './commands/fleet-action-commands.js';
import { fleetCommands } from './commands/fleet-commands.js';
import { localCommands } from './commands/local-commands.js';
import { opsCommands } from './commands/ops-commands.js';
import { peerCommands, syncCommand } from './commands/peer-commands.js';
import { projectCommands } from './commands/project-commands.js';
import { taskCommands } from './commands/task-commands.js';
import { packageVersion } from '../core/version.js';

const EPILOG = `Exit codes: 0 ok, 2 bad input, 3 no daemon, 4 unauthorized, 5 not found/ambiguous, 6 conflict, 7 bad event/protocol, 8 config, 9 database, 10 rclaude, 11 peer, 12 port taken or unsafe bind, 13 unhealthy (doctor, health), 14 systemctl failed.
Environment: CLARE_URL (daemon address), XDG_CONFIG_HOME, XDG_DATA_HOME, CLARE_LOG_LEVEL, CLARE_SESSION / CLARE_TASK (for agents).`;

/** Set by scripts/build-cli.mjs in the bundle (the installed `clare`); absent in tsc's output, run from the checkout. */
declare const CLARE_BUILD_VERSION: string | undefined;

// `clare status | head -3`: the reader went away; that ends the command, quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const args = hideBin(process.argv);
// yargs answers `completion --help` with the script itself; a person asking for help gets help.
if (args[0] === 'completion' && args.some((a) => a === '--help' || a === '-h')) {
  process.stdout.write('clare completion\n\nPrint a shell completion script (bash/zsh) for clare. Install it with:\n  clare completion >> ~/.bashrc   (or ~/.zshrc)\n');
  process.exit(0);
}

const cli = yargs(args)
  .scriptName('clare')
  .version(typeof CLARE_BUILD_VERSION === 'string' ? CLARE_BUILD_VERSION : packageVersion())
  .usage('$0 <command> [options]\n\nManage a fleet of AI coding-agent sessions across machines.')
  .option('json', { type: 'boolean', default: false, global: true, describe: 'print JSON (what the API returns)' })
  .command('project', 'Projects: add, list, show, update, archive', (y) => projectCommands(y))
  .command('task', 'Tasks: add, list, show, update, done, start, block, reopen, depend, archive', (y) => taskCommands(y));
fleetCommands(cli);
fleetActionCommands(cli);
localCommands(cli);
cli.command('peer', 'Peers of the mesh: add, remove, list', (y) => peerCommands(y));
syncCommand(cli);
opsCommands(cli);
backupCommands(cli);
eventLogCommands(cli);

await cli
  .completion('completion', 'Print a shell completion script (bash/zsh): clare completion >> ~/.bashrc')
  .demandCommand(1, 'say what to do: clare --help lists the commands')
  .strict()
  .recommendCommands()
  .epilog(EPILOG)
  .wrap(Math.min(110, process.stdout.columns || 100))
  .fail((msg, err) => {
    // Usage errors (unknown verb, missing argument): exit 2, like CLARE_BAD_REQUEST.
    process.stderr.write(`clare: ${err?.message ?? msg}\nRun with --help for usage.\n`);
    process.exit(2);
  })
  .parseAsync();
