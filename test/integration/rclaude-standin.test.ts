// Exercises the rclaude stand-in (test/fixtures/rclaude/rclaude) directly,
// against real tmux, so the fixture every other test leans on is itself
// checked: the contract verbs, the fake agent's states, and each fault mode.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/wait-for.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RCLAUDE = path.resolve(HERE, '../fixtures/rclaude/rclaude');

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface RunResult { status: number; stdout: string; stderr: string; ms: number }
type Row = Record<string, string>;

const root = mkdtempSync(path.join(os.tmpdir(), 'rclaude-standin-test-'));
// Unique per run, so parallel test files and leftovers never share a tmux server.
const tag = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const hostsUsed = new Set<string>();

function hostName(suffix: string): string {
  const h = `t${tag}-${suffix}`;
  hostsUsed.add(h);
  return h;
}

function stateDir(host: string): string {
  return path.join(root, 'state', host);
}

/** Runs the stand-in as `host`, with no RCLAUDE_* leaking in from the outer env. */
function run(host: string | null, args: string[], extra: Record<string, string> = {}): RunResult {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RCLAUDE_')) env[k] = v;
  if (host !== null) {
    env.RCLAUDE_HOST = host;
    env.RCLAUDE_STATE_DIR = stateDir(host);
  }
  Object.assign(env, extra);
  const t0 = Date.now();
  const r = spawnSync(RCLAUDE, args, { encoding: 'utf8', env, timeout: 20_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0 };
}

/** Parses the TSV listing by header name. */
function parseListing(stdout: string): { header: string[]; rows: Row[] } {
  const lines = stdout.split('\n').filter((l) => l !== '');
  const header = (lines[0] ?? '').split('\t');
  const rows = lines.slice(1).map((l) => {
    const cells = l.split('\t');
    const row: Row = {};
    header.forEach((h, i) => { row[h] = cells[i] ?? ''; });
    return row;
  });
  return { header, rows };
}

function list(host: string, extra: Record<string, string> = {}): Row[] {
  const r = run(host, ['_claude-projects', '--sessions'], extra);
  expect(r.status, r.stderr).toBe(0);
  return parseListing(r.stdout).rows;
}

function rowOf(host: string, session: string): Row | undefined {
  return list(host).find((r) => r.session === session);
}

function capture(host: string, session: string, lines = 50): string {
  const r = run(host, ['capture', `${host}:${session}`, '--lines', String(lines)]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function spawnSession(host: string, name: string, extra: Record<string, string> = {}): string {
  const cwd = path.join(root, 'work', host, name);
  mkdirSync(cwd, { recursive: true });
  const r = run(host, ['spawn', host, '--name', name, '--cwd', cwd], extra);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.split('\n').filter(Boolean).length).toBeLessThanOrEqual(1);
  return cwd;
}

function sendsLog(host: string): { host: string; session: string; text: string; at: string }[] {
  const f = path.join(stateDir(host), 'sends.log');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { host: string; session: string; text: string; at: string });
}

/** Where tmux keeps a `-L name` socket; tmux leaves the file behind when a server exits. */
function socketFile(name: string): string {
  return path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, name);
}

afterAll(() => {
  for (const h of hostsUsed) {
    run(h, ['_kill-all']);
    // Belt and braces: the socket name is the stand-in's documented default.
    spawnSync('tmux', ['-L', `rclaude-${h}`, 'kill-server'], { stdio: 'ignore' });
    rmSync(socketFile(`rclaude-${h}`), { force: true });
  }
  rmSync(root, { recursive: true, force: true });
});

