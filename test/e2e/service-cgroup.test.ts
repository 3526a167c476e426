/**
 * Agents survive a daemon restart. Under systemd, `clare serve` and everything it
 * starts live in clare.service's cgroup — including the tmux servers rclaude starts
 * for `clare spawn`. This test runs the daemon as the unit does (its own cgroup v2
 * group, no-new-privileges, umask 0077), spawns a session through it, shows the tmux
 * server landed in the daemon's cgroup, then stops the daemon the way systemd does
 * with the unit's KillMode=process (SIGTERM to the main process only): the session
 * lives on and a new daemon finds it. Last, it does what the default
 * KillMode=control-group would do (kill the whole cgroup): the agent dies with it.
 * Needs a writable cgroup v2 hierarchy (root, or a delegated subtree); skips loudly otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, machinePool, ROOT, STANDIN_DIR, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

/** A cgroup v2 group we may create and move processes into, or why not. */
function cgroupRoot(): { dir: string } | { why: string } {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l));
  if (line === undefined) return { why: 'no cgroup v2 hierarchy is mounted' };
  const mount = line.split(' ')[4]!;
  const dir = join(mount, `clare-unit-test-${process.pid}`);
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, 'cgroup.procs'), ''); // probe: fails with EACCES when not delegated
  } catch (e) {
    try { rmdirSync(dir); } catch { /* was not created */ }
    return { why: `cannot create a cgroup under ${mount}: ${(e as Error).message}` };
  }
  return { dir };
}

const cg = cgroupRoot();
const pool = machinePool();
afterAll(async () => {
  await pool.release();
  if ('dir' in cg && existsSync(cg.dir)) {
    if (existsSync(join(cg.dir, 'cgroup.kill'))) writeFileSync(join(cg.dir, 'cgroup.kill'), '1');
    await waitFor('the test cgroup to empty', () => readFileSync(join(cg.dir, 'cgroup.procs'), 'utf8').trim() === '', 10_000);
    rmdirSync(cg.dir);
  }
});

const cgroupOf = (pid: number): string => readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

/** Starts `clare serve` as the unit would: in the cgroup, umask 0077, no new privileges. */
function serveAsUnit(m: TestMachine, dir: string): ChildProcess {
  const script = `echo $$ > ${JSON.stringify(join(dir, 'cgroup.procs'))} && umask 0077 && exec setpriv --no-new-privs ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} serve`;
  return spawn('sh', ['-c', script], { env: m.env, stdio: ['ignore', 'ignore', 'pipe'] });
}

async function healthy(m: TestMachine): Promise<void> {
  await waitFor('the daemon to answer', async () => (await fetch(`${m.url}/api/v1/health`)).ok, 15_000);
}

async function stopMain(p: ChildProcess): Promise<void> {
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exited;
}

const tmuxServerPid = (m: TestMachine): number =>
  Number(spawnSync('tmux', ['-L', m.env['RCLAUDE_TMUX_SOCKET']!, 'display-message', '-p', '#{pid}'], { encoding: 'utf8' }).stdout.trim());

const listed = (m: TestMachine): string =>
  spawnSync(join(STANDIN_DIR, 'rclaude'), ['_claude-projects', '--sessions'], { env: m.env, encoding: 'utf8' }).stdout;

describe('the systemd unit keeps agents alive across a daemon restart', () => {
  it('the unit sets KillMode=process', () => {
    const unit = readFileSync(join(ROOT, 'deploy/clare.service'), 'utf8');
    expect(unit).toMatch(/^KillMode=process$/m);
  });

  const setpriv = spawnSync('setpriv', ['--version']).status === 0;
  if (!('dir' in cg) || !setpriv) {
    const why = 'dir' in cg ? 'setpriv (util-linux) is not installed' : cg.why;
    console.warn(`SKIPPED: the cgroup test of KillMode (${why})`);
    it.skip(`spawned sessions outlive the daemon (skipped: ${why})`, () => undefined);
    return;
  }

  it('a session spawned through the daemon lives in its cgroup, survives a KillMode=process stop, and dies with a control-group kill', async () => {
    const m = await pool.machine({ name: 'desk' });
    const work = join(m.dir, 'work');
    mkdirSync(work);
    const first = serveAsUnit(m, cg.dir);
    await healthy(m);
    const daemonPid = Number(readFileSync(join(cg.dir, 'cgroup.procs'), 'utf8').trim().split('\n')[0]);
    expect(/^NoNewPrivs:\s+1$/m.test(readFileSync(`/proc/${daemonPid}/status`, 'utf8'))).toBe(true);

    // rclaude works under the unit's hardening: spawn, list, send.
    const sp = m.cli(['spawn', 'desk', '--name', 'agent-1', '--cwd', work, '--json']);
    expect(sp.code, sp.stderr).toBe(0);
    const tmux = tmuxServerPid(m);
    expect(tmux).toBeGreaterThan(0);
    // The problem the unit fixes: the agent's tmux server is in the daemon's (the service's) cgroup.
    expect(cgroupOf(tmux)).toBe(cgroupOf(daemonPid));
    expect(m.cli(['group', 'add', 'all', 'desk:*']).code).toBe(0);
    expect(m.cli(['broadcast', 'all', 'hello from the unit']).code).toBe(0);
    await waitFor('the broadcast typed into the session', () => readFileSync(join(m.env['RCLAUDE_STATE_DIR']!, 'sends.log'), 'utf8').includes('hello from the unit'), 15_000);

    // systemctl restart with KillMode=process: SIGTERM to the main process only.
    await stopMain(first);
    expect(alive(tmux)).toBe(true);
    expect(listed(m)).toMatch(/\tagent-1\t[^\t]*\t(working|waiting|idle)\t/);

    const second = serveAsUnit(m, cg.dir);
    try {
      await healthy(m);
      const st = m.cliJson<{ hosts: { name: string; sessions: { session: string }[] }[] }>(['status']);
      expect(st.hosts.find((h) => h.name === 'desk')?.sessions.map((s) => s.session)).toContain('agent-1');
      expect(m.cliJson<{ sessions: number }>(['pull']).sessions).toBe(1);
    } finally {
      await stopMain(second);
    }

    // What the default KillMode=control-group does on stop: every process of the cgroup goes.
    writeFileSync(join(cg.dir, 'cgroup.kill'), '1');
    await waitFor('the cgroup to empty', () => readFileSync(join(cg.dir, 'cgroup.procs'), 'utf8').trim() === '', 10_000);
    expect(alive(tmux)).toBe(false);
    // The stand-in lists a session whose tmux session is gone as exited.
    expect(listed(m)).toMatch(/\tagent-1\t[^\t]*\texited\t/);
  });
});
