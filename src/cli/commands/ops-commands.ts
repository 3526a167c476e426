/**
 * Verbs for running Clare for months: `doctor` (checks with a fix for each
 * problem), `health` (the daemon's ok/degraded, and systemd's readiness check), and
 * `service install|uninstall` (the systemd --user unit of this install).
 * Heavy modules are imported lazily so other verbs start fast.
 */
import type { Argv } from 'yargs';
import { ClareError } from '../../core/errors.js';
import { api, daemonTarget } from '../client.js';
import { printJson } from '../output.js';
import { exitAfterOutput, run } from '../run.js';
import { paint } from '../colour.js';
import { WAIT_FLAG } from '../flags.js';

const MARK = { ok: ['ok  ', 'green'], warn: ['WARN', 'yellow'], fail: ['FAIL', 'red'], skip: ['skip', 'dim'] } as const;

export function opsCommands(y: Argv<{ json: boolean }>): Argv<{ json: boolean }> {
  return y
    .command('doctor', 'Check config, database, rclaude, the daemon and every peer; say what to do about each problem', (c) => c
      .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as problems (exit 13)' }),
    (a) => run(a, async () => {
      const { runDoctor } = await import('../doctor.js');
      const { clarePaths } = await import('../../core/paths.js');
      const r = await runDoctor(clarePaths());
      if (a.json) printJson(r);
      else {
        const width = Math.max(...r.checks.map((c) => c.id.length));
        for (const c of r.checks) {
          process.stdout.write(`${paint(MARK[c.level][0], MARK[c.level][1])}  ${c.id.padEnd(width)}  ${c.detail}\n`);
          if (c.fix !== null) process.stdout.write(`      ${' '.repeat(width)}  → ${c.fix}\n`);
        }
      }
      const failed = r.checks.filter((c) => c.level === 'fail' || (a.strict && c.level === 'warn'));
      if (failed.length > 0) return exitAfterOutput(new ClareError('CLARE_UNHEALTHY', `${failed.length} problem(s): ${failed.map((c) => c.id).join(', ')}`));
      if (!a.json) process.stdout.write(r.checks.some((c) => c.level === 'warn') ? 'healthy, with warnings\n' : 'healthy\n');
    }))
    .command('health', "The daemon's health: ok or degraded (exit 13); --wait makes it a readiness check", (c) => c
      .option('wait', { ...WAIT_FLAG, describe: 'wait up to this many seconds for the daemon to answer; then exit 0 whether ok or degraded (systemd ExecStartPost)' }),
    (a) => run(a, async () => {
      const target = await daemonTarget();
      const deadline = Date.now() + (a.wait ?? 0) * 1000;
      for (;;) {
        try {
          const h = await api<{ status: 'ok' | 'degraded' }>(target, 'GET', '/health', undefined, 5000);
          if (a.json) printJson(h);
          else process.stdout.write(`${h.status}\n`);
          if (h.status !== 'ok' && a.wait === undefined) exitAfterOutput(new ClareError('CLARE_UNHEALTHY', `the daemon at ${target.url} is degraded: \`clare doctor\` says why`));
          return;
        } catch (e) {
          if (!(e instanceof ClareError && e.code === 'CLARE_DAEMON_DOWN') || Date.now() >= deadline) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }))
    .command('service', 'The systemd --user unit of this install: install, uninstall', (s) => s
      .command('install', 'Write the unit for this install (absolute paths), then daemon-reload and enable --now', (c) => c
        .option('enable', { type: 'boolean', default: true, describe: 'run systemctl --user daemon-reload and enable --now (--no-enable: only write the file)' })
        .option('print', { type: 'boolean', default: false, describe: 'print the unit and write nothing' }),
      (a) => run(a, async () => {
        const u = await import('../systemd-unit.js');
        const { locateRclaude } = await import('../../core/fleet/rclaude.js');
        let rclaude: string | null = null;
        try {
          rclaude = locateRclaude(undefined);
        } catch {
          rclaude = null; // the unit still installs; the daemon says at start that rclaude is missing
        }
        const text = u.renderUnit(u.readTemplate(), u.currentInstall(rclaude));
        if (a.print) return void process.stdout.write(text);
        const file = u.unitPath();
        await u.installUnit(text, file, a.enable);
        if (a.json) return printJson({ unit: file, enabled: a.enable, rclaude });
        process.stdout.write(`wrote ${file}\n`);
        if (rclaude === null) process.stdout.write('note: rclaude is not on PATH now; the daemon refuses to start without it (set [rclaude] path in clare.toml)\n');
        process.stdout.write(a.enable
          ? 'enabled and started: systemctl --user status clare; journalctl --user -u clare -f\nkeep it running while you are logged out: loginctl enable-linger "$USER"\n'
          : 'next: systemctl --user daemon-reload && systemctl --user enable --now clare\n');
      }))
      .command('uninstall', 'Stop and disable the unit, and remove its file', (c) => c
        .option('systemctl', { type: 'boolean', default: true, describe: 'run systemctl --user disable --now and daemon-reload (--no-systemctl: only remove the file)' }),
      (a) => run(a, async () => {
        const u = await import('../systemd-unit.js');
        const file = u.unitPath();
        const had = await u.uninstallUnit(file, a.systemctl);
        if (a.json) return printJson({ unit: file, removed: had });
        process.stdout.write(had ? `removed ${file}\n` : `${file} was not there\n`);
      }))
      .demandCommand(1, 'clare service: say install or uninstall'));
}
