/**
 * A real daemon in the test process for the fuzzers: `startDaemon` with every part
 * `clare serve` plugs in (replication, fleet, live), its own XDG dirs, a real
 * SQLite file, the rclaude stand-in over a private tmux socket, a mesh token, and
 * a loopback port for the socket doors. HTTP doors go through `app.inject()`.
 *
 * The fuzzers watch the store through a second, read-only connection to the same
 * file: `PRAGMA data_version` changes exactly when another connection commits, so
 * "a refused input wrote nothing" is checked without trusting the daemon's code.
 *
 * Safety: the daemon may be told (POST /api/v1/peers) to dial any URL a fuzzer
 * makes up. Fuzzers only make up loopback URLs, and `fetch` is wrapped so that
 * any request to another host fails the run instead of leaving the machine.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { initialConfigText } from '../../src/core/config.js';
import { digest } from '../../src/core/digest.js';
import { newMachineId, type MachineId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/log.js';
import { startDaemon, type Daemon } from '../../src/server/daemon.js';
import { DEFAULT_PARTS } from '../../src/server/parts.js';
import { freePort, STANDIN_DIR } from '../helpers/daemon.js';

/** The fuzz daemon's host name (rclaude's host) and mesh token. */
export const FUZZ_HOST = 'fuzzhost';
export const FUZZ_TOKEN = 'fuzz-token-0123456789abcdef';

/** What the store held at one moment, as seen through the read-only connection. */
export interface StoreSnapshot {
  /** PRAGMA data_version: changes whenever another connection commits. */
  readonly version: number;
  readonly maxSeq: number;
  readonly rows: Readonly<Record<string, number>>;
  readonly digest: string;
}

/** A stored event row, payload as its stored text. */
export interface StoredEvent {
  readonly seq: number;
  readonly id: string;
  readonly hlc: string;
  readonly origin: string;
  readonly type: string;
  readonly v: number;
  readonly payload: string;
}

export interface FuzzDaemon {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly port: number;
  readonly machineId: MachineId;
  readonly dir: string;
  /** Read-only connection to the daemon's database file. */
  readonly read: Database.Database;
  /** `authorization` header with the mesh token. */
  readonly auth: Readonly<Record<string, string>>;
  snapshot(): StoreSnapshot;
  /** PRAGMA data_version only (cheap). */
  version(): number;
  /** Events stored after `seq`, in seq order. */
  eventsAfter(seq: number): StoredEvent[];
  stop(): Promise<void>;
}

const ENV_KEYS = ['RCLAUDE_HOST', 'RCLAUDE_STATE_DIR', 'RCLAUDE_TMUX_SOCKET', 'RCLAUDE_STANDIN_FAULT', 'RCLAUDE_STANDIN_FAULT_VERBS'] as const;

/** Hosts a fuzzer may make the daemon contact. */
function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

let guards = 0;
let realFetch: typeof fetch | null = null;

/**
 * Wraps global fetch so a request to anything but loopback throws (and is
 * reported) instead of leaving the machine. Returns the undo, called on stop.
 */
export function guardFetch(): () => void {
  if (guards++ === 0) {
    const real = globalThis.fetch;
    realFetch = real;
    globalThis.fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      let host = '';
      try {
        host = new URL(raw).hostname;
      } catch {
        // an unparsable URL fails inside fetch itself, without a lookup
      }
      if (!isLoopbackHost(host)) {
        const msg = `fuzz safety: the daemon tried to fetch ${raw}; fuzzers may only make it contact loopback`;
        console.error(msg);
        return Promise.reject(new Error(msg));
      }
      return real(input, init);
    };
  }
  return () => {
    if (--guards === 0 && realFetch !== null) globalThis.fetch = realFetch;
  };
}

/** Starts the fuzz daemon. Spawns always fail in the stand-in (no tmux sessions appear, nothing is typed). */
export async function startFuzzDaemon(): Promise<FuzzDaemon> {
  const unguard = guardFetch();
  const dir = mkdtempSync(join(tmpdir(), 'clare-fuzz-'));
  const port = await freePort();
  const machineId = newMachineId();
  const configDir = join(dir, 'config', 'clare');
  mkdirSync(configDir, { recursive: true });
  const text = initialConfigText(machineId, FUZZ_HOST)
    .replace('port = 8765', `port = ${port}`)
    .replace(/^# token = .*$/m, `token = "${FUZZ_TOKEN}"`)
    // No background pulls during a run: only requests write.
    .replace('poll_interval_s = 10', 'poll_interval_s = 3600');
  writeFileSync(join(configDir, 'clare.toml'), text);

  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  const tmuxSocket = `clare-fuzz-${process.pid}-${port}`;
  // The stand-in reads these from the environment rclaude is run with (the test process's).
  Object.assign(process.env, {
    RCLAUDE_HOST: FUZZ_HOST,
    RCLAUDE_STATE_DIR: join(dir, 'rclaude'),
    RCLAUDE_TMUX_SOCKET: tmuxSocket,
    RCLAUDE_STANDIN_FAULT: 'fail',
    RCLAUDE_STANDIN_FAULT_VERBS: 'spawn',
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    PATH: `${STANDIN_DIR}:${process.env['PATH'] ?? ''}`,
  };
  const restoreEnv = (): void => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    unguard();
  };
  let daemon: Daemon;
  try {
    daemon = await startDaemon({ env, log: silentLogger, parts: DEFAULT_PARTS });
  } catch (e) {
    restoreEnv();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const read = new Database(join(dir, 'data', 'clare', 'clare.db'), { readonly: true, fileMustExist: true });
  const tables = (read.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
  const version = (): number => read.pragma('data_version', { simple: true }) as number;
  return {
    app: daemon.app,
    url: daemon.url,
    port,
    machineId,
    dir,
    read,
    auth: { authorization: `Bearer ${FUZZ_TOKEN}` },
    version,
    snapshot: () => ({
      version: version(),
      maxSeq: (read.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck().get() as number),
      rows: Object.fromEntries(tables.map((t) => [t, read.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number])),
      digest: digest(read),
    }),
    eventsAfter: (seq) => read.prepare('SELECT seq, id, hlc, origin, type, v, payload FROM events WHERE seq > ? ORDER BY seq').all(seq) as StoredEvent[],
    stop: async () => {
      try {
        await daemon.stop();
      } finally {
        read.close();
        spawnSync('tmux', ['-L', tmuxSocket, 'kill-server'], { stdio: 'ignore' });
        restoreEnv();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Snapshot difference, one line (tables whose row counts changed, events added, digest). */
export function snapshotDiff(a: StoreSnapshot, b: StoreSnapshot): string {
  const tables = Object.keys(b.rows).filter((t) => a.rows[t] !== b.rows[t]).map((t) => `${t} ${a.rows[t]}→${b.rows[t]}`);
  return [`data_version ${a.version}→${b.version}`, `max seq ${a.maxSeq}→${b.maxSeq}`, ...tables, a.digest === b.digest ? 'digest same' : 'digest changed'].join(', ');
}
