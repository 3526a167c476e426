import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialConfigText, loadConfig, parseConfig, setPeersInText } from '../../src/core/config.js';
import { ClareError } from '../../src/core/errors.js';
import { newMachineId } from '../../src/core/ids.js';
import { clarePaths } from '../../src/core/paths.js';

const MID = '2f1c7a52-9a4e-4c1e-8f55-0d6b3f0a9e11';

function configError(text: string): ClareError {
  try {
    parseConfig(text, '/etc/clare.toml');
  } catch (e) {
    if (e instanceof ClareError) return e;
    throw e;
  }
  throw new Error('expected a config error');
}

describe('clare.toml', () => {
  it('parses the file init writes, with defaults, frozen', () => {
    const c = parseConfig(initialConfigText(newMachineId(), 'desk'), 'x.toml');
    expect(c.name).toBe('desk');
    expect(c.server).toEqual({ host: '127.0.0.1', port: 8765, allowed_hosts: [], allowed_origins: [] });
    expect(c.mesh.max_clock_skew_ms).toBe(60_000);
    expect(c.mesh.token).toBeUndefined();
    expect(c.rclaude.poll_interval_s).toBe(10);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('names file, line and column for broken TOML', () => {
    const e = configError(`machine_id = "${MID}"\nname = "desk\n`);
    expect(e.code).toBe('CLARE_CONFIG');
    expect(e.message).toMatch(/^\/etc\/clare\.toml:2:\d+: invalid TOML/);
  });

  it('names file, line and key for an invalid value', () => {
    const e = configError(`machine_id = "${MID}"\nname = "desk"\n\n[server]\nhost = "127.0.0.1"\nport = 99999\n`);
    expect(e.message).toContain('/etc/clare.toml:6: key server.port');
    expect(e.details).toMatchObject({ key: 'server.port', line: 6 });
  });

  it('refuses a machine_id that is not a uuid4, unknown keys, short tokens and bad peers', () => {
    expect(configError('machine_id = "not-a-uuid"\n').message).toContain('key machine_id');
    expect(configError(`machine_id = "${MID}"\ncolour = "red"\n`).message).toContain('colour');
    expect(configError(`machine_id = "${MID}"\n[mesh]\ntoken = "short"\n`).message).toContain('at least 16');
    expect(configError(`machine_id = "${MID}"\npeers = ["ftp://x"]\n`).message).toContain('key peers.0');
  });

  it('accepts the first version\'s [groups] table', () => {
    const c = parseConfig(`machine_id = "${MID}"\n[groups]\napi = ["desk:api-*", "build:*"]\n`, 'x');
    expect(c.groups).toEqual({ api: ['desk:api-*', 'build:*'] });
  });

  it('edits peers without touching other lines or comments', () => {
    const text = initialConfigText(newMachineId(), 'desk');
    const edited = setPeersInText(text, ['http://[::1]:8766', 'http://198.18.0.2:8765']);
    expect(edited.split('\n').filter((l) => !l.startsWith('peers'))).toEqual(text.split('\n').filter((l) => !l.startsWith('peers')));
    expect(parseConfig(edited, 'x').peers).toEqual(['http://[::1]:8766', 'http://198.18.0.2:8765']);
    expect(parseConfig(setPeersInText(edited, []), 'x').peers).toEqual([]);
  });

  it('says to run init when the file is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clare-cfg-'));
    expect(() => loadConfig(join(dir, 'clare.toml'))).toThrow(/run `clare init` first/);
    writeFileSync(join(dir, 'clare.toml'), initialConfigText(newMachineId(), 'x'));
    expect(loadConfig(join(dir, 'clare.toml')).file).toBe(join(dir, 'clare.toml'));
    expect(readFileSync(join(dir, 'clare.toml'), 'utf8')).toContain('machine_id');
  });

  it('follows the XDG variables', () => {
    expect(clarePaths({ HOME: '/home/u' })).toEqual({
      configDir: '/home/u/.config/clare', configFile: '/home/u/.config/clare/clare.toml',
      dataDir: '/home/u/.local/share/clare', dbFile: '/home/u/.local/share/clare/clare.db',
    });
    const p = clarePaths({ HOME: '/home/u', XDG_CONFIG_HOME: '/cfg', XDG_DATA_HOME: '/data' });
    expect([p.configFile, p.dbFile]).toEqual(['/cfg/clare/clare.toml', '/data/clare/clare.db']);
    expect(clarePaths({ HOME: '/h', XDG_DATA_HOME: '' }).dbFile).toBe('/h/.local/share/clare/clare.db');
  });
});
