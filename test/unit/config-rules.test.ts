// clare.toml rules added for the trust work: what a mesh token may be, the
// [server] allowed_hosts / allowed_origins lists, the token `clare init --mesh`
// writes, and errors that point at the right line for every shape of mistake.
import { describe, expect, it } from 'vitest';
import { initialConfigText, newMeshToken, parseConfig, setMeshTokenInText } from '../../src/core/config.js';
import { ClareError } from '../../src/core/errors.js';

const MID = '2f1c7a52-9a4e-4c1e-8f55-0d6b3f0a9e11';
const FILE = '/etc/clare.toml';

function configError(text: string): ClareError {
  try {
    parseConfig(text, FILE);
  } catch (e) {
    if (e instanceof ClareError) return e;
    throw e;
  }
  throw new Error('expected a config error');
}

/** A config with `token` as a TOML basic string (DEL escaped: TOML refuses it raw). */
const withToken = (token: string): string => `machine_id = "${MID}"\n\n[mesh]\ntoken = ${JSON.stringify(token).replace(/\u007f/g, '\\u007F')}\n`;

describe('the mesh token', () => {
  it('refuses spaces, control and non-ASCII characters, naming the rule and the line', () => {
    for (const bad of ['correct horse battery staple', 'tab\tinside-the-token-xx', 'ünïcödé-token-0123456789', 'emoji-token-0123456789-🔑', 'nul\u0000inside-the-token-xx', 'del\u007finside-the-token-xx']) {
      const e = configError(withToken(bad));
      expect(e.code, bad).toBe('CLARE_CONFIG');
      expect(e.message, bad).toContain(`${FILE}:4: key mesh.token`);
      expect(e.message, bad).toContain('printable ASCII without spaces');
    }
  });

  it('refuses fewer than 16 characters, naming the rule', () => {
    expect(configError(withToken('0123456789abcde')).message).toContain('at least 16 characters');
    expect(parseConfig(withToken('0123456789abcdef'), FILE).mesh.token).toBe('0123456789abcdef');
  });

  it('accepts every printable ASCII character but space', () => {
    let all = '';
    for (let c = 0x21; c <= 0x7e; c++) all += String.fromCharCode(c);
    // TOML basic string: escape the quote and the backslash.
    const text = `machine_id = "${MID}"\n[mesh]\ntoken = "${all.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"\n`;
    expect(parseConfig(text, FILE).mesh.token).toBe(all);
  });

  it('init --mesh writes a random 32-byte base64url token the config accepts', () => {
    const a = newMeshToken();
    const b = newMeshToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(a).not.toBe(b);
    const text = setMeshTokenInText(initialConfigText(MID as never, 'desk'), a);
    expect(parseConfig(text, FILE).mesh.token).toBe(a);
    // Only the token line changed.
    const before = initialConfigText(MID as never, 'desk').split('\n');
    const after = text.split('\n');
    expect(after.length).toBe(before.length);
    expect(after.filter((l, i) => l !== before[i])).toEqual([`token = "${a}"`]);
  });

  it('setMeshTokenInText adds a [mesh] table when the file has none, and replaces an existing token', () => {
    const t1 = setMeshTokenInText(`machine_id = "${MID}"\n`, 'first-token-0123456789');
    expect(parseConfig(t1, FILE).mesh.token).toBe('first-token-0123456789');
    const t2 = setMeshTokenInText(t1, 'second-token-0123456789');
    expect(parseConfig(t2, FILE).mesh.token).toBe('second-token-0123456789');
    expect(t2.match(/token =/g)).toHaveLength(1);
  });
});

