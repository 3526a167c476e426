/**
 * Every call Clare makes to the `rclaude` program, and every parser of its output,
 * lives in this one module (docs/rclaude.md is the contract). Adapting to a new
 * rclaude release is a change here and nowhere else.
 *
 * All calls go through execa with a timeout, no shell, arguments as an array;
 * stderr and the exit code end up in the coded error.
 */
import diagnostics from 'node:diagnostics_channel';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { execa, type ExecaError } from 'execa';
import { cwdSchema, hostNameSchema, isoInstantSchema, sessionNameSchema, sessionStateSchema } from '../domain.js';
import type { SessionState } from '../../protocol/models.js';
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

/** Observes a call while it runs (the delivery log names the pid of an in-flight send). */
export interface RunHooks {
  /** Called once the process is spawned, before it finishes. */
  readonly onSpawn?: (pid: number | undefined) => void;
}

/** What is published on RCLAUDE_CALLS after every call (for metrics; nothing here depends on a listener). */
export interface RclaudeCallNotice {
  /** The verb (`--version`, `_claude-projects`, `send`, `capture`, `spawn`). */
  readonly verb: string;
  readonly seconds: number;
  /** `ok`, `timeout` or `failed`. */
  readonly outcome: 'ok' | 'timeout' | 'failed';
}

/** diagnostics_channel name of RclaudeCallNotice messages. */
export const RCLAUDE_CALLS = 'clare:rclaude.call';
const callChannel = diagnostics.channel(RCLAUDE_CALLS);

