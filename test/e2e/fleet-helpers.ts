/**
 * Shared steps of the fleet end-to-end tests: the rclaude stand-in as a machine
 * sees it, its sends.log, config edits, and waiting for the daemon's pulls.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Session, Task } from '../../src/protocol/models.js';
import { STANDIN_DIR, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

export interface Sent {
  host: string;
  session: string;
  text: string;
}

/** Runs the stand-in with the machine's environment (what its daemon's rclaude sees). */
export function rclaude(m: TestMachine, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...m.env, ...extraEnv };
  delete env['RCLAUDE_STANDIN_FAULT'];
  const r = spawnSync(join(STANDIN_DIR, 'rclaude'), args, { env, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `rclaude spawn` on the machine's own host, in its temp dir; throws on failure. */
export function spawnSessions(m: TestMachine, ...names: string[]): void {
  for (const n of names) {
    const r = rclaude(m, ['spawn', m.name, '--name', n, '--cwd', m.dir]);
    if (r.code !== 0) throw new Error(`spawn ${n}: ${r.stderr}`);
  }
}

/** The stand-in's screen of a session. */
export function capture(m: TestMachine, session: string, lines = 200): string {
  const r = rclaude(m, ['capture', `${m.name}:${session}`, '--lines', String(lines)]);
  if (r.code !== 0) throw new Error(`capture ${session}: ${r.stderr}`);
  return r.stdout;
}

/** Every send the stand-in delivered on this machine (its sends.log). */
export function sends(m: TestMachine): Sent[] {
  const f = join(m.dir, 'rclaude', 'sends.log');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Sent);
}

/** Runs the CLI on the machine; its stdout, or a throw with stderr on a non-zero exit. */
export function cliOutput(m: TestMachine, args: readonly string[]): string {
  const r = m.cli(args);
  if (r.code !== 0) throw new Error(`clare ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The task with exactly this title, through the API's search. */
export async function taskTitled(m: TestMachine, title: string): Promise<Task> {
  const t = (await m.api<{ items: Task[] }>('GET', `/tasks?q=${encodeURIComponent(title)}`)).body.items.find((x) => x.title === title);
  if (t === undefined) throw new Error(`no task ${title}`);
  return t;
}

/** The sessions the machine's daemon lists (`gone`: those gone too), in its order. */
export async function listedSessions(m: TestMachine, opts: { gone?: boolean } = {}): Promise<Session[]> {
  return (await m.api<{ items: Session[] }>('GET', opts.gone === true ? '/sessions?gone=true' : '/sessions')).body.items;
}

/** Replaces `from` with `to` in the machine's clare.toml (before it starts). */
export function editConfig(m: TestMachine, from: string, to: string): void {
  const text = readFileSync(m.configFile, 'utf8');
  if (!text.includes(from)) throw new Error(`${m.configFile} has no ${JSON.stringify(from)}`);
  writeFileSync(m.configFile, text.replace(from, to));
}

export async function eventCount(m: TestMachine): Promise<number> {
  const r = await m.api<{ event_count: number }>('GET', '/sync/state');
  return r.body.event_count;
}

interface FleetStatus {
  last_pull: { at: string; sessions: number } | null;
  last_error: { code: string; message: string } | null;
}

/** Waits until the daemon has finished its first pull (successful or not). */
export async function firstPullDone(m: TestMachine): Promise<FleetStatus> {
  return waitFor(`first pull on ${m.name}`, async () => {
    const s = (await m.api<{ fleet: FleetStatus | null }>('GET', '/status')).body.fleet;
    return s !== null && (s.last_pull !== null || s.last_error !== null) ? s : null;
  }, 15_000);
}

/** Whether a pid is a live, non-zombie process. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const st = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return st !== 'Z' && st !== 'X';
  } catch {
    return false;
  }
}