describe('[server] allowed_hosts and allowed_origins', () => {
  it('default to empty lists', () => {
    const c = parseConfig(initialConfigText(MID as never, 'desk'), FILE);
    expect(c.server.allowed_hosts).toEqual([]);
    expect(c.server.allowed_origins).toEqual([]);
  });

  it('take host names (lower-cased) and origins (normalised)', () => {
    const c = parseConfig(`machine_id = "${MID}"\n[server]\nallowed_hosts = ["Desk.Mesh.LAN", "build"]\nallowed_origins = ["https://Clare.Example.org", "http://desk.mesh.lan:8765/"]\n`, FILE);
    expect(c.server.allowed_hosts).toEqual(['desk.mesh.lan', 'build']);
    expect(c.server.allowed_origins).toEqual(['https://clare.example.org', 'http://desk.mesh.lan:8765']);
  });

  it('refuse what is not a host name or an origin, pointing at the line', () => {
    expect(configError(`machine_id = "${MID}"\n[server]\nallowed_hosts = ["desk:8765"]\n`).message).toContain(`${FILE}:3: key server.allowed_hosts.0`);
    expect(configError(`machine_id = "${MID}"\n[server]\nallowed_hosts = ["*"]\n`).message).toContain('allowed_hosts.0');
    const e = configError(`machine_id = "${MID}"\n[server]\nallowed_origins = ["https://x.example/path"]\n`);
    expect(e.message).toContain(`${FILE}:3: key server.allowed_origins.0`);
    expect(e.message).toContain('scheme://host[:port]');
    expect(configError(`machine_id = "${MID}"\n[server]\nallowed_origins = ["null"]\n`).message).toContain('allowed_origins.0');
    expect(configError(`machine_id = "${MID}"\n[server]\nallowed_origins = ["*"]\n`).message).toContain('allowed_origins.0');
  });
});

describe('config errors point at the line', () => {
  it('an unknown top-level key: its own line, and its name', () => {
    const e = configError(`machine_id = "${MID}"\nname = "desk"\ncolour = "red"\n`);
    expect(e.message).toContain(`${FILE}:3: key colour`);
    expect(e.details).toMatchObject({ key: 'colour', line: 3 });
  });

  it('an unknown key in a table: its own line, not the header\'s', () => {
    const e = configError(`machine_id = "${MID}"\n\n[server]\nhost = "127.0.0.1"\nprot = 8765\n`);
    expect(e.message).toContain(`${FILE}:5: key server.prot`);
  });

  it('an unknown table: the header line', () => {
    const e = configError(`machine_id = "${MID}"\n\n[servr]\nport = 8765\n`);
    expect(e.message).toContain(`${FILE}:3: key servr`);
  });

  it('a key with the same name in another table is not mistaken for it', () => {
    const e = configError(`machine_id = "${MID}"\n[rclaude]\ntimeout_ms = 10000\n[mesh]\ntimeout_ms = 5\n`);
    expect(e.message).toContain(`${FILE}:5: key mesh.timeout_ms`);
  });

  it('a bad element of an array: the array\'s line, with its index', () => {
    const e = configError(`machine_id = "${MID}"\nname = "desk"\npeers = [\n  "http://198.18.0.2:8765",\n  "ftp://x",\n]\n`);
    expect(e.message).toContain('key peers.1');
    expect(e.details).toMatchObject({ line: 3 });
  });

  it('a bad value in a nested table ([groups] of the first version)', () => {
    const e = configError(`machine_id = "${MID}"\n\n[groups]\napi = ["desk:api-*"]\nweb = ["not a pattern"]\n`);
    expect(e.message).toContain(`${FILE}:5: key groups.web.0`);
  });

  it('a dotted key and an inline table', () => {
    expect(configError(`machine_id = "${MID}"\nserver.port = 0\n`).message).toContain(`${FILE}:2: key server.port`);
    expect(configError(`machine_id = "${MID}"\nserver = { host = "127.0.0.1", port = 0 }\n`).message).toContain(`${FILE}:2: key server.port`);
  });

  it('a value of the wrong type', () => {
    expect(configError(`machine_id = "${MID}"\n[server]\nport = "8765"\n`).message).toContain(`${FILE}:3: key server.port`);
    expect(configError(`machine_id = "${MID}"\npeers = "http://198.18.0.2:8765"\n`).message).toContain(`${FILE}:2: key peers`);
  });
});