/** Runs rclaude with `args`; turns every failure into CLARE_RCLAUDE_FAILED with stderr and exit code. */
export async function runRclaude(opts: RclaudeOptions, args: readonly string[], hooks: RunHooks = {}): Promise<string> {
  const started = performance.now();
  const notify = (outcome: RclaudeCallNotice['outcome']): void => {
    if (callChannel.hasSubscribers) callChannel.publish({ verb: args[0] ?? '', seconds: (performance.now() - started) / 1000, outcome } satisfies RclaudeCallNotice);
  };
  try {
    const sub = execa(opts.path, args, { timeout: opts.timeoutMs, shell: false, stripFinalNewline: false, reject: true, stdin: 'ignore' });
    hooks.onSpawn?.(sub.pid);
    const r = await sub;
    notify('ok');
    return r.stdout;
  } catch (e) {
    const x = e as ExecaError;
    notify(x.timedOut === true ? 'timeout' : 'failed');
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

// ------------------------------------------------------------------ listing

/** The columns Clare needs from `_claude-projects --sessions`, found by header name. */
export const LISTING_COLUMNS = ['host', 'session', 'cwd', 'state', 'last_activity'] as const;

/** One validated row of the session listing. */
export interface ListedSession {
  readonly host: string;
  readonly session: string;
  readonly cwd: string;
  readonly state: SessionState;
  /** ISO-8601 instant, normalised to UTC `…Z`. */
  readonly last_activity: string;
}

const LISTING_CMD = 'rclaude _claude-projects --sessions';

/** Quotes rclaude output for an error message (bounded, escapes visible): a line, or a cell of it (`max` 80). */
function quote(line: string, max = 300): string {
  return JSON.stringify(line.length > max ? `${line.slice(0, max)}…` : line);
}

function badListing(lineNo: number, line: string, why: string): ClareError {
  return new ClareError('CLARE_RCLAUDE_OUTPUT', `${LISTING_CMD}: line ${lineNo}: ${why}: ${quote(line)}; nothing was recorded from this listing`, {
    line_no: lineNo, line: line.slice(0, 2000),
  });
}

/**
 * Parses the TSV listing strictly (docs/rclaude.md). The first line is the header;
 * columns are found by name, unknown extra columns are ignored. A missing column, a
 * row with a different number of cells than the header, a bad host or session name,
 * a state outside the four, a `last_activity` that is not a real instant, a blank
 * line, a duplicate session, or a row for another host than `host` fails the whole
 * listing with CLARE_RCLAUDE_OUTPUT quoting the offending line: a caller never sees
 * half a listing. The output is the header alone when there are no sessions.
 */
export function parseSessionListing(stdout: string, host: string): ListedSession[] {
  // One final newline ends the output; any other empty line is not a row.
  const lines = stdout.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const headerLine = lines[0] ?? '';
  if (headerLine.trim() === '') {
    throw new ClareError('CLARE_RCLAUDE_OUTPUT', `${LISTING_CMD} printed no header line (expected ${LISTING_COLUMNS.join('\\t')}); nothing was recorded`, { line_no: 1, line: '' });
  }
  const header = headerLine.split('\t');
  const col = new Map<string, number>();
  header.forEach((name, i) => {
    if (col.has(name)) throw badListing(1, headerLine, `column ${quote(name, 80)} appears twice in the header`);
    col.set(name, i);
  });
  const missing = LISTING_COLUMNS.filter((c) => !col.has(c));
  if (missing.length > 0) throw badListing(1, headerLine, `the header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (need ${LISTING_COLUMNS.join(', ')})`);
  // Every row has the header's length and the header every column (both checked), so
  // the cell is there; were it not, '' fails the field's validation like any bad cell.
  const at = (cells: readonly string[], name: (typeof LISTING_COLUMNS)[number]): string => cells[col.get(name) ?? -1] ?? '';

  const out: ListedSession[] = [];
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    if (i === 0) continue; // the header
    const lineNo = i + 1;
    const cells = line.split('\t');
    if (cells.length !== header.length) throw badListing(lineNo, line, `${cells.length} tab-separated field${cells.length === 1 ? '' : 's'}, the header has ${header.length}`);
    const rowHost = at(cells, 'host');
    if (!hostNameSchema.safeParse(rowHost).success) throw badListing(lineNo, line, `bad host name ${quote(rowHost, 80)}`);
    if (rowHost !== host) throw badListing(lineNo, line, `a row for host ${quote(rowHost, 80)}, but this machine is ${JSON.stringify(host)} (name in clare.toml must be rclaude's host name)`);
    const session = sessionNameSchema.safeParse(at(cells, 'session'));
    if (!session.success) throw badListing(lineNo, line, `bad session name ${quote(at(cells, 'session'), 80)}`);
    if (seen.has(session.data)) throw badListing(lineNo, line, `session ${session.data} is listed twice`);
    seen.add(session.data);
    const cwd = cwdSchema.safeParse(at(cells, 'cwd'));
    if (!cwd.success) throw badListing(lineNo, line, `cwd ${cwd.error.issues[0]?.message ?? 'is invalid'} (at most 4096 characters, no control characters)`);
    const state = sessionStateSchema.safeParse(at(cells, 'state'));
    if (!state.success) throw badListing(lineNo, line, `state ${quote(at(cells, 'state'), 80)} is not one of working, waiting, idle, exited`);
    const when = isoInstantSchema.safeParse(at(cells, 'last_activity'));
    if (!when.success) throw badListing(lineNo, line, `last_activity ${quote(at(cells, 'last_activity'), 80)} is not an ISO-8601 instant`);
    out.push({ host: rowHost, session: session.data, cwd: cwd.data, state: state.data, last_activity: when.data });
  }
  return out;
}

/** `rclaude _claude-projects --sessions`, parsed: this host's sessions, or a coded error. */
export async function listRclaudeSessions(opts: RclaudeOptions, host: string): Promise<ListedSession[]> {
  return parseSessionListing(await runRclaude(opts, ['_claude-projects', '--sessions']), host);
}

// ------------------------------------------------------------------ actions

function target(host: string, session: string): string {
  // Checked here too: the argument array keeps names byte-exact, but a ':' or a
  // leading '-' in a name would still change what rclaude is asked to do.
  if (!hostNameSchema.safeParse(host).success || !sessionNameSchema.safeParse(session).success) {
    throw new ClareError('CLARE_VALIDATION', `not a session address: ${JSON.stringify(`${host}:${session}`)}`, { host, session });
  }
  return `${host}:${session}`;
}

/**
 * `rclaude send <host>:<session> <text>`: types one line and presses Enter. Not
 * idempotent: callers must make sure it runs at most once per instruction (and never
 * retry after a timeout, when the keys may have arrived). `text` must be one line.
 */
export async function sendText(opts: RclaudeOptions, host: string, session: string, text: string, hooks: RunHooks = {}): Promise<void> {
  if (text.trim() === '' || /[\r\n]/.test(text)) throw new ClareError('CLARE_VALIDATION', 'rclaude send takes one non-empty line of text');
  await runRclaude(opts, ['send', target(host, session), text], hooks);
}

/** `rclaude capture <host>:<session> --lines N`: the last N lines of the session's screen. */
export async function captureScreen(opts: RclaudeOptions, host: string, session: string, lines: number): Promise<string> {
  if (!Number.isInteger(lines) || lines < 1 || lines > 10_000) throw new ClareError('CLARE_VALIDATION', `lines must be 1…10000, got ${lines}`);
  return runRclaude(opts, ['capture', target(host, session), '--lines', String(lines)]);
}

/** `rclaude spawn <host> --name <session> --cwd <dir>`: starts a new agent session. */
export async function spawnSession(opts: RclaudeOptions, host: string, session: string, cwd: string): Promise<void> {
  target(host, session);
  if (!isAbsolute(cwd)) throw new ClareError('CLARE_VALIDATION', `cwd must be an absolute path, got ${JSON.stringify(cwd)}`);
  await runRclaude(opts, ['spawn', host, '--name', session, '--cwd', cwd]);
}

/**
 * `rclaude attach <host>:<session>`: hands this terminal to the session (on any
 * host: reaching other hosts is rclaude's job, docs/rclaude.md) until the person
 * detaches. Interactive, so no timeout and the terminal is inherited; resolves
 * with rclaude's exit code.
 */
export async function attachSession(opts: RclaudeOptions, host: string, session: string): Promise<number> {
  const r = await execa(opts.path, ['attach', target(host, session)], { shell: false, stdio: 'inherit', reject: false });
  return r.exitCode ?? 1;
}
