/**
 * `clare backup FILE` and `clare restore FILE`: this machine's database, copied
 * while the daemon runs, and put back on a stopped machine (docs/operations.md).
 * Heavy modules (SQLite) are imported lazily so other verbs start fast.
 */
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { ClareError } from '../../core/errors.js';
import { api, daemonTarget } from '../client.js';
import { printJson } from '../output.js';
import { run } from '../run.js';

/** Throws CLARE_CONFLICT when something answers HTTP at this machine's daemon address. */
async function refuseWhileDaemonRuns(what: string): Promise<void> {
  const target = await daemonTarget();
  try {
    await api(target, 'GET', '/health', undefined, 3000);
  } catch (e) {
    if (e instanceof ClareError && e.code === 'CLARE_DAEMON_DOWN') return;
  }
  throw new ClareError('CLARE_CONFLICT', `a daemon answers at ${target.url}: stop it before you ${what} (systemctl --user stop clare, or Ctrl-C on clare serve)`);
}

export function backupCommands(y: Argv<{ json: boolean }>): Argv<{ json: boolean }> {
  return y
    .command('backup <file>', "Write a consistent copy of this machine's database to FILE (safe while the daemon runs)", (c) => c
      .positional('file', { type: 'string', demandOption: true, describe: 'where to write the backup (replaced atomically if it exists)' }),
    (a) => run(a, async () => {
      const { loadConfig } = await import('../../core/config.js');
      const { clarePaths } = await import('../../core/paths.js');
      const { backupDatabase } = await import('../../core/backup.js');
      const { packageVersion } = await import('../../core/version.js');
      const paths = clarePaths();
      const config = loadConfig(paths.configFile);
      const r = await backupDatabase(paths.dbFile, resolve(a.file), { machineId: config.machine_id, name: config.name, version: packageVersion() });
      if (a.json) return printJson({ ...r, machine_id: config.machine_id });
      process.stdout.write(`backed up ${r.events} events (schema ${r.schema}, ${Math.round(r.bytes / 1024)} KiB) to ${r.file} in ${Math.round(r.ms)} ms\n`);
    }))
    .command('restore <file>', "Put a backup in place of this machine's database (the daemon must be stopped); the daemon then recovers this machine's later events from its peers", (c) => c
      .positional('file', { type: 'string', demandOption: true, describe: 'a file written by clare backup' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing database (kept beside it as clare.db.replaced-<time>), or take a plain database copy that is not a clare backup' }),
    (a) => run(a, async () => {
      const { existsSync } = await import('node:fs');
      const { initialConfigText, loadConfig, writeFileAtomic } = await import('../../core/config.js');
      const { clarePaths } = await import('../../core/paths.js');
      const { inspectDatabase, restoreDatabase } = await import('../../core/backup.js');
      const paths = clarePaths();
      const source = resolve(a.file);
      let wroteConfig = false;
      if (!existsSync(paths.configFile)) {
        // A machine that lost its config too: the backup carries its identity.
        const info = inspectDatabase(source);
        if (info.backupOf === null) throw new ClareError('CLARE_CONFIG', `no config at ${paths.configFile}, and ${source} is not a clare backup that names its machine: put back this machine's clare.toml (its machine_id) first`);
        const { defaultHostName } = await import('../../core/config.js');
        writeFileAtomic(paths.configFile, initialConfigText(info.backupOf.machineId, info.backupOf.name ?? defaultHostName()));
        wroteConfig = true;
      }
      const config = loadConfig(paths.configFile);
      await refuseWhileDaemonRuns('restore');
      const r = await restoreDatabase(source, paths.dbFile, { machineId: config.machine_id, force: a.force });
      if (a.json) return printJson({ db: r.dbFile, events: r.source.events, schema: r.source.schema, backup_of: r.source.backupOf, replaced: r.replaced, config_written: wroteConfig, recovery: 'pending' });
      const taken = r.source.backupOf?.takenAt;
      process.stdout.write(`restored ${r.source.events} events (schema ${r.source.schema}${taken === null || taken === undefined ? '' : `, backup taken ${taken}`}) to ${r.dbFile}\n`);
      if (r.replaced !== null) process.stdout.write(`the database it replaced is kept as ${r.replaced}\n`);
      if (wroteConfig) process.stdout.write(`wrote ${paths.configFile} with machine_id ${config.machine_id} (${config.name}) from the backup: add peers = [...] and [mesh] token again\n`);
      process.stdout.write('recovery pending: on its next start the daemon fetches this machine\'s own later events from its peers before it writes anything. Start it: systemctl --user start clare\n');
    }));
}
