/**
 * `clare doctor`: checks this machine and its view of the mesh, and says for each
 * problem the one thing to do about it. Runs beside the daemon or without it: the
 * config and database are read from disk (read-only), rclaude is run as the daemon
 * would run it, the daemon and the peers are asked over HTTP.
 *
 * Levels: `ok`; `warn` (works, but should be changed); `fail` (something is broken);
 * `skip` (could not be checked because an earlier check failed).
 */
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { z } from 'zod';
import { RECOVERY_PENDING, inspectDatabase, type DatabaseInfo } from '../core/backup.js';
import { loadConfig, type ClareConfig } from '../core/config.js';
import { openDb } from '../core/db.js';
import { asClareError } from '../core/errors.js';
import { listRclaudeSessions, locateRclaude, rclaudeVersion } from '../core/fleet/rclaude.js';
import type { ClarePaths } from '../core/paths.js';
import { getGroup } from '../core/queries.js';
import { MIGRATIONS } from '../core/schema.js';
import { bearerHeaders } from '../replication/auth.js';
import { syncStateSchema } from '../replication/http-sync-wire.js';
import { peerApiUrl } from '../replication/peer-url.js';
import { CURRENT_PROTOCOL_VERSION } from '../replication/protocol-version.js';
import { checkBind } from '../server/bind-check.js';
import type { PeerStatus } from '../protocol/status.js';
import { statusModel, type StatusDoc } from '../protocol/status.js';

export type Level = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** Stable id, e.g. `config`, `database`, `peer:http://198.18.0.2:8765`. */
  readonly id: string;
  readonly level: Level;
  /** What was found. */
  readonly detail: string;
  /** The one thing to do about it (null when ok). */
  readonly fix: string | null;
}

export interface DoctorReport {
  /** No check failed (warnings allowed). */
  readonly healthy: boolean;
  readonly checks: readonly Check[];
}

/** A mesh token shorter than this is a warning (`clare init --mesh` writes 64 hex characters). */
export const MIN_TOKEN_CHARS = 32;
/** A WAL larger than this means checkpoints are not keeping up. */
const WAL_WARN_BYTES = 256 * 1024 * 1024;
const PROBE_TIMEOUT_MS = 8000;

const ok = (id: string, detail: string): Check => ({ id, level: 'ok', detail, fix: null });
const warn = (id: string, detail: string, fix: string): Check => ({ id, level: 'warn', detail, fix });
const fail = (id: string, detail: string, fix: string): Check => ({ id, level: 'fail', detail, fix });
const skip = (id: string, detail: string): Check => ({ id, level: 'skip', detail, fix: null });

/** An error's message; fetch's "fetch failed" gets its cause (ECONNREFUSED, a timeout, …). */
function message(e: unknown): string {
  const c = asClareError(e);
  if (c !== null) return c.message;
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : null;
  return why === null ? e.message : `${e.message} (${why})`;
}

function checkToken(config: ClareConfig): Check {
  const t = config.mesh.token;
  if (t === undefined) {
    return config.peers.length === 0
      ? ok('token', 'no mesh token (this machine has no peers and listens on loopback)')
      : warn('token', `no [mesh] token, and ${config.peers.length} peer(s) configured: peers cannot authenticate each other`, `set the same [mesh] token (e.g. \`openssl rand -hex 32\`) in every machine's clare.toml and restart each daemon`);
  }
  if (t.length < MIN_TOKEN_CHARS) {
    return warn('token', `the mesh token is ${t.length} characters, shorter than ${MIN_TOKEN_CHARS}`, `make a longer one (\`openssl rand -hex 32\`), put it in [mesh] token of every machine's clare.toml, and restart each daemon`);
  }
  return ok('token', `mesh token set (${t.length} characters)`);
}

function checkDatabase(paths: ClarePaths): { check: Check; info: DatabaseInfo | null } {
  if (!existsSync(paths.dbFile)) return { check: fail('database', `no database at ${paths.dbFile}`, 'run `clare init` (keeps the machine id), or `clare restore FILE` from a backup'), info: null };
  let info: DatabaseInfo;
  try {
    info = inspectDatabase(paths.dbFile);
  } catch (e) {
    return { check: fail('database', message(e), `restore the last good backup: \`clare restore FILE --force\` with the daemon stopped (the damaged file is kept beside it)`), info: null };
  }
  const wal = existsSync(`${paths.dbFile}-wal`) ? statSync(`${paths.dbFile}-wal`).size : 0;
  const base = `${paths.dbFile}: integrity ok, schema ${info.schema}, ${info.events} events from ${info.origins} machine(s), WAL ${(wal / 1024 / 1024).toFixed(1)} MiB`;
  if (info.schema < MIGRATIONS.length) return { check: ok('database', `${base} (schema ${MIGRATIONS.length} is applied at the next daemon start)`), info };
  if (wal > WAL_WARN_BYTES) return { check: warn('database', `${base}: the WAL is larger than ${WAL_WARN_BYTES / 1024 / 1024} MiB`, 'restart the daemon (its clean stop checkpoints the WAL); if it grows again, look for a long-running reader (`clare export` piped into something slow)'), info };
  if (info.recovery === RECOVERY_PENDING) return { check: warn('database', `${base}; recovery pending (restored from a backup)`, "start the daemon with its peers reachable: it fetches this machine's own later events from them first"), info };
  return { check: ok('database', base), info };
}

