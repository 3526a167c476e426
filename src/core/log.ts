/**
 * Structured logging, one logger for the whole daemon: its own lines, fastify's
 * (the app is given the pino instance under this logger) and replication's.
 * pino writes JSON lines to stderr; on a terminal, or with `--pretty`, pino-pretty
 * turns them into readable lines. Level from CLARE_LOG_LEVEL (debug | info | warn |
 * error; default info).
 *
 * Secrets never reach a log line: pino's redaction censors the mesh token wherever
 * it is carried (Authorization headers, the config's [mesh] token, `token` fields),
 * and every logged URL has the value of its `token` query parameter censored —
 * after percent-decoding the parameter's name, so `?%74oken=` is caught as well.
 */
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function parseLogLevel(s: string | undefined): LogLevel {
  if (s === undefined || s === '') return 'info';
  const l = s.toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(l)) return l as LogLevel;
  throw new Error(`CLARE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(s)}`);
}

/** What a censored value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Where secrets sit in what Clare logs. pino's paths are exact (`*` is one level), so
 * each carrier is listed: request objects as fastify logs them, header maps, configs.
 */
const SECRET_PATHS = [
  'token', '*.token', 'mesh.token', '*.mesh.token', 'config.mesh.token',
  'authorization', 'headers.authorization', 'req.headers.authorization', '*.headers.authorization',
  'cookie', 'headers.cookie', 'req.headers.cookie', '*.headers.cookie',
] as const;
/** Logged URLs: their `token` query parameter is censored, the rest kept. */
const URL_PATHS = ['url', 'req.url', '*.url', 'peer', '*.peer', 'target'] as const;
const URL_LEAVES = new Set(['url', 'peer', 'target']);

/** Decodes percent-escapes until stable (at most 3 rounds), keeping text that does not decode. */
function decodeName(s: string): string {
  let cur = s;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(cur.replace(/\+/g, ' '));
    } catch {
      return cur;
    }
    if (next === cur) return cur;
    cur = next;
  }
  return cur;
}

/**
 * A URL (or request target) with the value of every `token` query parameter
 * censored; the parameter's name is compared after percent-decoding and
 * case-folding, so `%74oken`, `TOKEN` and `%2574oken` are all caught.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const parts = query.split(/([&;])/);
  const out = parts.map((p) => {
    if (p === '&' || p === ';') return p;
    const eq = p.indexOf('=');
    const name = eq < 0 ? p : p.slice(0, eq);
    return decodeName(name).trim().toLowerCase() === 'token' ? `${name}=${REDACTED}` : p;
  });
  return `${url.slice(0, q + 1)}${out.join('')}${hash < 0 ? '' : url.slice(hash)}`;
}

function censor(value: unknown, path: string[]): unknown {
  const leaf = path[path.length - 1] ?? '';
  if (URL_LEAVES.has(leaf)) return typeof value === 'string' ? redactUrl(value) : value;
  return REDACTED;
}

/** Errors anywhere at the top level of the fields: name, message, code, and the stack unless it is a coded (expected) error. */
function serializeError(e: Error): Record<string, unknown> {
  const coded = 'code' in e && typeof e.code === 'string';
  return { name: e.name, message: e.message, ...(coded ? { code: e.code } : {}), ...(coded || e.stack === undefined ? {} : { stack: e.stack }) };
}

function withErrors(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) {
      out ??= { ...fields };
      out[k] = serializeError(v);
    }
  }
  return out ?? fields;
}

/** The pino instance under each Logger made here, for fastify's `loggerInstance`. */
const PINO = new WeakMap<Logger, PinoLogger>();

function wrap(p: PinoLogger): Logger {
  const l: Logger = {
    debug: (m, f) => p.debug(withErrors(f), m),
    info: (m, f) => p.info(withErrors(f), m),
    warn: (m, f) => p.warn(withErrors(f), m),
    error: (m, f) => p.error(withErrors(f), m),
    child: (f) => wrap(p.child(withErrors(f))),
  };
  PINO.set(l, p);
  return l;
}

/** The pino logger behind `log`, or null for a Logger made elsewhere (a test double). */
export function pinoOf(log: Logger): PinoLogger | null {
  return PINO.get(log) ?? null;
}

export interface LoggerOptions {
  /** Fields on every line. */
  readonly base?: Record<string, unknown>;
  /** Where lines go; default stderr. A function receives each finished line (JSON, or the readable form). */
  readonly write?: (line: string) => void;
  /** Readable lines instead of JSON (default: when stderr is a terminal). */
  readonly pretty?: boolean;
  /** Colours in the readable form (default: when stderr is a terminal). */
  readonly colorize?: boolean;
}

/** The options every Clare logger shares: level labels, ISO time, redaction. */
function pinoOptions(level: LogLevel | 'silent', base: Record<string, unknown>): pino.LoggerOptions {
  return {
    level,
    base,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...SECRET_PATHS, ...URL_PATHS], censor },
    // fastify passes Error objects under `err`; Clare's own calls arrive already serialised.
    serializers: { err: (v: unknown) => (v instanceof Error ? serializeError(v) : v) },
  };
}

/** A logger writing JSON lines (or readable lines) to stderr, or to `opts.write`. */
export function createLogger(level: LogLevel, o: LoggerOptions = {}): Logger {
  const tty = process.stderr.isTTY;
  const readable = o.pretty ?? (o.write === undefined && tty);
  const sink: DestinationStream = o.write === undefined ? pino.destination({ dest: 2, sync: true }) : { write: o.write };
  let dest = sink;
  if (readable) {
    // pino-pretty's formatter, run in this thread on each finished (already redacted) JSON line.
    const prettify = pretty.prettyFactory({
      colorize: o.colorize ?? (o.write === undefined && tty),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: true,
    });
    dest = { write: (line: string) => sink.write(prettify(line)) };
  }
  return wrap(pino(pinoOptions(level, o.base ?? {}), dest));
}

/** A logger that drops everything (tests, and CLI paths that must print only their answer). */
export const silentLogger: Logger = wrap(pino({ ...pinoOptions('silent', {}) }));
