/**
 * The "Exit codes" epilog of `clare --help`, generated from the error catalog
 * (core/errors.ts) so it lists every code a command can end with and cannot drift
 * from what the CLI actually exits with.
 */
import { ERROR_CATALOG } from '../core/errors.js';

/** Exit code → the catalog codes that end a command with it (without the CLARE_ prefix), in catalog order. */
export function exitCodeTable(): Map<number, string[]> {
  const byExit = new Map<number, string[]>();
  for (const [code, e] of Object.entries(ERROR_CATALOG)) byExit.set(e.exit, [...(byExit.get(e.exit) ?? []), code.replace(/^CLARE_/, '')]);
  return new Map([...byExit].sort((a, b) => a[0] - b[0]));
}

/** The epilog under `clare --help`: exit codes with their error codes, then the environment the CLI reads. */
export function exitCodeEpilog(): string {
  const codes = [...exitCodeTable()].map(([exit, names]) => `${exit} ${names.join('/')}`).join(', ');
  return `Exit codes (the error codes are CLARE_<name>, docs/errors.md): 0 ok, ${codes}.
Environment: CLARE_URL (daemon address), XDG_CONFIG_HOME, XDG_DATA_HOME, CLARE_LOG_LEVEL, NO_COLOR / FORCE_COLOR, CLARE_SESSION / CLARE_TASK (for agents).`;
}