async function checkRclaude(config: ClareConfig, env: NodeJS.ProcessEnv): Promise<Check> {
  let path: string;
  try {
    path = locateRclaude(config.rclaude.path, env);
  } catch (e) {
    return fail('rclaude', message(e), 'install rclaude, or set [rclaude] path in clare.toml');
  }
  const opts = { path, timeoutMs: config.rclaude.timeout_ms };
  try {
    const version = await rclaudeVersion(opts);
    const sessions = await listRclaudeSessions(opts, config.name);
    return ok('rclaude', `${path}: ${version}; lists ${sessions.length} session(s) on ${config.name}`);
  } catch (e) {
    return fail('rclaude', `${path}: ${message(e)}`, `run \`${path} _claude-projects --sessions\` yourself and fix what it says (docs/rclaude.md is the contract)`);
  }
}

/** Whether host:port can be bound now (false: something listens there). */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

function daemonUrl(config: ClareConfig, env: NodeJS.ProcessEnv): string {
  const override = env['CLARE_URL'];
  if (override !== undefined && override !== '') return override.replace(/\/+$/, '');
  const h = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host === '::' ? '::1' : config.server.host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${config.server.port}`;
}

async function getJson(url: string, token: string | undefined): Promise<{ status: number; body: unknown; date: string | null }> {
  const r = await fetch(url, { headers: bearerHeaders(token), signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  const text = await r.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = text.slice(0, 200);
  }
  return { status: r.status, body, date: r.headers.get('date') };
}

async function checkDaemon(config: ClareConfig, env: NodeJS.ProcessEnv): Promise<{ check: Check; status: StatusDoc | null }> {
  const url = daemonUrl(config, env);
  let r: Awaited<ReturnType<typeof getJson>>;
  try {
    r = await getJson(`${url}/api/v1/status`, config.mesh.token);
  } catch (e) {
    if (!(await portFree(config.server.host, config.server.port))) {
      return { check: fail('daemon', `nothing answers HTTP at ${url}, yet port ${config.server.port} on ${config.server.host} is taken (${message(e)})`, `find what holds it (\`ss -ltnp 'sport = :${config.server.port}'\`) and stop it, or set another [server] port`), status: null };
    }
    return { check: fail('daemon', `no daemon answers at ${url} (port ${config.server.port} is free)`, 'start it: `systemctl --user start clare` (or `clare serve`); `journalctl --user -u clare` says why it stopped'), status: null };
  }
  if (r.status === 401) return { check: fail('daemon', `the daemon at ${url} refuses this machine's token`, 'the [mesh] token in clare.toml changed since the daemon started: restart it'), status: null };
  const s = statusModel.safeParse(r.body);
  if (r.status !== 200 || !s.success) return { check: fail('daemon', `${url}/api/v1/status answered ${r.status} with something else than Clare's status`, `check that ${url} is this machine's Clare daemon ([server] port in clare.toml, or CLARE_URL)`), status: null };
  if (s.data.machine.id !== config.machine_id) {
    return { check: fail('daemon', `the daemon at ${url} is machine ${s.data.machine.id} (${s.data.machine.name}), not this machine's ${config.machine_id}`, 'point CLARE_URL or [server] port at this machine\'s own daemon'), status: null };
  }
  const health = await getJson(`${url}/api/v1/health`, undefined).catch(() => null);
  const state = health !== null && typeof health.body === 'object' && health.body !== null && 'status' in health.body ? String(health.body.status) : 'unknown';
  const detail = `daemon ${s.data.machine.version} answers at ${url} (up since ${s.data.machine.started_at}, health ${state})`;
  return { check: state === 'degraded' ? warn('daemon', detail, 'see the peers and rclaude checks below, and `clare status`') : ok('daemon', detail), status: s.data };
}

type ProbedState = z.infer<typeof syncStateSchema>;

interface PeerFinding { readonly url: string; readonly state: ProbedState | null }

