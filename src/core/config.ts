/**
 * clare.toml: parsed once, validated with zod, frozen. Errors name the file, the
 * line and the key, so a person can fix them without guessing.
 */
import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { groupNameSchema, hostNameSchema, memberPatternSchema } from './domain.js';
import { ClareError } from './errors.js';
import { DEFAULT_MAX_SKEW_MS } from './hlc.js';
import type { MachineId } from './ids.js';

const UUID4_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const peerUrlSchema = z.url({ protocol: /^https?$/, error: 'a peer is an http:// or https:// URL such as http://198.18.0.2:8765' })
  .transform((s) => s.replace(/\/+$/, ''));

/** A host name derived from the OS hostname, made valid for `name`. */
export function defaultHostName(): string {
  const h = hostname().split('.')[0]!.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return h === '' ? 'host' : h;
}

export const configSchema = z.strictObject({
  machine_id: z.string().regex(UUID4_RE, 'machine_id must be a lower-case uuid4 (made by `clare init`)').transform((s) => s as MachineId),
  name: hostNameSchema.default(defaultHostName),
  peers: z.array(peerUrlSchema).max(64).default([]),
  server: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(8765),
  }).default({ host: '127.0.0.1', port: 8765 }),
  mesh: z.strictObject({
    token: z.string().min(16, 'the mesh token must be at least 16 characters').max(512).optional(),
    max_clock_skew_ms: z.number().int().min(1000).max(86_400_000).default(DEFAULT_MAX_SKEW_MS),
  }).default({ max_clock_skew_ms: DEFAULT_MAX_SKEW_MS }),
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
    const issue = r.error.issues[0]!;
    const key = issue.path.map(String).join('.');
    const line = lineOfKey(text, issue.path.map(String));
    const where = line === null ? file : `${file}:${line}`;
    throw new ClareError('CLARE_CONFIG', `${where}: ${key === '' ? 'config' : `key ${key}`}: ${issue.message}`, { file, key, ...(line === null ? {} : { line }) });
  }
  return Object.freeze({ ...r.data, file });
}

/**
 * Best-effort line of a key path in TOML text: finds the `[table]` header for the
 * leading parts, then the `key =` line after it. Only used to point at errors.
 */
function lineOfKey(text: string, path: readonly string[]): number | null {
  const lines = text.split('\n');
  const names = path.filter((p) => !/^\d+$/.test(p));
  if (names.length === 0) return null;
  let start = 0;
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (names.length > 1) {
    const header = new RegExp(`^\\s*\\[\\s*${esc(names.slice(0, -1).join('.'))}\\s*\\]`);
    const h = lines.findIndex((l) => header.test(l));
    if (h >= 0) start = h + 1;
  }
  const key = new RegExp(`^\\s*["']?${esc(names[names.length - 1]!)}["']?\\s*=`);
  for (let i = start; i < lines.length; i++) {
    if (i > start && names.length === 1 && /^\s*\[/.test(lines[i]!)) break;
    if (key.test(lines[i]!)) return i + 1;
  }
  if (names.length > 1) {
    const header = new RegExp(`^\\s*\\[\\s*${esc(names.join('.'))}\\s*\\]`);
    const h = lines.findIndex((l) => header.test(l));
    if (h >= 0) return h + 1;
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

[mesh]
# token = "…"                 # shared secret of all peers (at least 16 characters)
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
