/**
 * Where Clare keeps things, following the XDG base-directory variables:
 * config in $XDG_CONFIG_HOME/clare/clare.toml (default ~/.config),
 * data in $XDG_DATA_HOME/clare/clare.db (default ~/.local/share).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ClarePaths {
  readonly configDir: string;
  readonly configFile: string;
  readonly dataDir: string;
  readonly dbFile: string;
}

export function clarePaths(env: NodeJS.ProcessEnv = process.env): ClarePaths {
  const home = env['HOME'] ?? homedir();
  const configHome = nonEmpty(env['XDG_CONFIG_HOME']) ?? join(home, '.config');
  const dataHome = nonEmpty(env['XDG_DATA_HOME']) ?? join(home, '.local', 'share');
  const configDir = join(configHome, 'clare');
  const dataDir = join(dataHome, 'clare');
  return { configDir, configFile: join(configDir, 'clare.toml'), dataDir, dbFile: join(dataDir, 'clare.db') };
}

// XDG says empty values are treated as unset.
function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