/** One configured or connected peer: reachable, token, identity, protocol, clock, lag. */
async function checkPeer(url: string, config: ClareConfig, link: PeerStatus | undefined): Promise<{ check: Check; finding: PeerFinding }> {
  const id = `peer ${url}`;
  let r: Awaited<ReturnType<typeof getJson>>;
  try {
    r = await getJson(peerApiUrl(url, '/api/v1/sync/state'), config.mesh.token);
  } catch (e) {
    return { check: fail(id, `unreachable: ${message(e)}`, `check the network path (\`wg show\`, \`ping\` its WireGuard address) and that its daemon runs and binds that address ([server] host there)`), finding: { url, state: null } };
  }
  if (r.status === 401) return { check: fail(id, 'reachable, but it refuses our mesh token', 'copy the same [mesh] token into both clare.toml files and restart both daemons'), finding: { url, state: null } };
  const st = syncStateSchema.safeParse(r.body);
  if (r.status !== 200 || !st.success) return { check: fail(id, `answered ${r.status}, not a Clare sync state`, `check the URL: is a Clare daemon listening at ${url}?`), finding: { url, state: null } };
  const s = st.data;
  if (s.machine_id === config.machine_id) {
    return { check: fail(id, `answers with this machine's own id ${s.machine_id} (${s.name})`, 'if it is this machine, remove it from peers; if it is another machine, its clare.toml was copied from this one: run `clare init` there with a fresh config (see docs/operations.md, "Duplicate machine ids")'), finding: { url, state: s } };
  }
  const parts = [`${s.name} (${s.machine_id.slice(0, 8)}), ${s.event_count} events, token accepted`];
  const problems: { level: 'warn' | 'fail'; text: string; fix: string }[] = [];
  if (link === undefined) {
    problems.push({ level: 'warn', text: 'no replication link to it right now', fix: 'the daemon dials configured peers on its own; `clare peer list` shows the last error' });
  } else {
    parts.push(link.connected ? `link up since ${link.since ?? '?'}` : 'link down');
    if (link.protocol !== null) parts.push(`protocol ${link.protocol}${link.protocol < CURRENT_PROTOCOL_VERSION ? ' (older than ours)' : ''}`);
    if (link.clock_offset_ms !== null) parts.push(`clock offset ${Math.round(link.clock_offset_ms)} ms`);
    if (link.lag !== null) parts.push(`lag: it lacks ${link.lag.they_lack}, we lack ${link.lag.we_lack}`);
    if (link.faulty) problems.push({ level: 'fail', text: `link stopped as faulty: ${link.last_error?.code ?? ''} ${link.last_error?.message ?? ''}`.trim(), fix: link.last_error?.code === 'CLARE_IDENTITY_CONFLICT' ? 'two machines share a machine id or a backup was restored under a live id: see docs/operations.md, "Duplicate machine ids"' : 'fix what the error names on that peer, then restart this daemon to redial' });
    else if (!link.connected && link.last_error !== null) problems.push({ level: 'warn', text: `link down: ${link.last_error.code} ${link.last_error.message}`, fix: 'it is redialled on its own; if it stays down, fix what the error names' });
    if (link.clock_offset_ms !== null && Math.abs(link.clock_offset_ms) > config.mesh.max_clock_skew_ms / 2) {
      const over = Math.abs(link.clock_offset_ms) > config.mesh.max_clock_skew_ms;
      problems.push({ level: over ? 'fail' : 'warn', text: `clock differs by ${Math.round(link.clock_offset_ms)} ms (limit ${config.mesh.max_clock_skew_ms})`, fix: 'turn on time sync on both machines (`timedatectl set-ntp true`)' });
    }
    if (link.protocol !== null && link.protocol < CURRENT_PROTOCOL_VERSION) problems.push({ level: 'warn', text: `it speaks protocol ${link.protocol}, we prefer ${CURRENT_PROTOCOL_VERSION}`, fix: 'upgrade Clare on that machine (docs/operations.md, "Upgrading a mesh")' });
  }
  const worst = problems.some((p) => p.level === 'fail') ? 'fail' : problems.length > 0 ? 'warn' : 'ok';
  const detail = [parts.join('; '), ...problems.map((p) => p.text)].join('; ');
  const first = problems.find((p) => p.level === worst);
  const check: Check = worst === 'ok' || first === undefined ? ok(id, detail) : { id, level: worst, detail, fix: first.fix };
  return { check, finding: { url, state: s } };
}

/**
 * One machine id answering from two places: a peer claiming ours, or two peer URLs
 * with one id but different names or data (a copied config). The same name and
 * digest at two URLs is one machine listed twice.
 */
