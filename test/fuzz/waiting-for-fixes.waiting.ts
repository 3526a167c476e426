/**
 * Bugs the fuzzers found whose fixes others are making now (issue 9 and beyond):
 * each a plain test with its minimal counterexample, written for the behaviour
 * the fix must give. They fail on main today, so they are kept out of `vitest
 * run` (this file's name does not end in .test.ts) and run with
 *
 *   npm run test:fuzz-waiting
 *
 * When a fix lands: run this file, move each test that now passes into
 * regressions.test.ts, and delete the matching entry in known-open.ts (the
 * fuzzers then fail on any recurrence). Each test names the fix it waits for.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { ClareError, ERROR_CATALOG, isErrorCode } from '../../src/core/errors.js';
import { parseSessionListing } from '../../src/core/fleet/rclaude.js';
import { formatHlc } from '../../src/core/hlc.js';
import { newMachineId, uuidv7, type MachineId } from '../../src/core/ids.js';
import { ingest } from '../../src/core/store.js';
import { connectRawPeer, makeCtx, MemoryNetwork, waitFor } from '../helpers/replication-harness.js';
import { FUZZ_TOKEN, startFuzzDaemon, type FuzzDaemon } from './fuzz-daemon.js';
import { deepArrayText } from './hostile.js';
import { thrownCoded } from './invariants.js';

let fd: FuzzDaemon;

beforeAll(async () => {
  fd = await startFuzzDaemon();
}, 60_000);

afterAll(async () => {
  await fd?.stop();
});

interface Answer { status: number; body: any; wrote: boolean }

/** One request through inject; `wrote` says whether the store changed. */
async function send(method: string, url: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const before = fd.version();
  const r = await fd.app.inject({
    method: method as 'GET', url,
    headers: { ...fd.auth, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
    ...(opts.body === undefined ? {} : { payload: opts.body }),
  });
  let body: unknown = null;
  try {
    body = JSON.parse(r.body);
  } catch {
    body = r.body;
  }
  return { status: r.statusCode, body, wrote: fd.version() !== before };
}

/** The answer is a coded error with the catalog's status for its code. */
function expectCoded(a: Answer, code?: string): void {
  expect(a.body?.error?.code, JSON.stringify(a.body)).toBeTypeOf('string');
  expect(isErrorCode(a.body.error.code)).toBe(true);
  expect(a.status).toBe(ERROR_CATALOG[a.body.error.code as keyof typeof ERROR_CATALOG].status);
  if (code !== undefined) expect(a.body.error.code).toBe(code);
  expect(a.wrote).toBe(false);
}

/** An event from a peer, as the HTTP sync route takes it. */
function remoteEvent(origin: MachineId, ms: number, counter: number, type: string, payload: Record<string, unknown>, id: string = uuidv7(ms)): Record<string, unknown> {
  return { id, hlc: formatHlc({ ms, counter, machine: origin }), origin, type, v: 1, payload };
}

/** Opens a WebSocket to the fuzz daemon; resolves with the upgrade's HTTP status (101 when it opened). */
async function upgrade(path: string, headers: Record<string, string>): Promise<number> {
  const ws = new WebSocket(`ws://127.0.0.1:${fd.port}${path}`, { headers, perMessageDeflate: false });
  ws.on('error', () => undefined);
  const status = await new Promise<number>((resolve) => {
    ws.once('open', () => resolve(101));
    ws.once('unexpected-response', (_q, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
  });
  ws.terminate();
  return status;
}


describe('waits for doors: Origin and Host (issue 9 "Browsers")', () => {
  it('a write with a foreign Origin is refused 403 and writes nothing', async () => {
    expectCoded(await send('POST', '/api/v1/projects', { body: '{"name":"from-a-web-page"}', headers: { origin: 'http://evil.example' } }), 'CLARE_FORBIDDEN');
  });

  it('a foreign Host (DNS rebinding) is refused 403', async () => {
    expectCoded(await send('GET', '/api/v1/groups', { headers: { host: 'evil.example' } }), 'CLARE_FORBIDDEN');
  });

  it('the sync and live sockets refuse a foreign Origin at the upgrade', async () => {
    expect(await upgrade('/api/v1/sync/ws', { authorization: `Bearer ${FUZZ_TOKEN}`, origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade('/api/v1/live', { origin: 'http://evil.example' })).toBe(403);
  });
});

describe('waits for doors: access from the routed path, mesh changes need the token (issue 9)', () => {
  it('GET /api/v1/%73ync/ws without the token does not upgrade', async () => {
    expect(await upgrade('/api/v1/%73ync/ws', {})).toBe(401);
  });

  it('POST /api/v1/peers from loopback without the token is refused and the peer list is unchanged', async () => {
    const a = await send('POST', '/api/v1/peers', { body: '{"url":"http://127.0.0.1:1"}', headers: { authorization: '' } });
    expect([401, 403]).toContain(a.status);
    const peers = await send('GET', '/api/v1/peers');
    expect(peers.body).toEqual([]);
  });
});

describe('waits for doors (src/server/app.ts): every refusal in the catalog shape', () => {
  it('a malformed percent-encoding in the path (/api/v1/tasks/%ZZ) answers a coded error, not fastify\'s FST_ERR_BAD_URL body', async () => {
    expectCoded(await send('GET', '/api/v1/tasks/%ZZ'));
  });

  it('a path parameter over fastify\'s 100 characters (ids may be 200) answers a coded error, not 414 FST_ERR_MAX_PARAM_LENGTH', async () => {
    expectCoded(await send('GET', `/api/v1/groups/${'a'.repeat(101)}`));
  });

  it('a plain GET of a WebSocket route answers a coded error, not an empty 404', async () => {
    expectCoded(await send('GET', '/api/v1/sync/ws'));
    expectCoded(await send('GET', '/api/v1/live'));
  });

  it('a body nested past 64 is refused with CLARE_TOO_DEEP on any route', async () => {
    expectCoded(await send('POST', '/api/v1/tasks', { body: deepArrayText(65) }), 'CLARE_TOO_DEEP');
  });
});

describe('waits for doors: control characters in text typed into sessions or terminals (issue 9)', () => {
  it.each([
    ['POST', '/api/v1/projects', '{"name":"oa\\u0000bps"}'],
    ['POST', '/api/v1/projects', '{"name":"ok","path":"/srv/\\u001b]0;pwned\\u0007"}'],
    ['POST', '/api/v1/broadcast', '{"group":"all","message":"hi\\u001b"}'],
    ['POST', '/api/v1/updates', '{"text":"a\\u0007b"}'],
  ])('%s %s %s is refused with CLARE_VALIDATION and writes nothing', async (method, url, body) => {
    await send('POST', '/api/v1/groups', { body: '{"name":"all","members":["desk:*"]}' });
    expectCoded(await send(method, url, { body }), 'CLARE_VALIDATION');
  });

  it('a task title with an escape sequence is refused', async () => {
    await send('POST', '/api/v1/projects', { body: '{"name":"ctl"}' });
    expectCoded(await send('POST', '/api/v1/tasks', { body: '{"project":"ctl","title":"x\\u001b[2Jy"}' }), 'CLARE_VALIDATION');
  });

  it('a peer\'s project.created with a control character in its name is refused as a bad event', async () => {
    const o = newMachineId();
    const e = remoteEvent(o, Date.now() - 1000, 0, 'project.created', { project_id: uuidv7(), name: '\u0007x', path: null, description: '', weight: 1 });
    expectCoded(await send('POST', '/api/v1/sync/events', { body: JSON.stringify({ events: [e] }) }), 'CLARE_BAD_EVENT');
  });

  it('an rclaude listing whose cwd carries a terminal escape is refused', () => {
    const text = 'host\tsession\tcwd\tstate\tlast_activity\ndesk\tapi\t\u001b]0;pwned\u0007\tidle\t2025-01-01T00:00:00Z\n';
    expect(thrownCoded(() => parseSessionListing(text, 'desk')).code).toBe('CLARE_RCLAUDE_OUTPUT');
  });
});

describe('waits for sync: identity conflicts, per-origin order, payload nesting (issue 9)', () => {
  it('a held event id with other content is refused with CLARE_IDENTITY_CONFLICT, nothing written', async () => {
    const o = newMachineId();
    const ms = Date.now() - 5000;
    const first = remoteEvent(o, ms, 0, 'group.created', { group: 'ident-a' });
    expect((await send('POST', '/api/v1/sync/events', { body: JSON.stringify({ events: [first] }) })).status).toBe(200);
    const other = remoteEvent(o, ms, 1, 'group.created', { group: 'ident-b' }, first['id'] as string);
    expectCoded(await send('POST', '/api/v1/sync/events', { body: JSON.stringify({ events: [other] }) }), 'CLARE_IDENTITY_CONFLICT');
  });

  it('a held HLC under another id is refused with CLARE_IDENTITY_CONFLICT (it was acknowledged as known and dropped)', async () => {
    const o = newMachineId();
    const ms = Date.now() - 5000;
    const first = remoteEvent(o, ms, 0, 'group.created', { group: 'ident-c' });
    expect((await send('POST', '/api/v1/sync/events', { body: JSON.stringify({ events: [first] }) })).status).toBe(200);
    const twin = remoteEvent(o, ms, 0, 'group.created', { group: 'ident-d' });
    expectCoded(await send('POST', '/api/v1/sync/events', { body: JSON.stringify({ events: [twin] }) }), 'CLARE_IDENTITY_CONFLICT');
  });

  it('an event below its origin\'s watermark that the store lacks is refused over HTTP, as on the socket', async () => {
    const o = newMachineId();
    const ms = Date.now() - 5000;
    expect((await send('POST', '/api/v1/sync/events', { body: JSON.stringify({ events: [remoteEvent(o, ms, 5, 'group.created', { group: 'order-a' })] }) })).status).toBe(200);
    const a = await send('POST', '/api/v1/sync/events', { body: JSON.stringify({ events: [remoteEvent(o, ms, 1, 'group.created', { group: 'order-b' })] }) });
    expect(a.status).toBeGreaterThanOrEqual(400);
    expectCoded(a);
  });

  it('an unknown-type payload nested 65 deep is refused with CLARE_TOO_DEEP (it was stored, and relayed to every peer)', async () => {
    const e = remoteEvent(newMachineId(), Date.now() - 1000, 0, 'zz.future', { x: JSON.parse(deepArrayText(64)) as unknown });
    expectCoded(await send('POST', '/api/v1/sync/events', { body: JSON.stringify({ events: [e] }) }), 'CLARE_TOO_DEEP');
  });

  it('a payload nested 4109 deep answers 400 CLARE_TOO_DEEP, not 500', async () => {
    const o = newMachineId();
    const body = `{"events":[{"id":"${uuidv7()}","hlc":"${formatHlc({ ms: Date.now() - 1000, counter: 0, machine: o })}","origin":"${o}","type":"zz.future","v":1,"payload":{"x":${deepArrayText(4109)}}}]}`;
    expectCoded(await send('POST', '/api/v1/sync/events', { body }), 'CLARE_TOO_DEEP');
  });
});

describe('waits for sync (src/core/events/envelope.ts or the frame decoder): prototype keys in payloads', () => {
  it('a payload with a "__proto__" key is refused, or stored with that key — never stored without it', () => {
    const ctx = makeCtx();
    const o = newMachineId();
    const ms = Date.now() - 1000;
    // As a sync frame arrives: JSON.parse makes "__proto__" an own key.
    const e = JSON.parse(`{"id":"${uuidv7(ms)}","hlc":"${formatHlc({ ms, counter: 0, machine: o })}","origin":"${o}","type":"zz.future","v":1,"payload":{"__proto__":{"x":1},"a":1}}`) as unknown;
    let refused = false;
    try {
      ingest(ctx.db, ctx.clock, [e]);
    } catch (err) {
      refused = err instanceof ClareError && err.code === 'CLARE_BAD_EVENT';
    }
    const stored = ctx.db.prepare('SELECT payload FROM events').pluck().get() as string | undefined;
    ctx.db.close();
    expect(refused || (stored !== undefined && stored.includes('"__proto__"'))).toBe(true);
  });
});

describe('waits for sync (src/replication/replication-service.ts): bounded peer records', () => {
  it('machines that said hello once and left do not each leave a peer record forever', async () => {
    const net = new MemoryNetwork();
    const b = net.add({ name: 'b' });
    await b.service.run();
    try {
      for (let i = 0; i < 200; i++) {
        const raw = connectRawPeer(b.service);
        raw.send(raw.hello());
        await raw.next('hello');
        raw.send({ type: 'error', code: 'CLARE_PEER', message: 'bye' });
        await raw.closed;
      }
      await waitFor(() => b.service.status().every((p) => !p.connected), 'all disconnected');
      expect(b.service.status().length).toBeLessThanOrEqual(64);
    } finally {
      await net.stopAll();
    }
  });
});

describe('waits for config (src/core/config.ts): issue 9 "Small ones"', () => {
  const head = `machine_id = "${'3f2504e0-4f89-41d3-9a0c-0305e82c3301'}"\n`;

  it('an unknown key is reported with its line', () => {
    expect(thrownCoded(() => parseConfig(`${head}name = "desk"\nbogus = 1\n`, '/c/clare.toml')).message).toMatch(/\/c\/clare\.toml:3\b/);
  });

  it('a token with spaces or non-Latin-1 characters is refused naming the rule', () => {
    for (const token of ['with spaces in the token', 'tökèn-non-latin-1-€€€€']) {
      const e = thrownCoded(() => parseConfig(`${head}[mesh]\ntoken = ${JSON.stringify(token)}\n`, '/c/clare.toml'));
      expect(e.code).toBe('CLARE_CONFIG');
      expect(e.message).toMatch(/token/);
    }
  });

  it('a 10,000-character unknown key gives a bounded error message', () => {
    expect(thrownCoded(() => parseConfig(`${head}${'k'.repeat(10_000)} = 1\n`, '/c/clare.toml')).message.length).toBeLessThan(2000);
  });
});
