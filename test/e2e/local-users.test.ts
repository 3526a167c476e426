/**
 * Loopback is not a trust boundary: another user of the same machine reaches
 * 127.0.0.1 too. The daemon tells the owner of the client socket of a loopback
 * connection (its uid in /proc/net/tcp*) and serves tokenless requests only to its
 * own user. Tested for real: a throwaway user made with useradd sends requests
 * through `runuser`; this needs root (CI runs as root) and is skipped otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machinePool, type TestMachine } from '../helpers/daemon.js';
import { targetVariants, UPGRADE_HEADERS } from '../helpers/raw-http.js';

const ROOT = process.getuid?.() === 0;
const SKIP_REASON = 'SKIPPED: needs root (useradd, runuser) to make a second local user';
const TOKEN = 'local-users-token-0123456789abc';
const { machine, release } = machinePool();

interface Probe { readonly method: string; readonly target: string; readonly headers?: Record<string, string>; readonly body?: string }
/** A probe of a route, with the access the daemon's OpenAPI document declares for it. */
type RouteProbe = Probe & { readonly access: string };

/**
 * Runs as the other user: sends each probe with http.request (which sends the
 * target as given) and prints the statuses; 101 when an upgrade went through.
 */
const PROBE = `
const http = require('node:http');
const [port, probes] = [Number(process.argv[1]), JSON.parse(process.argv[2])];
const one = (p) => new Promise((resolve) => {
  const req = http.request({ host: '127.0.0.1', port, agent: false, method: p.method, path: p.target, headers: { ...(p.headers || {}), ...(p.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(p.body) }) } });
  req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
  req.on('upgrade', (res, socket) => { socket.destroy(); resolve(101); });
  req.on('error', (e) => resolve('error: ' + e.message));
  if (p.body !== undefined) req.write(p.body);
  req.end();
});
(async () => { const out = []; for (const p of probes) out.push(await one(p)); process.stdout.write(JSON.stringify(out)); })();
`;

let user = '';
let probeDir = '';

/** Sends `probes` to the daemon on `port` as the throwaway user. */
function asOtherUser(port: number, probes: readonly Probe[]): (number | string)[] {
  const r = spawnSync('runuser', ['-u', user, '--', process.execPath, '-e', PROBE, String(port), JSON.stringify(probes)], { encoding: 'utf8', timeout: 60_000, cwd: probeDir });
  if (r.status !== 0) throw new Error(`probe as ${user} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as (number | string)[];
}

/** Every JSON route of the daemon (from its OpenAPI document, with its declared access) plus both sockets, with made-up params. */
async function allRoutes(m: TestMachine): Promise<RouteProbe[]> {
  const doc = (await m.api<{ paths: Record<string, Record<string, { 'x-clare-access': string }>> }>('GET', '/openapi.json')).body;
  const out: RouteProbe[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const target = path.replace(/\{[^}]+\}/g, 'x');
      out.push({ method: method.toUpperCase(), target, access: op['x-clare-access'], ...(method === 'get' || method === 'delete' ? {} : { body: '{}' }) });
    }
  }
  out.push({ method: 'GET', target: '/api/v1/live', headers: { ...UPGRADE_HEADERS }, access: 'local' });
  out.push({ method: 'GET', target: '/api/v1/sync/ws', headers: { ...UPGRADE_HEADERS }, access: 'mesh' });
  out.push({ method: 'GET', target: '/api/v1/openapi.json', access: 'local' });
  return out;
}

if (!ROOT) console.warn(`test/e2e/local-users.test.ts: ${SKIP_REASON}`);

describe.skipIf(!ROOT)(ROOT ? 'another user of this machine' : `another user of this machine (${SKIP_REASON})`, () => {
  beforeAll(() => {
    user = `clare-t${randomBytes(3).toString('hex')}`;
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
    probeDir = mkdtempSync(join(tmpdir(), 'clare-probe-'));
    chmodSync(probeDir, 0o755);
  });
  afterAll(async () => {
    await release();
    if (user !== '') spawnSync('userdel', [user]);
    if (probeDir !== '') rmSync(probeDir, { recursive: true, force: true });
  });

  describe('with no mesh token', () => {
    let m: TestMachine;
    beforeAll(async () => {
      m = await machine({ name: 'desk' });
      await m.start();
    });

    it('is refused on every route but the public ones, and both sockets (403); our own user is served', async () => {
      const routes = await allRoutes(m);
      expect(routes.length).toBeGreaterThan(20);
      // Public routes (health) reveal nothing and are everybody's; there must be few, and all of them GETs.
      const open = routes.filter((r) => r.access === 'public');
      expect(open.map((r) => `${r.method} ${r.target}`)).toEqual(['GET /api/v1/health']);
      const statuses = asOtherUser(m.port, routes);
      const wrong = routes.map((p, i) => ({ p: `${p.method} ${p.target}`, s: statuses[i], want: p.access === 'public' ? 200 : 403 })).filter((x) => x.s !== x.want);
      expect(wrong).toEqual([]);
      // The control: the same daemon serves this test process (its own user).
      expect((await m.api('GET', '/tasks')).status).toBe(200);
    });

    it('says why, and writes nothing', async () => {
      const [s] = asOtherUser(m.port, [{ method: 'POST', target: '/api/v1/groups', body: JSON.stringify({ name: 'theirs', members: ['*:*'] }) }]);
      expect(s).toBe(403);
      expect((await m.api<{ items: { name: string }[] }>('GET', '/groups')).body.items).toEqual([]);
    });

    it('is refused under every spelling of the target (never 2xx or 101)', () => {
      const probes: Probe[] = [];
      for (const p of [{ method: 'GET', target: '/api/v1/tasks' }, { method: 'GET', target: '/api/v1/live', headers: UPGRADE_HEADERS }, { method: 'GET', target: '/api/v1/status' }]) {
        for (const v of targetVariants(p.target, m.port)) probes.push({ ...p, target: v.target });
      }
      const statuses = asOtherUser(m.port, probes);
      const through = probes.map((p, i) => ({ t: p.target, s: statuses[i] })).filter((x) => typeof x.s !== 'number' || (x.s >= 200 && x.s < 300) || x.s === 101);
      expect(through).toEqual([]);
    });

    it('still gets the public files (the dashboard page holds no data)', () => {
      expect(asOtherUser(m.port, [{ method: 'GET', target: '/' }])).toEqual([200]);
    });
  });

  describe('with a mesh token', () => {
    let m: TestMachine;
    beforeAll(async () => {
      m = await machine({ name: 'desk', token: TOKEN });
      await m.start();
    });

    it('needs the token (401), and is served with it', () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const statuses = asOtherUser(m.port, [
        { method: 'GET', target: '/api/v1/tasks' },
        { method: 'GET', target: '/api/v1/live', headers: { ...UPGRADE_HEADERS } },
        { method: 'GET', target: '/api/v1/tasks', headers: auth },
        { method: 'GET', target: `/api/v1/live?token=${TOKEN}`, headers: { ...UPGRADE_HEADERS } },
      ]);
      expect(statuses).toEqual([401, 401, 200, 101]);
    });
  });
});
