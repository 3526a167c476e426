/**
 * The CLI's HTTP client of the local daemon. Every business verb goes through the
 * daemon's API, so the CLI, the dashboard and scripts share one code path.
 * Address: $CLARE_URL, else [server] host:port from clare.toml.
 */
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { ClareError, isErrorCode } from '../core/errors.js';
import { parseErrorBody } from '../protocol/error-body.js';
import { clarePaths } from '../core/paths.js';

export interface Target {
  readonly url: string;
  readonly token: string | undefined;
}

interface ClientView {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
}

/**
 * The three keys the client needs from clare.toml. The full zod validation (in
 * core/config.ts) costs ~30 ms of start-up that agents pay on every call, so the
 * client reads these keys with plain checks and only loads the full validator when
 * they are missing or malformed — to report the exact file/line/key error.
 */
async function clientView(file: string): Promise<ClientView> {
  try {
    const doc = parseToml(readFileSync(file, 'utf8')) as { server?: { host?: unknown; port?: unknown }; mesh?: { token?: unknown } };
    const host = doc.server?.host ?? '127.0.0.1';
    const port = doc.server?.port ?? 8765;
    const token = doc.mesh?.token;
    if (typeof host === 'string' && host !== '' && typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 && (token === undefined || typeof token === 'string')) {
      return { host, port, token };
    }
  } catch {
    // Unreadable or not TOML: the full loader below says exactly why.
  }
  const { loadConfig } = await import('../core/config.js');
  const c = loadConfig(file);
  return { host: c.server.host, port: c.server.port, token: c.mesh.token };
}

/** Where the daemon is: CLARE_URL (token from CLARE_TOKEN or the config if readable), else the config's server. */
export async function daemonTarget(env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const override = env['CLARE_URL'];
  const paths = clarePaths(env);
  if (override !== undefined && override !== '') {
    let token = env['CLARE_TOKEN'];
    if (token === undefined) {
      try {
        token = (await clientView(paths.configFile)).token;
      } catch {
        token = undefined; // CLARE_URL alone is enough to talk to a loopback daemon
      }
    }
    return { url: override.replace(/\/+$/, ''), token };
  }
  const c = await clientView(paths.configFile);
  const host = c.host === '0.0.0.0' ? '127.0.0.1' : c.host === '::' ? '::1' : c.host;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${c.port}`, token: c.token };
}

/**
 * One API call. Resolves with the parsed JSON body on 2xx; throws the daemon's
 * ClareError on an error body, CLARE_DAEMON_DOWN when nothing answers.
 */
export function api<T>(target: Target, method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<T> {
  const url = new URL(`${target.url}/api/v1${path}`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  if (target.token !== undefined) headers['authorization'] = `Bearer ${target.token}`;
  const send = url.protocol === 'https:' ? httpsRequest : request;
  return new Promise<T>((resolve, reject) => {
    const req = send(url, { method, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text === '' ? null : JSON.parse(text);
        } catch {
          reject(new ClareError('CLARE_INTERNAL', `the daemon at ${target.url} answered ${res.statusCode ?? '?'} with non-JSON: ${text.slice(0, 200)}`));
          return;
        }
        if ((res.statusCode ?? 500) < 300) {
          resolve(parsed as T);
          return;
        }
        reject(errorFromBody(parsed, res.statusCode ?? 500));
      });
    });
    req.on('timeout', () => req.destroy(new ClareError('CLARE_DAEMON_DOWN', `the daemon at ${target.url} did not answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof ClareError) reject(e);
      else if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH' || e.code === 'ECONNRESET') {
        reject(new ClareError('CLARE_DAEMON_DOWN', `no Clare daemon answers at ${target.url}; start it with \`clare serve\` (or set CLARE_URL)`));
      } else reject(new ClareError('CLARE_DAEMON_DOWN', `cannot reach the daemon at ${target.url}: ${e.message}`));
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

function errorFromBody(parsed: unknown, status: number): ClareError {
  const e = parseErrorBody(parsed);
  if (e !== null && isErrorCode(e.code)) return new ClareError(e.code, e.message, e.details);
  return new ClareError('CLARE_INTERNAL', `the daemon answered ${status}: ${JSON.stringify(parsed).slice(0, 200)}`);
}

/** Encodes a path segment (names and refs typed by people). */
export const seg = (s: string): string => encodeURIComponent(s);
