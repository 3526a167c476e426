/**
 * A web page is not the user. A real Chromium page served from another loopback
 * origin tries the live socket, the sync socket (a hello under a made-up machine
 * id, then a batch with group.created, a `*:*` member and broadcast.sent) and a
 * write, against a daemon with no token on 127.0.0.1 — the default set-up — and
 * gets nothing: no snapshot, no event stored, nothing typed into a session. A
 * DNS-rebinding page (a name that resolves to loopback) is refused too. The
 * dashboard on its own origin keeps working.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { freePort, machinePool, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';
import { rawRequest, UPGRADE_HEADERS } from '../helpers/raw-http.js';
import { editConfig, sends, spawnSessions } from './fleet-helpers.js';

const { machine, release } = machinePool();
let m: TestMachine;
let browser: TestBrowser;
let attacker: Server;
let attackerPort = 0;

const EVIL_MACHINE = randomUUID();
const ATTACK_TEXT = `PWNED-${randomUUID().slice(0, 8)} rm -rf ~`;

function hlc(ms: number, counter: number): string {
  return `${String(ms).padStart(15, '0')}:${String(counter).padStart(5, '0')}:${EVIL_MACHINE}`;
}

/** What the page sends over the sync socket once it is open. */
function syncFrames(): unknown[] {
  const now = Date.now();
  const ev = (i: number, type: string, payload: unknown): unknown => ({ id: randomUUID(), hlc: hlc(now, i), origin: EVIL_MACHINE, type, v: 1, payload });
  return [
    { type: 'hello', versions: [1], machine_id: EVIL_MACHINE, name: 'evil', now_ms: now, watermarks: {}, counts: {}, links: [] },
    {
      type: 'batch', seq: 1, base: { [EVIL_MACHINE]: null }, events: [
        ev(0, 'group.created', { group: 'pwned' }),
        ev(1, 'group.member_added', { group: 'pwned', pattern: '*:*' }),
        ev(2, 'broadcast.sent', { update_id: randomUUID(), group: 'pwned', text: ATTACK_TEXT, ttl_s: null }),
      ],
    },
  ];
}

/**
 * The attack page: each socket attempt ends when the socket closes or when it got
 * what an attacker wants (a snapshot; an ack of the batch), with a deadline.
 */
function attackPage(daemonPort: number): string {
  const cfg = { port: daemonPort, frames: syncFrames(), group: { name: 'pwned2', members: ['*:*'] }, broadcast: { group: 'pwned2', message: ATTACK_TEXT } };
  return `<!doctype html><html><body><script id="cfg" type="application/json">${JSON.stringify(cfg)}</script><script>
const cfg = JSON.parse(document.getElementById('cfg').textContent);
const base = 'http://127.0.0.1:' + cfg.port;
function tryWs(path, onOpen, wanted) {
  return new Promise((resolve) => {
    const r = { opened: false, messages: [], closed: null, timedOut: false };
    const ws = new WebSocket('ws://127.0.0.1:' + cfg.port + path);
    const t = setTimeout(() => { r.timedOut = true; ws.close(); resolve(r); }, 15000);
    const end = () => { clearTimeout(t); resolve(r); };
    ws.onopen = () => { r.opened = true; if (onOpen) onOpen(ws); };
    ws.onmessage = (e) => { r.messages.push(String(e.data).slice(0, 300)); if (wanted(String(e.data))) { ws.close(); end(); } };
    ws.onclose = (e) => { r.closed = e.code; end(); };
  });
}
(async () => {
  const results = {};
  results.live = await tryWs('/api/v1/live', null, (d) => d.includes('"snapshot"'));
  results.sync = await tryWs('/api/v1/sync/ws', (ws) => { for (const f of cfg.frames) ws.send(JSON.stringify(f)); }, (d) => d.includes('"ack"') || d.includes('"error"'));
  const post = (path, body, mode, type) => fetch(base + path, { method: 'POST', mode, headers: { 'content-type': type }, body: JSON.stringify(body) })
    .then((r) => r.type + ' ' + r.status, (e) => 'failed: ' + e.message);
  results.writes = [
    await post('/api/v1/groups', cfg.group, 'no-cors', 'text/plain'),
    await post('/api/v1/groups', cfg.group, 'cors', 'application/json'),
    await post('/api/v1/broadcast', cfg.broadcast, 'no-cors', 'text/plain'),
  ];
  window.__results = results;
  window.__done = true;
})();
</script></body></html>`;
}

