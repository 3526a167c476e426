/**
 * One daemon of a fault campaign: its XDG dirs, config and rclaude stand-in host,
 * and the `clare serve` process (the built bundle, or a previous release's),
 * which the nemesis kills, restarts, wipes, restores and whose clock it steps.
 *
 * The clock is stepped without any hook in Clare: the process runs under
 * libfaketime (LD_PRELOAD) with a timestamp file it re-reads every second
 * (FAKETIME_CACHE_DURATION=1); monotonic clocks are left real
 * (FAKETIME_DONT_FAKE_MONOTONIC=1) so timers keep their pace.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScaleNow, waitFor } from '../../test/helpers/wait-for.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CURRENT_CLI = join(ROOT, 'dist/cli/clare.js');
export const STANDIN = join(ROOT, 'test/fixtures/rclaude');

/** libfaketime's multi-threaded build (Debian: faketime / libfaketime packages), or null. */
export function findFaketime(): string | null {
  for (const arch of readdirSync('/usr/lib')) {
    const f = join('/usr/lib', arch, 'faketime', 'libfaketimeMT.so.1');
    if (existsSync(f)) return f;
  }
  return null;
}

export interface CliOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a `clare` bundle synchronously (one minute at most). */
export function runCli(binary: string, args: readonly string[], env: NodeJS.ProcessEnv): CliOutput {
  const r = spawnSync(process.execPath, [binary, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface NodeOptions {
  readonly name: string;
  readonly root: string;
  readonly port: number;
  readonly token: string;
  readonly maxSkewMs: number;
  readonly pollIntervalS: number;
  /** The libfaketime library, or null to run without clock control. */
  readonly faketime: string | null;
  readonly logLevel?: string;
}

/**
 * The items of a list answer: the first version answers a JSON array, paged
 * builds `{ items, next_cursor }`. The campaign only ever needs the first page.
 */
export function listItems(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (typeof body === 'object' && body !== null && Array.isArray((body as { items?: unknown }).items)) return (body as { items: unknown[] }).items;
  return [];
}

/** What a response of the API looked like; `status` 0 when no answer came. */
export interface ApiAnswer<T> {
  readonly status: number;
  readonly body: T | null;
  readonly error?: string;
}

/** Every node started in this process, so an interrupted run can kill what it started. */
const LIVE = new Set<TortureNode>();

/** SIGKILLs every daemon this process started and kills their tmux servers (Ctrl-C). */
export function killEverything(): void {
  for (const n of LIVE) {
    if (n.running()) process.kill(n.pid!, 'SIGKILL');
    n.killSessions();
  }
}

export class TortureNode {
  readonly name: string;
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  readonly clockFile: string;
  machineId = '';
  /** The bundle this node runs now. */
  binary = CURRENT_CLI;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  clockOffsetMs = 0;

  constructor(readonly o: NodeOptions) {
    this.name = o.name;
    this.dir = join(o.root, o.name);
    this.port = o.port;
    this.url = `http://127.0.0.1:${o.port}`;
    this.logFile = join(this.dir, 'daemon.log');
    this.clockFile = join(this.dir, 'faketime.rc');
    mkdirSync(this.dir, { recursive: true });
    LIVE.add(this);
    const basePath = (process.env['PATH'] ?? '').split(':').filter((p) => p !== STANDIN).join(':');
    this.env = {
      ...process.env,
      XDG_CONFIG_HOME: join(this.dir, 'config'),
      XDG_DATA_HOME: join(this.dir, 'data'),
      HOME: this.dir,
      PATH: `${STANDIN}:${basePath}`,
      RCLAUDE_HOST: o.name,
      RCLAUDE_STATE_DIR: join(this.dir, 'rclaude'),
      RCLAUDE_TMUX_SOCKET: `clare-torture-${o.name}-${process.pid}-${o.port}`,
      CLARE_LOG_LEVEL: o.logLevel ?? 'info',
    };
    delete this.env['CLARE_URL'];
    delete this.env['LD_PRELOAD'];
  }

  get configFile(): string {
    return join(this.dir, 'config', 'clare', 'clare.toml');
  }

  get dbFile(): string {
    return join(this.dir, 'data', 'clare', 'clare.db');
  }

  /** Runs a CLI verb of `binary` synchronously with this node's environment. */
  cli(args: readonly string[], binary = this.binary): CliOutput {
    return runCli(binary, args, this.env);
  }

  /**
   * `clare init` (keeps an existing machine id), then writes the campaign's config:
   * port, peers (the proxies in front of the other nodes), token, skew bound, poll.
   */
  init(peers: readonly string[], binary = this.binary): void {
    const r = this.cli(['init', '--name', this.name, '--json'], binary);
    if (r.code !== 0) throw new Error(`clare init on ${this.name} failed: ${r.stderr}`);
    this.machineId = (JSON.parse(r.stdout) as { machine_id: string }).machine_id;
    this.writeConfig(peers);
  }

  writeConfig(peers: readonly string[]): void {
    const o = this.o;
    writeFileSync(this.configFile, `machine_id = "${this.machineId}"
name = "${this.name}"
peers = [${peers.map((p) => JSON.stringify(p)).join(', ')}]

[server]
host = "127.0.0.1"
port = ${this.port}

[mesh]
token = "${o.token}"
max_clock_skew_ms = ${o.maxSkewMs}

[rclaude]
timeout_ms = 15000
poll_interval_s = ${o.pollIntervalS}
`);
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Starts `clare serve` with `binary`; resolves once /api/v1/status answers 200.
   * The deadline stretches with the load at the time (up to 4×): five daemons
   * starting at once on a busy 2-core machine took more than 45 s.
   */
  async start(binary = this.binary, timeoutMs = 45_000 * loadScaleNow()): Promise<void> {
    if (this.running()) throw new Error(`${this.name} is already running`);
    this.binary = binary;
    this.writeClock();
    const env: NodeJS.ProcessEnv = { ...this.env };
    if (this.o.faketime !== null) {
      env['LD_PRELOAD'] = this.o.faketime;
      env['FAKETIME_TIMESTAMP_FILE'] = this.clockFile;
      env['FAKETIME_CACHE_DURATION'] = '1';
      env['FAKETIME_DONT_FAKE_MONOTONIC'] = '1';
    }
    appendFileSync(this.logFile, `${JSON.stringify({ torture: 'start', at: new Date().toISOString(), binary })}\n`);
    const c = spawn(process.execPath, [binary, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = c;
    let tail = '';
    c.stderr?.setEncoding('utf8').on('data', (d: string) => {
      appendFileSync(this.logFile, d);
      tail = (tail + d).slice(-4000);
    });
    this.exited = new Promise((res) => c.once('exit', () => res()));
    let exited: string | null = null;
    await waitFor(`daemon ${this.name} on ${this.url}`, async () => {
      if (c.exitCode !== null || c.signalCode !== null) {
        exited = `daemon ${this.name} exited ${c.exitCode ?? c.signalCode}: ${tail}`;
        return true;
      }
      const r = await this.api('GET', '/status', undefined, 2000);
      return r.status === 200;
    }, timeoutMs, 100);
    // Said at once: an exit is not something waiting longer would mend.
    if (exited !== null) throw new Error(exited);
  }

  /** SIGKILL; resolves when the process is gone. */
  async kill(): Promise<void> {
    if (!this.running()) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (drain), SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running()) return;
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }

  /** Steps this node's wall clock by `offsetMs` from real time (0 puts it back). */
  setClockOffset(offsetMs: number): void {
    this.clockOffsetMs = offsetMs;
    this.writeClock();
  }

  private writeClock(): void {
    const s = this.clockOffsetMs / 1000;
    writeFileSync(this.clockFile, `${s >= 0 ? '+' : ''}${s.toFixed(3)}\n`);
  }

  /** Deletes the database files (the daemon must be stopped). */
  wipeDb(): void {
    for (const f of [this.dbFile, `${this.dbFile}-wal`, `${this.dbFile}-shm`]) rmSync(f, { force: true });
  }

  /** Resident set size of the daemon now (MiB), or null when not running. */
  rssMb(): number | null {
    const pid = this.pid;
    if (pid === null || !this.running()) return null;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m === null ? null : Number(m[1]) / 1024;
    } catch {
      return null;
    }
  }

  /** Calls the HTTP API (with the mesh token); never throws. */
  async api<T>(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.o.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const r = await fetch(`${this.url}/api/v1${path}`, {
        method, headers, signal: AbortSignal.timeout(timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      let parsed: T | null = null;
      try {
        parsed = text === '' ? null : (JSON.parse(text) as T);
      } catch {
        parsed = null;
      }
      return { status: r.status, body: parsed };
    } catch (e) {
      return { status: 0, body: null, error: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Runs the rclaude stand-in as this host. */
  rclaude(args: readonly string[]): CliOutput {
    const r = spawnSync(join(STANDIN, 'rclaude'), args, { env: this.env, encoding: 'utf8', timeout: 30_000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** Spawns stand-in agent sessions on this host. */
  spawnSessions(names: readonly string[]): void {
    for (const n of names) {
      const r = this.rclaude(['spawn', this.name, '--name', n, '--cwd', this.dir]);
      if (r.code !== 0) throw new Error(`spawn ${this.name}:${n}: ${r.stderr}`);
    }
  }

  /** Every send the stand-in delivered on this host (its sends.log survives wipes: it is not Clare's). */
  sends(): { host: string; session: string; text: string }[] {
    const f = join(this.dir, 'rclaude', 'sends.log');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { host: string; session: string; text: string });
  }

  /** Kills the stand-in's tmux server. */
  killSessions(): void {
    this.rclaude(['_kill-all']);
  }
}
