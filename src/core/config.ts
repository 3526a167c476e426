/**
 * clare.toml: parsed once, validated with zod, frozen. Errors name the file, the
 * line and the key, so a person can fix them without guessing.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { groupNameSchema, hostNameSchema, memberPatternSchema } from './domain.js';
import { ClareError } from './errors.js';
import { DEFAULT_MAX_SKEW_MS } from './hlc.js';
import { trustedMachineId, type MachineId } from './ids.js';

const UUID4_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const peerUrlSchema = z.url({ protocol: /^https?$/, error: 'a peer is an http:// or https:// URL such as http://198.18.0.2:8765' })
  // TOML strings are Unicode scalar values: a lone surrogate could not be written back to clare.toml.
  .refine((s) => !/\p{Cs}/u.test(s), { error: 'a peer URL must be well-formed text (it holds a lone UTF-16 surrogate)' })
  .transform((s) => s.replace(/\/+$/, ''));

/** A host name derived from the OS hostname, made valid for `name`. */
export function defaultHostName(): string {
  const h = (hostname().split('.')[0] ?? '').replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return h === '' ? 'host' : h;
}

/**
 * The mesh token: it travels in an HTTP header (`Authorization: Bearer …`), so only
 * characters a header carries as they are, and long enough not to be guessed.
 */
export const meshTokenSchema = z.string()
  .regex(/^[\x21-\x7e]*$/, 'the mesh token must be printable ASCII without spaces (characters 0x21–0x7e: letters, digits, punctuation); `clare init --mesh` makes one')
  .min(16, 'the mesh token must be at least 16 characters')
  .max(512);

/** A name this daemon answers to besides IP addresses and localhost (`[server] allowed_hosts`). */
const allowedHostSchema = z.string().max(253)
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/, 'a host name such as desk.mesh.lan (no port, no wildcard)')
  .transform((s) => s.toLowerCase());

/** A web origin allowed to write besides the daemon's own (`[server] allowed_origins`), normalised. */
const allowedOriginSchema = z.string().max(300).transform((s, ctx) => {
  const bad = (): typeof z.NEVER => {
    ctx.addIssue({ code: 'custom', message: 'an origin is scheme://host[:port], e.g. https://clare.example.org (no path, no wildcard)' });
    return z.NEVER;
  };
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return bad();
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') return bad();
  return u.origin;
});

/** A fresh mesh token: 32 random bytes, base64url (43 characters). */
export function newMeshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Default of `[mesh] silent_after_s`: five minutes without a frame or an event from a host. */
export const DEFAULT_SILENT_AFTER_S = 300;

export const configSchema = z.strictObject({
  machine_id: z.string().regex(UUID4_RE, 'machine_id must be a lower-case uuid4 (made by `clare init`)').transform(trustedMachineId),
  name: hostNameSchema.default(defaultHostName),
  peers: z.array(peerUrlSchema).max(64).default([]),
  server: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(8765),
    allowed_hosts: z.array(allowedHostSchema).max(64).default([]),
    allowed_origins: z.array(allowedOriginSchema).max(64).default([]),
  }).default({ host: '127.0.0.1', port: 8765, allowed_hosts: [], allowed_origins: [] }),
  mesh: z.strictObject({
    token: meshTokenSchema.optional(),
    max_clock_skew_ms: z.number().int().min(1000).max(86_400_000).default(DEFAULT_MAX_SKEW_MS),
    /** A host no link has carried anything from for this long is shown "not heard from" (status, dashboard). */
    silent_after_s: z.number().int().min(1).max(7 * 86_400).default(DEFAULT_SILENT_AFTER_S),
  }).default({ max_clock_skew_ms: DEFAULT_MAX_SKEW_MS, silent_after_s: DEFAULT_SILENT_AFTER_S }),
  rclaude: z.strictObject({
    /** Explicit path to the rclaude program; otherwise CLARE_RCLAUDE, then PATH. */
    path: z.string().min(1).optional(),
    timeout_ms: z.number().int().min(100).max(600_000).default(10_000),
    poll_interval_s: z.number().min(0.2).max(3600).default(10),
  }).default({ timeout_ms: 10_000, poll_interval_s: 10 }),
  /** The first version's groups; imported once into events, then ignored. */
  groups: z.record(groupNameSchema, z.array(memberPatternSchema)).optional(),
});

export type ClareConfig = Readonly<z.infer<typeof configSchema>> & { readonly file: string };