beforeAll(async () => {
  m = await machine({ name: 'desk' });
  editConfig(m, 'poll_interval_s = 10', 'poll_interval_s = 1');
  spawnSessions(m, 'api-1');
  await m.start();
  await waitFor('the session', async () => (await m.api<{ items: unknown[] }>('GET', '/sessions')).body.items.length === 1, 15_000);
  attackerPort = await freePort();
  attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attackPage(m.port)));
  await new Promise<void>((r) => attacker.listen(attackerPort, '127.0.0.1', r));
  // evil.example resolves to loopback in this browser only: the DNS-rebinding case.
  browser = await launchBrowser({ args: ['--host-resolver-rules=MAP evil.example 127.0.0.1'] });
});
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (attacker === undefined ? r() : attacker.close(() => r())));
  await release();
});

describe('a page on another origin', () => {
  it('gets no snapshot, stores no event, types nothing', async () => {
    const page = await browser.context.newPage();
    const statuses: string[] = [];
    page.on('response', (r) => { if (r.url().startsWith(`http://127.0.0.1:${m.port}/`)) statuses.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`); });
    await page.goto(`http://127.0.0.1:${attackerPort}/attack.html`);
    await page.waitForFunction(() => (globalThis as unknown as { __done?: boolean }).__done === true, undefined, { timeout: 60_000 });
    const results = await page.evaluate(() => (globalThis as unknown as { __results: Record<string, { opened: boolean; messages: string[] }> }).__results);
    await page.close();

    // The sockets never opened: no snapshot, no hello back, no ack.
    expect.soft(results['live']).toMatchObject({ opened: false, messages: [] });
    expect.soft(results['sync']).toMatchObject({ opened: false, messages: [] });
    // The writes reached the daemon and were refused there (the CORS one never left the browser).
    expect.soft(statuses.filter((s) => s.startsWith('POST'))).toEqual(['POST /api/v1/groups 403', 'POST /api/v1/broadcast 403']);

    // Nothing was stored: no event of the made-up machine, no group, no broadcast.
    const state = await m.api<{ watermarks: Record<string, string> }>('GET', '/sync/state');
    expect.soft(Object.keys(state.body.watermarks)).not.toContain(EVIL_MACHINE);
    const groups = await m.api<{ items: { name: string }[] }>('GET', '/groups');
    expect.soft(groups.body.items.map((g) => g.name)).toEqual([]);
    const updates = await m.api<{ items: { text: string }[] }>('GET', '/updates?limit=100');
    expect.soft(updates.body.items.filter((u) => u.text.includes('PWNED'))).toEqual([]);

    // Nothing typed: a broadcast of our own to the same session is delivered, the page's never.
    expect(m.cli(['group', 'add', 'mine', 'desk:*']).code).toBe(0);
    expect(m.cli(['broadcast', 'mine', 'our own message']).code).toBe(0);
    await waitFor('our broadcast typed', () => sends(m).some((s) => s.text.includes('our own message')), 20_000);
    expect.soft(sends(m).filter((s) => s.text.includes('PWNED'))).toEqual([]);
  });

  it('a foreign Origin is refused on a raw upgrade and a raw write, with a coded 403', async () => {
    for (const origin of [`http://127.0.0.1:${attackerPort}`, 'http://evil.example', 'null', `http://localhost:${attackerPort}`]) {
      const live = await rawRequest('127.0.0.1', m.port, { method: 'GET', target: '/api/v1/live', upgrade: true, headers: { origin } });
      expect(live.status, `live socket from ${origin}`).toBe(403);
      const sync = await rawRequest('127.0.0.1', m.port, { method: 'GET', target: '/api/v1/sync/ws', upgrade: true, headers: { origin } });
      expect(sync.status, `sync socket from ${origin}`).toBe(403);
      const body = JSON.stringify({ name: 'pwned3', members: ['*:*'] });
      const write = await rawRequest('127.0.0.1', m.port, { method: 'POST', target: '/api/v1/groups', headers: { origin, 'content-type': 'application/json' }, body });
      expect(write.status, `write from ${origin}`).toBe(403);
    }
    expect((await m.api<{ items: { name: string }[] }>('GET', '/groups')).body.items.map((g) => g.name)).not.toContain('pwned3');
  });

  it('the daemon\'s own origin is accepted (the dashboard\'s requests)', async () => {
    const origin = `http://127.0.0.1:${m.port}`;
    const live = await rawRequest('127.0.0.1', m.port, { method: 'GET', target: '/api/v1/live', headers: { ...UPGRADE_HEADERS, origin } });
    expect(live.status).toBe(101);
    const body = JSON.stringify({ name: 'ours', members: ['desk:*'] });
    const write = await rawRequest('127.0.0.1', m.port, { method: 'POST', target: '/api/v1/groups', headers: { origin, 'content-type': 'application/json' }, body });
    expect(write.status).toBe(201);
    const local = await rawRequest('127.0.0.1', m.port, { method: 'POST', target: '/api/v1/groups', headers: { host: `localhost:${m.port}`, origin: `http://localhost:${m.port}`, 'content-type': 'application/json' }, body });
    expect(local.status).toBe(201);
  });
});

describe('DNS rebinding', () => {
  it('a name that resolves to loopback is refused, for every request, GET included', async () => {
    const page = await browser.context.newPage();
    for (const path of ['/', '/api/v1/status', '/api/v1/tasks']) {
      const r = await page.goto(`http://evil.example:${m.port}${path}`);
      expect(r?.status(), path).toBe(403);
      expect(await r?.text()).toContain('CLARE_FORBIDDEN');
    }
    await page.close();
  });

  it('a raw request with Host: evil.example gets 403; IP literals and localhost pass', async () => {
    const status = (host: string): Promise<number> => new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: m.port, path: '/api/v1/status', headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(await status(`evil.example:${m.port}`)).toBe(403);
    expect(await status('evil.example')).toBe(403);
    expect(await status(`127.0.0.1.evil.example:${m.port}`)).toBe(403);
    expect(await status(`127.0.0.1:${m.port}`)).toBe(200);
    expect(await status(`localhost:${m.port}`)).toBe(200);
    expect(await status(`[::1]:${m.port}`)).toBe(200);
    // Absolute-form: the authority in the target counts as the host too.
    expect((await rawRequest('127.0.0.1', m.port, { method: 'GET', target: `http://evil.example:${m.port}/api/v1/status` })).status).toBe(403);
  });
});

describe('the dashboard on its own origin', () => {
  it('loads, goes live and writes', async () => {
    const p = await browser.open(`http://127.0.0.1:${m.port}/#/board`);
    await p.page.getByLabel('New project').fill('own-origin-project');
    await p.page.getByRole('button', { name: 'Add project' }).click();
    await p.page.locator('clare-board-view select option', { hasText: 'own-origin-project' }).waitFor({ state: 'attached' });
    expect(p.problems).toEqual([]);
    await p.page.close();
  });

  it('also as http://localhost:PORT', async () => {
    const p = await browser.open(`http://localhost:${m.port}/`);
    expect(p.problems).toEqual([]);
    await p.page.close();
  });
});
