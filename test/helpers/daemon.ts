/**
 * Real daemons for end-to-end tests: the built `clare` binary (dist/cli/main.js)
 * run as a child process with its own XDG dirs on a free loopback port, and the
 * rclaude stand-in on PATH. Waits on conditions with deadlines, never fixed sleeps.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from './wait-for.js';

export const ROOT = resolve(import.meta.dirname, '../..');
/** The shipped binary (the esbuild bundle that package.json's bin points at). */
export const CLI = join(ROOT, 'dist/cli/clare.js');
export const STANDIN_DIR = join(ROOT, 'test/fixtures/rclaude');

/**
 * The lowest port the kernel hands out for outgoing connections and `listen(0)`
 * (net.ipv4.ip_local_port_range; 32768 when it cannot be read).
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}

function tryBind(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1 for a daemon to bind a moment later. Chosen at random
 * below the ephemeral range, and checked by binding it: a port from `listen(0)` is an
 * ephemeral one, which any outgoing connection or other listener on the machine may
 * take before the daemon binds it (seen: "port … is taken" when five daemons started
 * beside a busy suite).
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.max(1024, high - 12_000);
  for (let i = 0; i < 200; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await tryBind(port)) return port;
  }
  throw new Error(`no free port found in ${low}–${high} after 200 tries`);
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TestMachine {
  readonly name: string;
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly port: number;
  readonly url: string;
  readonly configFile: string;
  /** Runs the built CLI synchronously with this machine's environment. */
  cli(args: readonly string[], extraEnv?: NodeJS.ProcessEnv): CliResult;
  /** Runs the CLI and parses --json output; throws with stderr on a non-zero exit. */
  cliJson<T>(args: readonly string[]): T;
  /** Starts `clare serve`; resolves when /api/v1/status answers. */
  start(): Promise<void>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  running(): boolean;
  /** The daemon's process id while it runs. */
  pid(): number | undefined;
  /** Daemon stderr (JSON log lines) so far. */
  log(): string;
  api<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  /** Removes the machine's temp dir (after stop). */
  cleanup(): void;
}

export interface MachineOptions {
  readonly name: string;
  readonly peers?: readonly string[];
  readonly token?: string;
  readonly port?: number;
  readonly extraToml?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Put the rclaude stand-in on PATH (default true). */
  readonly rclaude?: boolean;
  /** Run the daemon and CLI inside this network namespace (mesh tests). */
  readonly netns?: string;
  /** `[server] host` to bind (default 127.0.0.1). */
  readonly bind?: string;
  /** Address the test process uses to reach the daemon (default 127.0.0.1). */
  readonly reachAt?: string;
  /** Another build's CLI script (an earlier release, for upgrade tests); default the current one. */
  readonly cli?: string;
}

/** Creates a machine: temp XDG dirs, `clare init`, a config with a free port. Does not start it. */
export async function createMachine(o: MachineOptions): Promise<TestMachine> {
  const dir = mkdtempSync(join(tmpdir(), `clare-${o.name}-`));
  const port = o.port ?? (await freePort());
  const basePath = (process.env['PATH'] ?? '').split(':').filter((p) => p !== STANDIN_DIR).join(':');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    HOME: dir,
    PATH: o.rclaude === false ? basePath : `${STANDIN_DIR}:${basePath}`,
    RCLAUDE_HOST: o.name,
    RCLAUDE_STATE_DIR: join(dir, 'rclaude'),
    RCLAUDE_TMUX_SOCKET: `clare-test-${o.name}-${process.pid}-${port}`,
    CLARE_LOG_LEVEL: 'debug',
    ...o.env,
  };
  delete env['CLARE_URL'];
  // Inside a namespace every process goes through `ip netns exec`.
  const cli = o.cli ?? CLI;
  const command = (args: readonly string[]): [string, string[]] =>
    o.netns === undefined ? [process.execPath, [cli, ...args]] : ['ip', ['netns', 'exec', o.netns, process.execPath, cli, ...args]];
  const run = (args: readonly string[], extraEnv?: NodeJS.ProcessEnv): CliResult => {
    const [cmd, argv] = command(args);
    const r = spawnSync(cmd, argv, { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 30_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const init = run(['init', '--name', o.name]);
  if (init.code !== 0) throw new Error(`clare init failed: ${init.stderr}`);
  const configFile = join(dir, 'config', 'clare', 'clare.toml');
  let toml = readFileSync(configFile, 'utf8').replace('port = 8765', `port = ${port}`);
  if (o.peers !== undefined) toml = toml.replace(/^peers = \[\]/m, `peers = [${o.peers.map((p) => JSON.stringify(p)).join(', ')}]`);
  if (o.token !== undefined) toml = toml.replace(/^# token = .*$/m, `token = ${JSON.stringify(o.token)}`);
  if (o.bind !== undefined) toml = toml.replace('host = "127.0.0.1"', `host = ${JSON.stringify(o.bind)}`);
  if (o.extraToml !== undefined) toml += `\n${o.extraToml}\n`;
  writeFileSync(configFile, toml);

  let child: ChildProcess | null = null;
  let stderr = '';
  let exited: Promise<number | null> = Promise.resolve(null);
  const url = `http://${o.reachAt ?? '127.0.0.1'}:${port}`;
  const m: TestMachine = {
    name: o.name, dir, env, port, url, configFile,
    cli: run,
    cliJson<T>(args: readonly string[]): T {
      const r = run([...args, '--json']);
      if (r.code !== 0) throw new Error(`clare ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    async start() {
      stderr = '';
      const [cmd, argv] = command(['serve']);
      const c = spawn(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      c.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      exited = new Promise((res) => c.once('exit', (code) => res(code)));
      await waitFor(`daemon ${o.name} on ${url}`, async () => {
        if (c.exitCode !== null) throw new Error(`daemon exited ${c.exitCode}: ${stderr}`);
        const r = await fetch(`${url}/api/v1/status`, o.token === undefined ? {} : { headers: { authorization: `Bearer ${o.token}` } }).catch(() => null);
        return r !== null && r.status === 200;
      }, 60_000); // a start-up under load takes 10+ s; what tests measure comes after
    },
    async stop() {
      if (child === null || child.exitCode !== null) return child?.exitCode ?? null;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child === null || child.exitCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    running: () => child !== null && child.exitCode === null && child.signalCode === null,
    pid: () => child?.pid,
    log: () => stderr,
    async api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const h: Record<string, string> = { ...headers };
      if (o.token !== undefined && h['authorization'] === undefined) h['authorization'] = `Bearer ${o.token}`;
      if (body !== undefined) h['content-type'] = 'application/json';
      const r = await fetch(`${url}/api/v1${path}`, { method, headers: h, signal: AbortSignal.timeout(10_000), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await r.text();
      return { status: r.status, body: (text === '' ? null : JSON.parse(text)) as T };
    },
    cleanup() {
      spawnSync(join(STANDIN_DIR, 'rclaude'), ['_kill-all'], { env, timeout: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return m;
}

/**
 * Machines made through the returned `machine()` are stopped and cleaned up by
 * `release()` (call it from afterEach/afterAll), so a failing test leaves nothing running.
 */
export function machinePool(): { machine: (o: MachineOptions) => Promise<TestMachine>; release: () => Promise<void> } {
  const made: TestMachine[] = [];
  return {
    async machine(o) {
      const m = await createMachine(o);
      made.push(m);
      return m;
    },
    async release() {
      const all = made.splice(0);
      await Promise.all(all.map((m) => m.stop()));
      for (const m of all) m.cleanup();
    },
  };
}