function checkDuplicates(config: ClareConfig, findings: readonly PeerFinding[], links: readonly PeerStatus[]): Check {
  const problems: string[] = [];
  let twice: string | null = null;
  const byId = new Map<string, { url: string; state: ProbedState }[]>();
  for (const f of findings) if (f.state !== null) byId.set(f.state.machine_id, [...(byId.get(f.state.machine_id) ?? []), { url: f.url, state: f.state }]);
  for (const [id, at] of byId) {
    if (id === config.machine_id) problems.push(`${at.map((a) => a.url).join(' and ')} answer${at.length === 1 ? 's' : ''} with this machine's own id ${id}`);
    else if (at.length > 1) {
      const [first] = at;
      const same = first !== undefined && at.every((a) => a.state.name === first.state.name && a.state.digest === first.state.digest);
      if (same) twice = `${first.state.name} is listed twice (${at.map((a) => a.url).join(', ')})`;
      else problems.push(`machine id ${id} answers at ${at.map((a) => `${a.url} as ${a.state.name}`).join(' and ')} with different data`);
    }
  }
  for (const l of links) {
    if (l.url === null && l.machine_id === config.machine_id) problems.push(`an inbound link (${l.name ?? '?'}) says it is this machine (${config.machine_id})`);
    if (l.last_error?.code === 'CLARE_IDENTITY_CONFLICT') problems.push(`identity conflict on the link to ${l.name ?? l.url ?? '?'}: ${l.last_error.message}`);
  }
  if (problems.length > 0) {
    return fail('machine-ids', problems.join('; '), 'a config was copied to another machine: on the copy, move clare.toml and clare.db away and run `clare init` (a new machine id), then add its peers again (docs/operations.md, "Duplicate machine ids")');
  }
  if (twice !== null) return warn('machine-ids', twice, 'keep one URL per machine in peers (`clare peer remove URL`)');
  return ok('machine-ids', `no machine id answers from two places (${byId.size} peer id(s) seen)`);
}

/** The first version's [groups] table against the replicated groups. */
function checkGroups(config: ClareConfig, paths: ClarePaths, dbOk: boolean): Check {
  if (config.groups === undefined) return ok('groups', 'no [groups] table in clare.toml (groups live in the replicated data)');
  if (!dbOk) return skip('groups', 'database not readable');
  const db = openDb(paths.dbFile, { readonly: true });
  try {
    const drift: string[] = [];
    for (const [name, patterns] of Object.entries(config.groups)) {
      // One lookup per group of the table (groups are read a page at a time, not listed whole).
      const g = getGroup(db, name);
      const have = g === null || g.archived ? undefined : new Set(g.members);
      const want = new Set(patterns);
      if (have === undefined) drift.push(`${name}: in clare.toml, not replicated`);
      else if (have.size !== want.size || [...want].some((p) => !have.has(p))) drift.push(`${name}: clare.toml has ${[...want].join(' ') || '(none)'}, the mesh has ${[...have].join(' ') || '(none)'}`);
    }
    if (drift.length === 0) return ok('groups', 'the [groups] table of clare.toml matches the replicated groups (it was imported once and is not read again; you may delete it)');
    return warn('groups', `[groups] in clare.toml differs from the replicated groups: ${drift.join('; ')}`, 'the table is imported only once and edits to it do nothing: make the changes with `clare group add|rm`, then delete [groups] from clare.toml');
  } finally {
    db.close();
  }
}

/** Runs every check. */
export async function runDoctor(paths: ClarePaths, env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  const checks: Check[] = [];
  let config: ClareConfig;
  try {
    config = loadConfig(paths.configFile);
    checks.push(ok('config', `${paths.configFile}: machine ${config.machine_id} (${config.name}), ${config.peers.length} peer(s), listens on ${config.server.host}:${config.server.port}`));
  } catch (e) {
    checks.push(fail('config', message(e), existsSync(paths.configFile) ? 'fix the line and key named above' : 'run `clare init`'));
    return { healthy: false, checks };
  }
  try {
    await checkBind(config.server.host, config.mesh.token, config.file);
  } catch (e) {
    checks.push(fail('bind', `${message(e)}: the daemon refuses to start`, 'set [mesh] token (the same on every machine), or bind 127.0.0.1'));
  }
  checks.push(checkToken(config));
  const db = checkDatabase(paths);
  checks.push(db.check);
  checks.push(await checkRclaude(config, env));
  const daemon = await checkDaemon(config, env);
  checks.push(daemon.check);

  const links = daemon.status?.peers ?? [];
  const urls = [...new Set([...config.peers, ...links.flatMap((l) => (l.url === null ? [] : [l.url]))])];
  const peers = await Promise.all(urls.map((u) => checkPeer(u, config, links.find((l) => l.url === u))));
  checks.push(...peers.map((p) => p.check));
  if (urls.length === 0) checks.push(ok('peers', 'no peers configured (`clare peer add URL` to join a mesh)'));
  checks.push(checkDuplicates(config, peers.map((p) => p.finding), links));
  checks.push(checkGroups(config, paths, db.info !== null));
  return { healthy: checks.every((c) => c.level !== 'fail'), checks };
}
