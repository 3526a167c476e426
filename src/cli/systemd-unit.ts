/**
 * `clare service install|uninstall`: the systemd --user unit for this install.
 *
 * The unit is deploy/clare.service from the installed package with its ExecStart,
 * ExecStartPost, Documentation and PATH lines rewritten to absolute paths of this
 * install (the node binary running now, the CLI script, the package's docs, the
 * directory rclaude is found in now), so the service runs the same Clare the user
 * just ran, whatever the service manager's own PATH is.
 */
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { writeFileAtomic } from '../core/config.js';
import { ClareError } from '../core/errors.js';

export const UNIT_NAME = 'clare.service';

/** The installed package's root (dist/cli/ is two levels down, in the bundle and in tsc output alike). */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}

/** `$XDG_CONFIG_HOME/systemd/user/clare.service` (default ~/.config/...). */
export function unitPath(env: NodeJS.ProcessEnv = process.env): string {
  const configHome = env['XDG_CONFIG_HOME'] !== undefined && env['XDG_CONFIG_HOME'] !== '' ? env['XDG_CONFIG_HOME'] : join(env['HOME'] ?? homedir(), '.config');
  return join(configHome, 'systemd', 'user', UNIT_NAME);
}

export interface UnitInputs {
  /** Absolute path of node. */
  readonly node: string;
  /** Absolute path of the CLI script (dist/cli/clare.js of the install). */
  readonly cli: string;
  /** Absolute path of docs/operations.md of the install, or null when it is absent. */
  readonly docs: string | null;
  /** Directories for the service's PATH, in order (rclaude's first). */
  readonly path: readonly string[];
}

/** Quotes one word of a unit's command line; `%` is a specifier there and is doubled. */
function word(s: string): string {
  const e = s.replace(/%/g, '%%');
  return /[\s"'\\]/.test(e) ? `"${e.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : e;
}

/** The unit text for `inputs`, from the template text `template`. */
export function renderUnit(template: string, u: UnitInputs): string {
  const cmd = (...args: string[]): string => [u.node, u.cli, ...args].map(word).join(' ');
  const replace = (text: string, key: string, value: string): string => {
    const re = new RegExp(`^${key}=.*$`, 'm');
    if (!re.test(text)) throw new ClareError('CLARE_INTERNAL', `the unit template has no ${key}= line`);
    return text.replace(re, () => `${key}=${value}`);
  };
  let t = template;
  t = replace(t, 'ExecStart', cmd('serve', '--no-pretty'));
  t = replace(t, 'ExecStartPost', cmd('health', '--wait', '30'));
  t = replace(t, 'Environment=PATH', [...new Set(u.path)].map((p) => p.replace(/%/g, '%%')).join(':'));
  if (u.docs !== null) t = replace(t, 'Documentation', `file://${u.docs.replace(/%/g, '%%')}`);
  return t;
}

/** The inputs for the running install: this node, this CLI script, rclaude's directory if found. */
export function currentInstall(rclaude: string | null): UnitInputs {
  const root = packageRoot();
  const script = process.argv[1] === undefined ? join(root, 'dist/cli/clare.js') : realpathSync(process.argv[1]);
  const docs = join(root, 'docs/operations.md');
  return {
    node: process.execPath,
    cli: script,
    docs: existsSync(docs) ? docs : null,
    path: [...(rclaude === null ? [] : [dirname(rclaude)]), dirname(process.execPath), '%h/.local/bin', '/usr/local/bin', '/usr/bin', '/bin'],
  };
}

export function readTemplate(): string {
  return readFileSync(join(packageRoot(), 'deploy', UNIT_NAME), 'utf8');
}

async function systemctl(args: readonly string[]): Promise<void> {
  try {
    await execa('systemctl', ['--user', ...args], { timeout: 60_000, stdin: 'ignore' });
  } catch (e) {
    const x = e as { stderr?: unknown; shortMessage?: string };
    const why = (typeof x.stderr === 'string' ? x.stderr.trim() : '') || x.shortMessage || String(e);
    throw new ClareError('CLARE_SERVICE', `systemctl --user ${args.join(' ')} failed: ${why}. Is a user systemd instance running for you (a login session, or \`loginctl enable-linger $USER\`)?`, { args: [...args] });
  }
}

/** Writes the unit; with `enable`, reloads systemd and enables and starts it. */
export async function installUnit(text: string, file: string, enable: boolean): Promise<void> {
  writeFileAtomic(file, text);
  if (!enable) return;
  await systemctl(['daemon-reload']);
  await systemctl(['enable', '--now', UNIT_NAME]);
}

/** Stops and disables the unit (when `systemd`), removes its file, reloads. Returns whether a file was removed. */
export async function uninstallUnit(file: string, systemd: boolean): Promise<boolean> {
  const had = existsSync(file);
  if (systemd) await systemctl(['disable', '--now', UNIT_NAME]);
  rmSync(file, { force: true });
  if (systemd) await systemctl(['daemon-reload']);
  return had;
}