/** Reads and validates the config file; throws CLARE_CONFIG naming file, line and key. */
export function loadConfig(file: string): ClareConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ClareError('CLARE_CONFIG', `no config at ${file}: run \`clare init\` first`, { file });
    throw new ClareError('CLARE_CONFIG', `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): ClareConfig {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      throw new ClareError('CLARE_CONFIG', `${file}:${e.line}:${e.column}: invalid TOML: ${e.message.split('\n')[0]}`, { file, line: e.line, column: e.column });
    }
    throw e;
  }
  const r = configSchema.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0];
    if (issue === undefined) throw new ClareError('CLARE_CONFIG', `${file}: ${r.error.message.slice(0, 500)}`, { file });
    // An unknown key is reported on its table; point at the key itself.
    const path = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [])].map(String);
    const key = path.join('.');
    const line = lineOfKey(text, path);
    const where = line === null ? file : `${file}:${line}`;
    // Keys come from the file: a hostile or broken one may be any length, the message may not.
    const shown = key.length > 80 ? `${key.slice(0, 80)}… (${key.length} characters)` : key;
    const why = issue.code === 'unrecognized_keys' ? 'unknown key (see README "Configuration" for the keys there are)' : issue.message;
    throw new ClareError('CLARE_CONFIG', `${where}: ${key === '' ? 'config' : `key ${shown}`}: ${why.slice(0, 500)}`, { file, key: shown, ...(line === null ? {} : { line }) });
  }
  return Object.freeze({ ...r.data, file });
}

/** A TOML key path as written: bare or quoted parts joined by dots. */
const KEY_PATH = String.raw`(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*`;
const HEADER_RE = new RegExp(String.raw`^\s*\[\[?\s*(${KEY_PATH})\s*\]\]?\s*(?:#.*)?$`);
const ASSIGN_RE = new RegExp(String.raw`^\s*(${KEY_PATH})\s*=`);

function keyParts(keyPath: string): string[] {
  return [...keyPath.matchAll(/[A-Za-z0-9_-]+|"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2] ?? m[0]);
}

/**
 * The first line of every key path in TOML text: `[table]` headers, `key =` lines
 * under them, dotted keys, and the line of an inline table or array. A light scan
 * (not a parser): it is only used to point at errors.
 */
function keyLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let table: string[] = [];
  text.split('\n').forEach((line, i) => {
    const h = HEADER_RE.exec(line)?.[1];
    if (h !== undefined) {
      table = keyParts(h);
      for (let n = 1; n <= table.length; n++) if (!out.has(table.slice(0, n).join('\0'))) out.set(table.slice(0, n).join('\0'), i + 1);
      return;
    }
    const a = ASSIGN_RE.exec(line)?.[1];
    if (a === undefined) return;
    const full = [...table, ...keyParts(a)];
    for (let n = table.length + 1; n <= full.length; n++) if (!out.has(full.slice(0, n).join('\0'))) out.set(full.slice(0, n).join('\0'), i + 1);
  });
  return out;
}

/**
 * The line of a key path (array indexes skipped: an element points at its array's
 * line), or of the nearest enclosing key or table that is written in the file.
 */
function lineOfKey(text: string, path: readonly string[]): number | null {
  const names = path.filter((p) => !/^\d+$/.test(p));
  const lines = keyLines(text);
  for (let n = names.length; n > 0; n--) {
    const l = lines.get(names.slice(0, n).join('\0'));
    if (l !== undefined) return l;
  }
  return null;
}

/** The text `clare init` writes: every key documented, defaults shown. */
export function initialConfigText(machineId: MachineId, name: string): string {
  return `# Clare's config for this machine. Docs: README.md, "Configuration".
machine_id = "${machineId}"   # uuid4, stamped on every event; never change it
name = "${name}"              # this host's display name, as rclaude reports it
peers = []                    # other daemons, e.g. ["http://198.18.0.2:8765"]; or \`clare peer add URL\`

[server]
host = "127.0.0.1"            # binding a non-loopback address requires [mesh] token
port = 8765
# allowed_hosts = []          # names it answers to besides IP addresses and localhost, e.g. ["desk.mesh.lan"]
# allowed_origins = []        # web pages besides its own dashboard that may write, e.g. ["https://clare.example.org"]

[mesh]
# token = "…"                 # shared secret of all peers: printable ASCII, no spaces, 16+ characters (clare init --mesh makes one)
max_clock_skew_ms = 60000     # refuse events stamped further ahead of our clock

[rclaude]
# path = "/usr/local/bin/rclaude"   # else CLARE_RCLAUDE, else PATH
timeout_ms = 10000
poll_interval_s = 10
`;
}

/** Writes a file atomically (temp file + rename), so a crash never leaves half a config. */
export function writeFileAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Replaces the top-level `peers = [...]` assignment in the file's text, keeping
 * every other line (and comment) as it was. Inserts one after `name`/`machine_id` if absent.
 */
export function setPeersInText(text: string, peers: readonly string[]): string {
  const value = `peers = [${peers.map((p) => JSON.stringify(p)).join(', ')}]`;
  // Strings may hold "]" (IPv6 URLs), so skip over quoted parts when finding the end.
  const re = /^peers\s*=\s*\[(?:[^\]"']|"[^"]*"|'[^']*')*\]/m;
  if (re.test(text)) return text.replace(re, value);
  const lines = text.split('\n');
  const firstTable = lines.findIndex((l) => /^\s*\[/.test(l));
  const at = firstTable < 0 ? lines.length : firstTable;
  lines.splice(at, 0, value);
  return lines.join('\n');
}

/**
 * Sets `[mesh] token` in the file's text, keeping every other line: replaces the
 * token line of the [mesh] table (or its commented-out template), else adds one
 * under the header, else adds the table.
 */
export function setMeshTokenInText(text: string, token: string): string {
  const value = `token = ${JSON.stringify(token)}`;
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /^\s*\[\s*mesh\s*\]/.test(l));
  if (header < 0) return `${text.replace(/\n*$/, '\n')}\n[mesh]\n${value}\n`;
  let end = lines.findIndex((l, i) => i > header && /^\s*\[/.test(l));
  if (end < 0) end = lines.length;
  const at = lines.findIndex((l, i) => i > header && i < end && /^\s*#?\s*token\s*=/.test(l));
  if (at >= 0) lines[at] = value;
  else lines.splice(header + 1, 0, value);
  return lines.join('\n');
}
