/**
 * Every call Clare makes to the `rclaude` program, and every parser of its output,
 * lives in this one module (docs/rclaude.md is the contract). Adapting to a new
 * rclaude release is a change here and nowhere else.
 *
 * All calls go through execa with a timeout, no shell, arguments as an array;
 * stderr and the exit code end up in the coded error.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { execa, type ExecaError } from 'execa';
import { ClareError } from '../errors.js';

export interface RclaudeOptions {
  /** Absolute path of the program. */
  readonly path: string;
  /** Per-call timeout in ms. */
  readonly timeoutMs: number;
}

const HOW_TO_INSTALL = 'rclaude is the program Clare uses to reach Claude Code sessions (list, send, capture, spawn); install it on this machine, or point Clare at it with [rclaude] path in clare.toml or the CLARE_RCLAUDE environment variable';

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the rclaude program: `[rclaude] path`, else $CLARE_RCLAUDE, else PATH.
 * Throws CLARE_RCLAUDE_MISSING with what rclaude is and how to point at it.
 */
export function locateRclaude(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = configured ?? (env['CLARE_RCLAUDE'] === '' ? undefined : env['CLARE_RCLAUDE']);
  if (explicit !== undefined) {
    if (isAbsolute(explicit) && isExecutable(explicit)) return explicit;
    if (!isAbsolute(explicit)) {
      const found = searchPath(explicit, env);
      if (found !== null) return found;
    }
    throw new ClareError('CLARE_RCLAUDE_MISSING', `rclaude not found or not executable at ${explicit}. ${HOW_TO_INSTALL}.`, { path: explicit });
  }
  const found = searchPath('rclaude', env);
  if (found === null) throw new ClareError('CLARE_RCLAUDE_MISSING', `rclaude is not on PATH. ${HOW_TO_INSTALL}. Clare does not start without it.`);
  return found;
}

function searchPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return null;
}

/** Runs rclaude with `args`; turns every failure into CLARE_RCLAUDE_FAILED with stderr and exit code. */
export async function runRclaude(opts: RclaudeOptions, args: readonly string[]): Promise<string> {
  try {
    const r = await execa(opts.path, args, { timeout: opts.timeoutMs, shell: false, stripFinalNewline: false, reject: true, stdin: 'ignore' });
    return r.stdout;
  } catch (e) {
    const x = e as ExecaError;
    const stderr = String(x.stderr ?? '').trim().slice(0, 2000);
    const why = x.timedOut === true ? `timed out after ${opts.timeoutMs} ms` : x.exitCode !== undefined ? `exited with code ${x.exitCode}` : (x.shortMessage ?? 'failed to run');
    throw new ClareError('CLARE_RCLAUDE_FAILED', `rclaude ${args[0] ?? ''} ${why}${stderr === '' ? '' : `: ${stderr}`}`, {
      args: [...args], exit_code: x.exitCode ?? null, stderr, timed_out: x.timedOut === true,
    });
  }
}

/** `rclaude --version`: one line with a version. Checked at daemon start. */
export async function rclaudeVersion(opts: RclaudeOptions): Promise<string> {
  let out: string;
  try {
    out = await runRclaude(opts, ['--version']);
  } catch (e) {
    if (e instanceof ClareError) throw new ClareError('CLARE_RCLAUDE_MISSING', `${opts.path} does not run: ${e.message}. ${HOW_TO_INSTALL}.`, e.details === undefined ? {} : { ...e.details });
    throw e;
  }
  const line = out.trim().split('\n')[0]?.trim() ?? '';
  if (line === '' || line.length > 200) throw new ClareError('CLARE_RCLAUDE_OUTPUT', `rclaude --version printed ${JSON.stringify(out.slice(0, 200))}, expected one line with a version`);
  return line;
}
