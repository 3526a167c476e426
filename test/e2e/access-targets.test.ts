/**
 * Access is decided from the route fastify matched, never from URL text: with a
 * mesh token set, every mesh route (sync routes, the sync socket, the peer list and
 * its changes) needs the token even from this machine's own user on loopback, under
 * every spelling of the request target — percent-encoded, double-encoded,
 * absolute-form, dot segments — sent raw over a socket so nothing normalises them.
 * The daemon never sends its token to a URL that is not a configured peer.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, machinePool, type TestMachine } from '../helpers/daemon.js';
import { rawRequest, targetVariants, UPGRADE_HEADERS } from '../helpers/raw-http.js';

const TOKEN = 'access-targets-token-0123456789';
const { machine, release } = machinePool();

interface Probe { readonly method: string; readonly path: string; readonly body?: unknown; readonly upgrade?: boolean }

/** Every mesh route of the daemon (docs/security.md, "What each door checks"). */
const MESH_ROUTES: readonly Probe[] = [
  { method: 'GET', path: '/api/v1/sync/events?since=' },
  { method: 'POST', path: '/api/v1/sync/events', body: { events: [] } },
  { method: 'GET', path: '/api/v1/sync/state' },
  { method: 'POST', path: '/api/v1/sync/run', body: {} },
  { method: 'GET', path: '/api/v1/sync/check' },
  { method: 'GET', path: '/api/v1/peers' },
  { method: 'POST', path: '/api/v1/peers', body: { url: 'http://198.18.0.9:9' } },
  { method: 'DELETE', path: '/api/v1/peers?url=http%3A%2F%2F198.18.0.9%3A9' },
  { method: 'GET', path: '/api/v1/sync/ws', upgrade: true },
];

let m: TestMachine;
beforeAll(async () => {
  m = await machine({ name: 'desk', token: TOKEN });
  await m.start();
});
afterAll(release);

async function send(p: Probe, target: string, headers: Record<string, string> = {}): Promise<number> {
  const body = p.body === undefined ? undefined : JSON.stringify(p.body);
  const r = await rawRequest('127.0.0.1', m.port, {
    method: p.method, target, ...(p.upgrade === true ? { upgrade: true } : {}),
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body }),
  });
  return r.status;
}

describe('mesh routes need the token from loopback too, under every spelling of the target', () => {
  it('answers 401 to the plain target and never 2xx or 101 to any other', async () => {
    const configBefore = readFileSync(m.configFile, 'utf8');
    const passed: string[] = [];
    for (const p of MESH_ROUTES) {
      for (const v of targetVariants(p.path, m.port)) {
        const status = await send(p, v.target);
        if (v.name === 'plain' && status !== 401) passed.push(`${p.method} ${v.target} (${v.name}) → ${status}, want 401`);
        if ((status >= 200 && status < 300) || status === 101) passed.push(`${p.method} ${v.target} (${v.name}) → ${status}`);
      }
    }
    expect(passed).toEqual([]);
    // Nothing was written: no peer was added to clare.toml.
    expect(readFileSync(m.configFile, 'utf8')).toBe(configBefore);
  });

  it('says what is missing: the token is needed even from this machine', async () => {
    const r = await m.api<{ error: { code: string; message: string } }>('POST', '/peers', { url: 'http://198.18.0.9:9' }, { authorization: '' });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('CLARE_UNAUTHORIZED');
    expect(r.body.error.message).toMatch(/mesh token/);
    expect(r.body.error.message).toMatch(/even from this machine/);
  });

  it('a refused upgrade closes its connection (it would otherwise linger, never parsed again)', async () => {
    for (const target of ['/api/v1/sync/ws', '/api/v1/no-such-socket']) {
      const s = connect(m.port, '127.0.0.1');
      let got = '';
      s.setEncoding('latin1').on('data', (d: string) => { got += d; });
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\n${Object.entries(UPGRADE_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`the server kept the refused upgrade of ${target} open for 10 s`)), 10_000); });
      await Promise.race([closed, deadline]).finally(() => { clearTimeout(timer); s.destroy(); });
      expect(got).toMatch(/^HTTP\/1\.1 40[14] /);
      expect(got.toLowerCase()).toContain('connection: close');
    }
  });

  it('lets the token through on the same routes (the plain target)', async () => {
    for (const p of MESH_ROUTES.filter((x) => x.method === 'GET' && x.upgrade !== true && !x.path.includes('check'))) {
      expect(await send(p, p.path, { authorization: `Bearer ${TOKEN}` }), `${p.method} ${p.path}`).toBe(200);
    }
    expect(await send(MESH_ROUTES.at(-1)!, '/api/v1/sync/ws', { authorization: `Bearer ${TOKEN}` })).toBe(101);
  });

  it('the CLI sends the token from clare.toml on mesh verbs', () => {
    const list = m.cli(['peer', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(list.stdout))).toBe(true);
    const check = m.cli(['sync', '--check', '--json']);
    expect(check.stderr).not.toMatch(/token/);
  });
});

describe('the daemon sends its token only to configured peers', () => {
  let catcher: Server;
  let catcherUrl = '';
  const seen: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    const port = await freePort();
    catcher = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => catcher.listen(port, '127.0.0.1', r));
    catcherUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(() => new Promise<void>((r) => catcher.close(() => r())));

  it('POST /peers without the token, from loopback, adds nothing and dials nothing', async () => {
    const r = await m.api<{ error: { code: string } }>('POST', '/peers', { url: catcherUrl }, { authorization: '' });
    expect(r.status).toBe(401);
    const peers = await m.api<{ url: string }[]>('GET', '/peers');
    expect(peers.body.map((p) => p.url)).not.toContain(catcherUrl);
    // The answer came back only after the request was handled: had it dialled, the catcher
    // would already hold the upgrade; the sync round below is the positive control of timing.
    expect(seen).toEqual([]);
  });

  it('/sync/run names only configured peers: an arbitrary URL is refused and never contacted', async () => {
    const r = await m.api<{ error: { code: string; message: string } }>('POST', '/sync/run', { peer: catcherUrl });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('CLARE_NOT_FOUND');
    expect(r.body.error.message).toMatch(/not a configured peer/);
    expect(seen).toEqual([]);
  });

  it('a configured peer does get the token (the control: the catcher sees it)', async () => {
    const add = await m.api('POST', '/peers', { url: catcherUrl });
    expect(add.status).toBe(201);
    const r = await m.api<{ ok: boolean }[]>('POST', '/sync/run', { peer: catcherUrl });
    expect(r.status).toBe(200);
    expect(seen.some((h) => h.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect((await m.api('DELETE', `/peers?url=${encodeURIComponent(catcherUrl)}`)).status).toBe(200);
  });
});
