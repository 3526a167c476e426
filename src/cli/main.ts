#!/usr/bin/env node
/**
 * `clare`: the command line of Clare, for people and for agents. Every verb but
 * init, serve and rebuild is a thin client of the local daemon's API; `--json`
 * prints exactly what the API returns.
 *
 * Start-up is paid by agents on every `clare next` / `clare update`, so only the
 * module of the verb asked for is loaded (each is its own chunk of the bundle,
 * scripts/build-cli.mjs). Help for the whole CLI, completion and unknown verbs load
 * every module, in the same order as always, so what yargs prints does not change.
 */
import type { Argv } from 'yargs';
import { asClareError } from '../core/errors.js';
import { packageVersion } from '../core/version.js';
import { exitCodeEpilog } from './exit-codes.js';
import { runHot } from './fast-path.js';
import { flagRefusal } from './flags.js';

type Cli = Argv<{ json: boolean }>;
type Register = (cli: Cli) => void;

/** Set by scripts/build-cli.mjs in the bundle (the installed `clare`); absent in tsc's output, run from the checkout. */
declare const CLARE_BUILD_VERSION: string | undefined;

// `clare status | head -3`: the reader went away; that ends the command, quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

/**
 * The verb modules in the order `clare --help` lists them. Each entry names the
 * top-level verbs it registers; the loader imports it only when one of them is asked for.
 */
const MODULES: readonly { readonly verbs: readonly string[]; readonly load: () => Promise<Register> }[] = [
  { verbs: ['project'], load: async () => { const m = await import('./commands/project-commands.js'); return (c) => void c.command('project', 'Projects: add, list, show, update, archive', (y) => m.projectCommands(y)); } },
  { verbs: ['task'], load: async () => { const m = await import('./commands/task-commands.js'); return (c) => void c.command('task', 'Tasks: add, list, show, update, done, start, block, reopen, depend, archive', (y) => m.taskCommands(y)); } },
  { verbs: ['assign', 'unassign', 'assignments', 'next', 'status', 'broadcast', 'update', 'updates', 'group'], load: async () => (await import('./commands/fleet-commands.js')).fleetCommands },
  { verbs: ['pull', 'peek', 'spawn', 'attach'], load: async () => (await import('./commands/fleet-action-commands.js')).fleetActionCommands },
  { verbs: ['init', 'serve', 'rebuild'], load: async () => (await import('./commands/local-commands.js')).localCommands },
  {
    verbs: ['peer', 'sync'],
    load: async () => {
      const m = await import('./commands/peer-commands.js');
      return (c) => void m.syncCommand(c.command('peer', 'Peers of the mesh: add, remove, list', (y) => m.peerCommands(y)));
    },
  },
  { verbs: ['doctor', 'health', 'service'], load: async () => (await import('./commands/ops-commands.js')).opsCommands },
  { verbs: ['backup', 'restore'], load: async () => (await import('./commands/backup-commands.js')).backupCommands },
  { verbs: ['export', 'import'], load: async () => (await import('./commands/event-log-commands.js')).eventLogCommands },
];

// What yargs' hideBin does: the words after `node clare.js`.
const args = process.argv.slice(2);
// yargs answers `completion --help` with the script itself; a person asking for help gets help.
if (args[0] === 'completion' && args.some((a) => a === '--help' || a === '-h')) {
  process.stdout.write('clare completion\n\nPrint a shell completion script (bash/zsh) for clare. Install it with:\n  clare completion >> ~/.bashrc   (or ~/.zshrc)\n');
  process.exit(0);
}

// Tab in bash or zsh (the script `clare completion` prints calls `clare --get-yargs-completions clare WORDS…`):
// where a task id, session, group or peer goes, those the daemon knows (completion.ts); else yargs' verbs and flags.
const dynamic = args[0] === '--get-yargs-completions' ? await (await import('./completion.js')).dynamicCompletions(args.slice(2)) : [];
if (dynamic.length > 0) process.stdout.write(`${dynamic.join('\n')}\n`);
// The verbs agents run on every step skip yargs when the command line is plain (fast-path.ts).
else if (!(await runHot(args))) await runYargs(args);

/** The whole CLI, through yargs: every verb, help, completion and usage errors. */
async function runYargs(args: readonly string[]): Promise<void> {
  // The verb is the first word that is not a flag (the only global flags, --json,
  // --help and --version, take no value). No verb, an unknown one, or yargs'
  // completion request: every module, so help, suggestions and completion see all verbs.
  const verb = args.find((a) => !a.startsWith('-'));
  const only = verb === undefined ? undefined : MODULES.find((m) => m.verbs.includes(verb));
  const [{ default: yargs }, ...registers] = await Promise.all([import('yargs'), ...(only === undefined ? MODULES : [only]).map((m) => m.load())]);
  const cli: Cli = yargs([...args])
    .scriptName('clare')
    .version(typeof CLARE_BUILD_VERSION === 'string' ? CLARE_BUILD_VERSION : packageVersion())
    .usage('$0 <command> [options]\n\nManage a fleet of AI coding-agent sessions across machines.')
    .option('json', { type: 'boolean', default: false, global: true, describe: 'print JSON (what the API returns)' });
  for (const register of registers) register(cli);
  await cli
    .completion('completion', 'Print a shell completion script (bash/zsh): clare completion >> ~/.bashrc')
    .demandCommand(1, 'say what to do: clare --help lists the commands')
    .strict()
    .recommendCommands()
    .epilog(exitCodeEpilog())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      // Usage errors (unknown verb, missing argument): exit 2, like CLARE_BAD_REQUEST. A bad
      // flag value is a coded error from flags.ts: with --json its body goes to stdout, as run() prints it.
      const coded = (err === undefined ? null : asClareError(err)) ?? flagRefusal(err?.message ?? msg);
      if (coded !== null && args.includes('--json')) process.stdout.write(`${JSON.stringify(coded.toBody(), null, 2)}\n`);
      process.stderr.write(`clare: ${err?.message ?? msg}\nRun with --help for usage.\n`);
      process.exit(coded?.exitCode ?? 2);
    })
    .parseAsync();
}
