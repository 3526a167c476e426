/**
 * The verbs that work on this machine's files rather than through the daemon:
 * init (config + database), serve (the daemon itself) and rebuild (projections).
 * Heavy modules are imported lazily so thin-client verbs start fast.
 */
import type { Argv } from 'yargs';
import { printJson } from '../output.js';
import { run } from '../run.js';

/**
 * `clare init --mesh`: writes a fresh random token into `[mesh]` unless the config
 * has one. The token is not printed (terminals keep scrollback; logs keep output).
 */
async function ensureMeshToken(file: string): Promise<'written' | 'kept'> {
  const { readFileSync } = await import('node:fs');
  const { loadConfig, newMeshToken, parseConfig, setMeshTokenInText, writeFileAtomic } = await import('../../core/config.js');
  if (loadConfig(file).mesh.token !== undefined) return 'kept';
  const text = setMeshTokenInText(readFileSync(file, 'utf8'), newMeshToken());
  parseConfig(text, file); // the edited text must still be a valid config
  writeFileAtomic(file, text);
  return 'written';
}

export function localCommands(y: Argv<{ json: boolean }>): Argv<{ json: boolean }> {
  return y
    .command('init', 'Create this machine\'s config (new machine id) and database', (c) => c
      .option('name', { type: 'string', describe: 'display name of this host (default: hostname)' })
      .option('mesh', { type: 'boolean', default: false, describe: 'also write a new random [mesh] token (if the config has none); copy it to every peer' }),
    (a) => run(a, async () => {
      const { initMachine } = await import('../../core/setup.js');
      const { clarePaths } = await import('../../core/paths.js');
      const paths = clarePaths();
      const r = initMachine(paths, a.name);
      const token = a.mesh ? await ensureMeshToken(paths.configFile) : null;
      if (a.json) return printJson({ created: r.created, machine_id: r.config.machine_id, name: r.config.name, config: paths.configFile, db: r.dbFile, ...(token === null ? {} : { mesh_token: token }) });
      process.stdout.write(r.created
        ? `created ${paths.configFile}\nmachine_id ${r.config.machine_id} (${r.config.name})\ndatabase ${r.dbFile}\n`
        : `${paths.configFile} exists; keeping machine_id ${r.config.machine_id} (${r.config.name})\ndatabase ${r.dbFile} is ready\n`);
      if (token === 'written') process.stdout.write(`wrote a new random [mesh] token to ${paths.configFile}; every peer needs the same one: copy the line (not the machine_id) to their clare.toml\n`);
      if (token === 'kept') process.stdout.write(`${paths.configFile} already has a [mesh] token; kept it\n`);
      process.stdout.write('next: clare serve\n');
    }))
    .command('serve', 'Run the daemon (API, dashboard, replication, fleet) in the foreground', (c) => c
      .option('pretty', { type: 'boolean', describe: 'readable log lines instead of JSON lines (default: readable when stderr is a terminal; --no-pretty forces JSON)' }),
    (a) => run(a, async () => {
        const { startDaemon } = await import('../../server/daemon.js');
        const { DEFAULT_PARTS } = await import('../../server/parts.js');
        const { createLogger, parseLogLevel } = await import('../../core/log.js');
        const log = createLogger(parseLogLevel(process.env['CLARE_LOG_LEVEL']), a.pretty === undefined ? {} : { pretty: a.pretty });
        // Node's process warnings (deprecations of a dependency, …) go into the log as JSON
        // lines like everything else, instead of raw text in the middle of them.
        process.removeAllListeners('warning');
        process.on('warning', (w) => log.warn('node warning', { name: w.name, message: w.message, ...('code' in w ? { code: w.code } : {}) }));
        const d = await startDaemon({ log, parts: DEFAULT_PARTS });
        if (a.json) printJson({ url: d.url, machine_id: d.config.machine_id, name: d.config.name });
        await new Promise<void>((resolve) => {
          const stop = (sig: string): void => {
            log.info('signal', { signal: sig });
            d.stop().then(resolve, (e: unknown) => {
              log.error('stop failed', { err: e });
              process.exitCode = 1;
              resolve();
            });
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
      }))
    .command('rebuild', 'Rebuild all projections from the events (works with the daemon stopped or running)', (c) => c,
      (a) => run(a, async () => {
        const { openDb } = await import('../../core/db.js');
        const { clarePaths } = await import('../../core/paths.js');
        const { rebuild } = await import('../../core/rebuild.js');
        const { digest } = await import('../../core/digest.js');
        const paths = clarePaths();
        const { existsSync } = await import('node:fs');
        if (!existsSync(paths.dbFile)) {
          const { ClareError } = await import('../../core/errors.js');
          throw new ClareError('CLARE_DB', `no database at ${paths.dbFile}: run \`clare init\` first`);
        }
        const db = openDb(paths.dbFile);
        try {
          const before = digest(db);
          const s = rebuild(db, (n) => {
            if (!a.json && process.stderr.isTTY) process.stderr.write(`\rreplayed ${n} events`);
          });
          const after = digest(db);
          if (!a.json && process.stderr.isTTY) process.stderr.write('\n');
          if (a.json) return printJson({ ...s, digest_before: before, digest_after: after, changed: before !== after });
          process.stdout.write(`rebuilt from ${s.events} events (${s.skipped} not applied: unknown types or newer versions) in ${Math.round(s.ms)} ms\n`);
          process.stdout.write(before === after ? 'projections unchanged (they matched the events)\n' : `projections changed: digest ${before.slice(0, 12)} → ${after.slice(0, 12)}\n`);
        } finally {
          db.close();
        }
      }));
}