describe('rclaude stand-in: basics', () => {
  it('prints a one-line version, even without RCLAUDE_HOST', () => {
    const r = run(null, ['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^rclaude \d+\.\d+\.\d+\S*\n$/);
  });

  it('exits 2 with a clear message when RCLAUDE_HOST is missing', () => {
    const r = run(null, ['_claude-projects', '--sessions']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('RCLAUDE_HOST');
  });

  it('lists only the header when the host has no tmux server', () => {
    const host = hostName('empty');
    const r = run(host, ['_claude-projects', '--sessions']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('host\tsession\tcwd\tstate\tlast_activity\n');
  });

  it('rejects unknown verbs and bad usage with exit 2', () => {
    const host = hostName('usage');
    expect(run(host, ['frobnicate']).status).toBe(2);
    expect(run(host, ['send', `${host}:x`]).status).toBe(2);
    expect(run(host, ['capture', `${host}:x`, '--lines', 'many']).status).toBe(2);
    expect(run(host, [], {}).status).toBe(2);
  });
});

describe('rclaude stand-in: sessions', () => {
  let host = '';
  beforeAll(() => { host = hostName('main'); });

  it('spawns a session that is listed idle with its cwd, and refuses a duplicate name', () => {
    const cwd = spawnSession(host, 'alpha');
    const row = rowOf(host, 'alpha');
    expect(row).toMatchObject({ host, session: 'alpha', cwd, state: 'idle' });
    expect(row?.last_activity).toMatch(ISO_RE);
    expect(capture(host, 'alpha')).toContain(`fake-agent alpha ready in ${cwd}`);

    const dup = run(host, ['spawn', host, '--name', 'alpha', '--cwd', cwd]);
    expect(dup.status).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
  });

  it('refuses invalid names, missing cwd and other hosts', () => {
    expect(run(host, ['spawn', host, '--name', 'a.b', '--cwd', root]).status).toBe(1);
    expect(run(host, ['spawn', host, '--name', 'nocwd', '--cwd', path.join(root, 'does-not-exist')]).status).toBe(1);
    const other = run(host, ['spawn', 'elsewhere', '--name', 'x', '--cwd', root]);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/not this host/);
  });

  it('sends literal text + Enter: the screen shows it echoed and received, and the state goes working -> idle', async () => {
    // A long "work" time makes the working state observable by polling.
    spawnSession(host, 'beta', { RCLAUDE_STANDIN_WORK_MS: '1500' });
    const text = `fix it's "bug" $HOME; -x \`id\` #1`;
    const r = run(host, ['send', `${host}:beta`, text]);
    expect(r.status, r.stderr).toBe(0);

    await waitFor('state working', () => rowOf(host, 'beta')?.state === 'working');
    const screen = await waitFor('received line', () => {
      const s = capture(host, 'beta');
      return s.includes(`> received: ${text}`) ? s : null;
    });
    // The pty echoes the typed text itself before the agent's reply.
    expect(screen.split('\n')).toContain(text);

    await waitFor('state idle', () => rowOf(host, 'beta')?.state === 'idle');
    expect(capture(host, 'beta')).toContain(`done: ${text}`);
  });

  it('goes to waiting after a question', async () => {
    spawnSession(host, 'gamma', { RCLAUDE_STANDIN_WORK_MS: '100' });
    expect(run(host, ['send', `${host}:gamma`, 'which branch?']).status).toBe(0);
    await waitFor('state waiting', () => rowOf(host, 'gamma')?.state === 'waiting');
  });

  it('logs every delivered send exactly once', async () => {
    spawnSession(host, 'delta', { RCLAUDE_STANDIN_WORK_MS: '10' });
    const before = sendsLog(host).filter((s) => s.session === 'delta');
    expect(before).toEqual([]);
    for (const t of ['one', 'two', 'three']) expect(run(host, ['send', `${host}:delta`, t]).status).toBe(0);
    const sends = sendsLog(host).filter((s) => s.session === 'delta');
    expect(sends.map((s) => s.text)).toEqual(['one', 'two', 'three']);
    for (const s of sends) {
      expect(s.host).toBe(host);
      expect(s.at).toMatch(ISO_RE);
    }
    await waitFor('all three done', () => capture(host, 'delta').includes('done: three'));
  });

  it('capture --lines N returns at most the last N lines, trailing blanks trimmed', async () => {
    spawnSession(host, 'eps', { RCLAUDE_STANDIN_WORK_MS: '10' });
    for (let i = 1; i <= 5; i++) expect(run(host, ['send', `${host}:eps`, `line ${i}`]).status).toBe(0);
    await waitFor('all lines done', () => capture(host, 'eps').includes('done: line 5'));
    const out = capture(host, 'eps', 3);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.endsWith('\n\n')).toBe(false);
    const lines = out.split('\n').slice(0, -1);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('done: line 5');
  });

  it('send / capture to an unknown session or another host exit 1', () => {
    const a = run(host, ['send', `${host}:nobody`, 'hi']);
    expect(a.status).toBe(1);
    expect(a.stderr).toMatch(/unknown session/);
    expect(run(host, ['capture', `${host}:nobody`, '--lines', '5']).status).toBe(1);
    const b = run(host, ['send', 'elsewhere:alpha', 'hi']);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/not this host/);
    expect(sendsLog(host).filter((s) => s.session === 'nobody')).toEqual([]);
  });

  it('keeps an exited session listed as exited until _kill', async () => {
    spawnSession(host, 'zeta');
    expect(run(host, ['send', `${host}:zeta`, '/exit']).status).toBe(0);
    const row = await waitFor('state exited', () => {
      const r = rowOf(host, 'zeta');
      return r?.state === 'exited' ? r : null;
    });
    expect(row.last_activity).toMatch(ISO_RE);
    // Still exited on a second look (the tmux session is gone, the state file stays).
    expect(rowOf(host, 'zeta')?.state).toBe('exited');
    const s = run(host, ['send', `${host}:zeta`, 'hello?']);
    expect(s.status).toBe(1);
    expect(s.stderr).toMatch(/exited/);

    expect(run(host, ['_kill', `${host}:zeta`]).status).toBe(0);
    expect(rowOf(host, 'zeta')).toBeUndefined();
    expect(run(host, ['_kill', `${host}:zeta`]).status).toBe(1);
  });

  it('reports a session killed behind its back as exited', async () => {
    spawnSession(host, 'eta');
    const tm = spawnSync('tmux', ['-L', `rclaude-${host}`, 'kill-session', '-t', '=eta'], { encoding: 'utf8' });
    expect(tm.status, tm.stderr).toBe(0);
    await waitFor('state exited', () => rowOf(host, 'eta')?.state === 'exited');
  });

  it('lists a bare tmux session (no agent state) as idle', () => {
    const tm = spawnSync('tmux', ['-f', '/dev/null', '-L', `rclaude-${host}`, 'new-session', '-d', '-s', 'bare', '--', 'cat'], { encoding: 'utf8' });
    expect(tm.status, tm.stderr).toBe(0);
    const row = rowOf(host, 'bare');
    expect(row).toMatchObject({ session: 'bare', state: 'idle' });
    expect(row?.last_activity).toMatch(ISO_RE);
  });

  it('keeps hosts isolated and _kill-all empties a host', () => {
    const other = hostName('other');
    spawnSession(other, 'only-here');
    expect(list(other).map((r) => r.session)).toEqual(['only-here']);
    expect(list(host).map((r) => r.session)).not.toContain('only-here');
    expect(run(other, ['_kill-all']).status).toBe(0);
    expect(list(other)).toEqual([]);
    // A second _kill-all on a host without a server is fine too.
    expect(run(other, ['_kill-all']).status).toBe(0);
  });

  it('honours RCLAUDE_TMUX_SOCKET', () => {
    const h = hostName('sock');
    const sock = `rclaude-custom-${tag}`;
    try {
      const cwd = path.join(root, 'work', 'sock');
      mkdirSync(cwd, { recursive: true });
      expect(run(h, ['spawn', h, '--name', 's', '--cwd', cwd], { RCLAUDE_TMUX_SOCKET: sock }).status).toBe(0);
      const has = spawnSync('tmux', ['-L', sock, 'has-session', '-t', '=s']);
      expect(has.status).toBe(0);
      expect(list(h, { RCLAUDE_TMUX_SOCKET: sock }).map((r) => r.session)).toEqual(['s']);
    } finally {
      spawnSync('tmux', ['-L', sock, 'kill-server'], { stdio: 'ignore' });
      rmSync(socketFile(sock), { force: true });
    }
  });
});

describe('rclaude stand-in: failure modes', () => {
  let host = '';
  beforeAll(() => {
    host = hostName('faults');
    spawnSession(host, 'ok1');
  });

  const listing = (fault: string, extra: Record<string, string> = {}): RunResult =>
    run(host, ['_claude-projects', '--sessions'], { RCLAUDE_STANDIN_FAULT: fault, ...extra });

  it('garbage: non-TSV junk and a row with a bad state', () => {
    const r = listing('garbage');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines.some((l) => !l.includes('\t'))).toBe(true);
    const { rows } = parseListing(lines.filter((l) => l.includes('\t')).join('\n'));
    expect(rows.some((row) => !['working', 'waiting', 'idle', 'exited'].includes(row.state ?? ''))).toBe(true);
  });

  it('bad-state: a row with a state outside the enum', () => {
    const { rows } = parseListing(listing('bad-state').stdout);
    expect(rows.find((row) => row.session === 'bad-state-row')?.state).toBe('confused');
    expect(rows.find((row) => row.session === 'ok1')?.state).toBe('idle');
  });

  it('bad-date: a row whose last_activity is not a real instant', () => {
    const { rows } = parseListing(listing('bad-date').stdout);
    const bad = rows.find((row) => row.session === 'bad-date-row');
    expect(bad).toBeDefined();
    expect(Number.isNaN(Date.parse(bad!.last_activity ?? ''))).toBe(true);
  });

  it('missing-column: header and rows lack last_activity', () => {
    const { header, rows } = parseListing(listing('missing-column').stdout);
    expect(header).toEqual(['host', 'session', 'cwd', 'state']);
    expect(rows.find((row) => row.session === 'ok1')).toBeDefined();
  });

  it('extra-column: valid output with an unknown trailing column', () => {
    const { header, rows } = parseListing(listing('extra-column').stdout);
    expect(header.slice(0, 5)).toEqual(['host', 'session', 'cwd', 'state', 'last_activity']);
    expect(header.length).toBe(6);
    const row = rows.find((x) => x.session === 'ok1');
    expect(row?.state).toBe('idle');
    expect(row?.last_activity).toMatch(ISO_RE);
  });

  it('slow: answers correctly after RCLAUDE_STANDIN_SLOW_MS', () => {
    const r = listing('slow', { RCLAUDE_STANDIN_SLOW_MS: '600' });
    expect(r.status).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(600);
    expect(parseListing(r.stdout).rows.map((x) => x.session)).toContain('ok1');
    const v = run(host, ['--version'], { RCLAUDE_STANDIN_FAULT: 'slow', RCLAUDE_STANDIN_SLOW_MS: '300' });
    expect(v.status).toBe(0);
    expect(v.ms).toBeGreaterThanOrEqual(300);
  });

  it('fail: exit 3 with a message on stderr, for every verb', () => {
    const env = { RCLAUDE_STANDIN_FAULT: 'fail' };
    for (const args of [['--version'], ['_claude-projects', '--sessions'], ['send', `${host}:ok1`, 'x'], ['capture', `${host}:ok1`, '--lines', '5'], ['spawn', host, '--name', 'f', '--cwd', root]]) {
      const r = run(host, args, env);
      expect(r.status, args.join(' ')).toBe(3);
      expect(r.stderr).toMatch(/injected failure/);
      expect(r.stdout).toBe('');
    }
    expect(sendsLog(host).filter((s) => s.text === 'x')).toEqual([]);
  });

  it('RCLAUDE_STANDIN_FAULT_VERBS restricts the fault to the listed verbs', () => {
    const env = { RCLAUDE_STANDIN_FAULT: 'fail', RCLAUDE_STANDIN_FAULT_VERBS: 'send' };
    expect(run(host, ['_claude-projects', '--sessions'], env).status).toBe(0);
    expect(run(host, ['send', `${host}:ok1`, 'blocked'], env).status).toBe(3);
    expect(sendsLog(host).filter((s) => s.text === 'blocked')).toEqual([]);
    expect(run(host, ['send', `${host}:ok1`, 'blocked'], { RCLAUDE_STANDIN_FAULT_VERBS: 'send' }).status).toBe(0);
  });

  it('rejects an unknown fault name with exit 2', () => {
    expect(listing('typo').status).toBe(2);
  });

  it('teardown verbs ignore faults', () => {
    const h = hostName('teardown');
    spawnSession(h, 'x');
    expect(run(h, ['_kill', `${h}:x`], { RCLAUDE_STANDIN_FAULT: 'fail' }).status).toBe(0);
    expect(run(h, ['_kill-all'], { RCLAUDE_STANDIN_FAULT: 'fail' }).status).toBe(0);
  });
});
