/**
 * Fuzzing every API route: body, path params, query and headers.
 *
 * Routes come from the daemon's own /api/v1/openapi.json, so a new route is fuzzed
 * without editing this file. Each case picks a route (or an undeclared method, or
 * a path no route has) and sends, through `app.inject()` on a real daemon: valid
 * values, almost-valid ones shaped by the route's schema, or plain hostile ones;
 * with or without the mesh token, from loopback or not, now and then with a
 * foreign Origin or Host or an encoded path.
 *
 * Invariants per case: no 5xx (rclaude's injected spawn failure and a host no link reaches aside), every
 * refusal coded with the catalog's status, a refusal or a read writes nothing,
 * a sync route (or any route from another machine) never answers without the
 * token, and whatever is accepted a fresh peer accepts too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/core/hlc.js';
import { jsonTextDepth, MAX_JSON_DEPTH } from '../../src/core/json-bounds.js';
import { newMachineId, uuidv7 } from '../../src/core/ids.js';
import { doorTimeout, fuzzDoor, warmUp } from './budget.js';
import { FUZZ_HOST, FUZZ_TOKEN, type FuzzDaemon } from './fuzz-daemon.js';
import { useFuzzedStore } from './fuzzed-store.js';
import { hostileStringArb, hostileValueArb, pctEncode, Raw, wireText, withOddCharArb, type Wire } from './hostile.js';
import { brief, checkErrorBody } from './invariants.js';
import { violation } from './known-open.js';
import { shapedArb, type JsonSchema, type Pools } from './schema-arb.js';

const DOOR = 'api-routes';

interface RouteModel {
  readonly method: string;
  /** OpenAPI path, `{name}` for params. */
  readonly template: string;
  readonly params: readonly string[];
  readonly query: readonly { readonly name: string; readonly required: boolean; readonly schema: JsonSchema }[];
  readonly body: JsonSchema | null;
  /** Needs the mesh token even from loopback (access `mesh`). */
  readonly sync: boolean;
  /** Never needs the token (access `public`: health). */
  readonly public: boolean;
}

interface OpenApiDoc {
  paths: Record<string, Record<string, {
    parameters?: { name: string; in: string; required: boolean; schema: JsonSchema }[];
    requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
    'x-clare-access': 'public' | 'local' | 'mesh';
  }>>;
}

/** Every operation of the document. */
function routesOf(doc: OpenApiDoc): RouteModel[] {
  const out: RouteModel[] = [];
  for (const [template, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = op.parameters ?? [];
      out.push({
        method: method.toUpperCase(),
        template,
        params: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, required: p.required, schema: p.schema })),
        body: op.requestBody?.content['application/json'].schema ?? null,
        sync: op['x-clare-access'] === 'mesh',
        public: op['x-clare-access'] === 'public',
      });
    }
  }
  return out;
}

/** Whether the URL's percent-encoding decodes (fastify refuses it before routing otherwise). */
function validUrl(url: string): boolean {
  try {
    decodeURIComponent(url);
    return true;
  } catch {
    return false;
  }
}

/** One request to send, and what the oracle needs to know about it. */
interface Case {
  readonly route: RouteModel | null;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload: string | Buffer | undefined;
  readonly remoteAddress: string;
  readonly tokenOk: boolean;
  readonly foreignOrigin: boolean;
  readonly foreignHost: boolean;
  readonly pathVariant: string;
}

let fd: FuzzDaemon;
let routes: RouteModel[];
let pools: Pools;
/** Answers per route and status (printed in survey mode: shows which code paths the run reached). */
const histogram = new Map<string, number>();

async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, extra: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const r = await fd.app.inject({ method, url, headers: { ...fd.auth, ...extra }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: r.body === '' ? null : JSON.parse(r.body) };
}

/** A small store to aim at: projects, tasks, a group, a known session of another host, an update. */
async function seed(): Promise<Pools> {
  const alpha = (await call('POST', '/api/v1/projects', { name: 'alpha', path: '/srv/alpha' })).body;
  const beta = (await call('POST', '/api/v1/projects', { name: 'beta' })).body;
  const t1 = (await call('POST', '/api/v1/tasks', { project: 'alpha', title: 'first task' })).body;
  const t2 = (await call('POST', '/api/v1/tasks', { project: 'alpha', title: 'second task', depends_on: [t1.id] })).body;
  await call('POST', '/api/v1/groups', { name: 'all', members: ['desk:*', `${FUZZ_HOST}:*`] });
  // A session of another host, as replication would bring it, so assignments have a target.
  const origin = newMachineId();
  const ms = Date.now() - 5000;
  const seen = { id: uuidv7(ms), hlc: formatHlc({ ms, counter: 0, machine: origin }), origin, type: 'session.seen', v: 1,
    payload: { host: 'desk', session: 'api', cwd: '/srv/alpha', state: 'idle', last_activity: new Date(ms).toISOString() } };
  const s = await call('POST', '/api/v1/sync/events', { events: [seen] });
  expect(s.status).toBe(200);
  const a = (await call('POST', '/api/v1/assignments', { task: t1.id, session: 'desk:api' })).body;
  const u = (await call('POST', '/api/v1/updates', { text: 'hello', task: t1.id })).body;
  for (const x of [alpha, beta, t1, t2, a, u]) expect(x.id).toBeTypeOf('string');
  const ids = [alpha.id, beta.id, t1.id, t2.id, a.id, u.id] as string[];
  const shortIds = ids.map((i) => i.slice(-8));
  return {
    project: ['alpha', 'beta', alpha.id, shortIds[0]!],
    task: [t1.id, t2.id, 'first task', 'second task', shortIds[2]!],
    depends_on: [t1.id, t2.id, 'first task'],
    session: ['desk:api', `${FUZZ_HOST}:api`, 'desk:nope', 'desk'],
    group: ['all', 'ops'],
    name: ['all', 'alpha', 'new-group', 'ops'],
    id: [...ids, ...shortIds, 'alpha', 'first task', 'all'],
    host: [FUZZ_HOST, 'desk'],
    url: ['http://127.0.0.1:1', 'http://localhost:9', `http://127.0.0.1:${fd.port}`, 'http://[::1]:1', 'https://127.0.0.1:2/', 'http://127.0.0.1:1/x?y#z'],
    peer: ['http://127.0.0.1:1', 'nobody', FUZZ_HOST],
    message: ['stop and commit', 'hi'],
    text: ['a note'],
    title: ['first task'],
  };
}

const store = useFuzzedStore(DOOR, async (daemon) => {
  fd = daemon;
  const doc = JSON.parse((await fd.app.inject({ url: '/api/v1/openapi.json', headers: fd.auth })).body) as OpenApiDoc;
  routes = routesOf(doc);
  pools = await seed();
});

// ---------------------------------------------------------------- generators

const encodeParam = (v: string, raw: boolean): string => (raw ? v.replace(/[\s#?%\ud800-\udfff]/g, (c) => pctEncode(c)) : pctEncode(v));

function paramValueArb(name: string): fc.Arbitrary<string> {
  const known = pools[name] ?? pools['id'] ?? [];
  return fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 4 }, { arbitrary: hostileStringArb, weight: 3 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 1 });
}

function queryValueArb(name: string, schema: JsonSchema): fc.Arbitrary<string> {
  const valid: fc.Arbitrary<string>[] = [];
  if (schema.enum !== undefined) valid.push(fc.constantFrom(...schema.enum.map(String)));
  if (schema.type === 'integer' || schema.type === 'number') {
    valid.push(fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 100 }).map(String));
    valid.push(fc.constantFrom('-0', '1e3', '0x10', '1.5', ' 7 ', '', 'NaN', 'Infinity', '9007199254740993', String((schema.maximum ?? 0) + 1)));
  }
  const pool = pools[name];
  if (pool !== undefined) valid.push(fc.constantFrom(...pool));
  if (valid.length === 0) valid.push(fc.string({ maxLength: 10 }));
  return fc.oneof({ arbitrary: fc.oneof(...valid), weight: 3 }, { arbitrary: hostileStringArb, weight: 1 });
}

/** Query string: the route's parameters (some left out, some repeated) and now and then an unknown or prototype one. */
function queryArb(r: RouteModel | null): fc.Arbitrary<string> {
  const params = r?.query ?? [];
  const one = params.map((p) => fc.tuple(fc.constant(p.name), queryValueArb(p.name, p.schema), p.required ? fc.constant(1) : fc.constantFrom(0, 1, 1, 2)));
  const extra = fc.array(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'token', '%74oken', 'x', 'limit', 'since', 'after'), hostileStringArb), { maxLength: 2 });
  return fc.tuple(fc.tuple(...one), fc.oneof({ arbitrary: fc.constant([] as [string, string][]), weight: 4 }, extra)).map(([ps, ex]) => {
    const parts: string[] = [];
    for (const [name, value, times] of ps) for (let i = 0; i < times; i++) parts.push(`${pctEncode(name)}=${pctEncode(value)}`);
    for (const [name, value] of ex) parts.push(`${name}=${pctEncode(value)}`);
    return parts.length === 0 ? '' : `?${parts.join('&')}`;
  });
}

type BodyKind = 'valid' | 'almost' | 'odd-char' | 'hostile' | 'none' | 'broken-json' | 'text-plain' | 'bad-utf8';

function bodyArb(r: RouteModel | null): fc.Arbitrary<{ kind: BodyKind; text: string | Buffer | undefined; type: string | undefined }> {
  const schema = r?.body ?? null;
  const json = (kind: BodyKind) => (a: fc.Arbitrary<Wire>) => a.map((w) => ({ kind, text: wireText(w), type: 'application/json' }));
  const alts: fc.WeightedArbitrary<{ kind: BodyKind; text: string | Buffer | undefined; type: string | undefined }>[] = [
    { arbitrary: json('hostile')(hostileValueArb), weight: 2 },
    { arbitrary: fc.constant({ kind: 'none', text: undefined, type: undefined }), weight: 1 },
    { arbitrary: fc.constantFrom('{', '{"a":', '[1,]', '{"a":1}{', 'nul', '\u0000', '', ' ').map((t) => ({ kind: 'broken-json', text: t, type: 'application/json' })), weight: 1 },
    { arbitrary: fc.constant({ kind: 'text-plain', text: '{"name":"x"}', type: 'text/plain' }), weight: 1 },
    { arbitrary: fc.constant({ kind: 'bad-utf8', text: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x22, 0x7d]), type: 'application/json' }), weight: 1 },
  ];
  if (schema !== null) {
    alts.push({ arbitrary: json('valid')(shapedArb(schema, { pools, faultWeight: 0 })), weight: 4 });
    alts.push({ arbitrary: json('almost')(shapedArb(schema, { pools, faultWeight: 1 })), weight: 8 });
    alts.push({ arbitrary: json('odd-char')(withOddCharArb(shapedArb(schema, { pools, faultWeight: 0 }))), weight: 4 });
  }
  return fc.oneof(...alts);
}

const OWN_ORIGINS = (port: number) => [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
const FOREIGN_ORIGINS = (port: number) => ['http://evil.example', 'null', `http://127.0.0.1.evil.example:${port}`, `http://localhost:${port + 1}`, 'https://127.0.0.1'];
const FOREIGN_HOSTS = (port: number) => ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`];

/** Path variants that route to the same place, or should not route at all. */
function varyPath(path: string, variant: string, pick: number): string {
  switch (variant) {
    case 'percent': {
      // Percent-encode one letter of the fixed part of the path.
      const letters = [...path.matchAll(/[a-z]/g)].map((m) => m.index);
      const i = letters[pick % letters.length]!;
      return `${path.slice(0, i)}%${path.charCodeAt(i).toString(16)}${path.slice(i + 1)}`;
    }
    case 'double-percent': {
      const letters = [...path.matchAll(/[a-z]/g)].map((m) => m.index);
      const i = letters[pick % letters.length]!;
      return `${path.slice(0, i)}%25${path.charCodeAt(i).toString(16)}${path.slice(i + 1)}`;
    }
    case 'dot-segment':
      return path.replace('/api/v1/', '/api/v1/x/../');
    case 'double-slash':
      return path.replace('/api/v1/', '/api//v1/');
    case 'trailing-slash':
      return `${path}/`;
    case 'upper':
      return path.replace('/api/', '/API/');
    default:
      return path;
  }
}

function caseArb(): fc.Arbitrary<Case> {
  const port = fd.port;
  const routeChoice = fc.oneof(
    { arbitrary: fc.constantFrom(...routes).map((r) => ({ r, method: r.method })), weight: 20 },
    // A declared path with a method it does not have.
    { arbitrary: fc.tuple(fc.constantFrom(...routes), fc.constantFrom('PUT', 'PATCH', 'DELETE', 'POST', 'OPTIONS', 'TRACE')).filter(([r, m]) => !routes.some((x) => x.template === r.template && x.method === m)).map(([r, m]) => ({ r, method: m })), weight: 2 },
    // HEAD of a GET route (fastify answers it).
    { arbitrary: fc.constantFrom(...routes.filter((r) => r.method === 'GET')).map((r) => ({ r, method: 'HEAD' })), weight: 1 },
    // A path no route has.
    { arbitrary: fc.constantFrom<{ r: RouteModel | null; method: string }>({ r: null, method: 'GET' }, { r: null, method: 'POST' }), weight: 1 },
  );
  return routeChoice.chain(({ r, method }) => fc.record({
    params: fc.tuple(...(r?.params ?? []).map((p) => paramValueArb(p))),
    rawParams: fc.boolean(),
    query: queryArb(r),
    body: bodyArb(r),
    unknownPath: fc.constantFrom('/api/v1/nope', '/api/v2/projects', '/api/v1/sync', '/api/v1/sync/', '/api/v1/sync/ws', '/api/v1/live', '/api/v1/../etc/passwd', '/%2e%2e/', '/\u0000', '/api/v1/projects/%00', '/api/v1/tasks/%ZZ'),
    token: fc.oneof({ arbitrary: fc.constant('good'), weight: 8 }, fc.constantFrom('none', 'wrong', 'lower', 'spaces', 'query')),
    remote: fc.oneof({ arbitrary: fc.constant('127.0.0.1'), weight: 6 }, fc.constantFrom('::1', '198.18.0.7', '::ffff:127.0.0.1', '::ffff:198.18.0.7')),
    origin: fc.oneof({ arbitrary: fc.constant<string | null>(null), weight: 8 }, fc.constantFrom(...OWN_ORIGINS(port)), fc.constantFrom(...FOREIGN_ORIGINS(port))),
    host: fc.oneof({ arbitrary: fc.constant<string | null>(null), weight: 8 }, fc.constantFrom(`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `198.18.0.1:${port}`), fc.constantFrom(...FOREIGN_HOSTS(port))),
    pathVariant: fc.oneof({ arbitrary: fc.constant('plain'), weight: 12 }, fc.constantFrom('percent', 'double-percent', 'dot-segment', 'double-slash', 'trailing-slash', 'upper')),
    pick: fc.nat(),
  }).map((c): Case => {
    let path = r === null ? c.unknownPath : `/api/v1${r.template.replace(/^\/api\/v1/, '')}`;
    if (r !== null) {
      let i = 0;
      path = path.replace(/\{[A-Za-z_]+\}/g, () => encodeParam(c.params[i++] ?? '', c.rawParams));
      path = varyPath(path, c.pathVariant, c.pick);
    }
    let query = c.query;
    const headers: Record<string, string> = {};
    if (c.token === 'good') headers['authorization'] = `Bearer ${FUZZ_TOKEN}`;
    else if (c.token === 'wrong') headers['authorization'] = `Bearer ${FUZZ_TOKEN}x`;
    else if (c.token === 'lower') headers['authorization'] = `bearer ${FUZZ_TOKEN.toUpperCase()}`;
    else if (c.token === 'spaces') headers['authorization'] = `Bearer  ${FUZZ_TOKEN.slice(0, -1)} ${FUZZ_TOKEN.slice(-1)}`;
    else if (c.token === 'query') query = `${query === '' ? '?' : `${query}&`}token=${FUZZ_TOKEN}`;
    if (c.origin !== null) headers['origin'] = c.origin;
    if (c.host !== null) headers['host'] = c.host;
    if (c.body.type !== undefined) headers['content-type'] = c.body.type;
    const foreignOrigin = c.origin !== null && !OWN_ORIGINS(port).includes(c.origin);
    const foreignHost = c.host !== null && FOREIGN_HOSTS(port).includes(c.host);
    return {
      route: r, method, url: `${path}${query}`, headers, payload: method === 'GET' || method === 'HEAD' ? undefined : c.body.text,
      remoteAddress: c.remote, tokenOk: c.token === 'good', foreignOrigin, foreignHost, pathVariant: c.pathVariant,
    };
  }));
}

// ---------------------------------------------------------------- the oracle

const isLoopback = (a: string): boolean => a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');

/** rclaude failing on purpose (the stand-in refuses every spawn): a real 502, not a bug. */
const injectedRclaudeFailure = (status: number, text: string): boolean => status === 502 && /CLARE_RCLAUDE_FAILED/.test(text) && /injected failure/.test(text);
/** Peek or spawn for another host's session, with no peer link to it: the gateway answer (remote calls). */
const hostOutOfReach = (status: number, text: string): boolean => status === 503 && /CLARE_HOST_UNREACHABLE/.test(text);

async function runCase(c: Case): Promise<void> {
  const what = `${c.method} ${brief(c.url, 160)}${c.payload === undefined ? '' : ` body ${brief(c.payload.toString(), 160)}`} [token ${c.tokenOk ? 'ok' : 'bad'}, from ${c.remoteAddress}${c.headers['origin'] === undefined ? '' : `, Origin ${c.headers['origin']}`}${c.headers['host'] === undefined ? '' : `, Host ${c.headers['host']}`}]`;
  const before = fd.version();
  const res = await fd.app.inject({
    method: c.method as 'GET', url: c.url, headers: c.headers, remoteAddress: c.remoteAddress,
    ...(c.payload === undefined ? {} : { payload: c.payload }),
  });
  const status = res.statusCode;
  const text = res.body;
  const key = `${c.method} ${c.route?.template ?? '(none)'} ${status}`;
  histogram.set(key, (histogram.get(key) ?? 0) + 1);
  const wrote = fd.version() !== before;
  // A HEAD answer has no body to say why: the same URL asked with GET (reads only) says it.
  const why = status >= 500 && c.method === 'HEAD' ? (await fd.app.inject({ method: 'GET', url: c.url, headers: c.headers, remoteAddress: c.remoteAddress })).body : text;
  if (status >= 500 && !injectedRclaudeFailure(status, why) && !hostOutOfReach(status, why)) violation(DOOR, 'status-5xx', `${what} → ${status} ${brief(why)}`);
  const code = status >= 400 && c.method !== 'HEAD' ? checkErrorBody(DOOR, what, status, text) : null;
  // JSON nested past the bound is refused as such wherever a body is read (a route matched, the
  // token passed, the URL itself is valid: a path that is not UTF-8 is refused before any body is read).
  const depth = typeof c.payload === 'string' && c.headers['content-type'] === 'application/json' && validUrl(c.url) ? jsonTextDepth(c.payload, MAX_JSON_DEPTH + 1) : 0;
  if (depth > MAX_JSON_DEPTH) {
    if (status < 300) violation(DOOR, 'too-deep-accepted', `a body nested more than ${MAX_JSON_DEPTH} deep was accepted (${status}); input: ${what}`);
    else if (code !== null && c.route?.body != null && ![401, 403, 404].includes(status) && code !== 'CLARE_TOO_DEEP') {
      violation(DOOR, 'uncoded-error', `a body nested more than ${MAX_JSON_DEPTH} deep was refused with ${code}, not CLARE_TOO_DEEP; input: ${what}`);
    }
  }
  if (status >= 400 && wrote) violation(DOOR, 'rejected-wrote', `${what} → ${status}, yet the store changed: ${brief(text)}`);
  if ((c.method === 'GET' || c.method === 'HEAD') && wrote) violation(DOOR, 'rejected-wrote', `${what}: a read changed the store`);
  if (status < 300) {
    if (c.method !== 'HEAD' && c.route !== null) {
      try {
        JSON.parse(text);
      } catch {
        violation(DOOR, 'uncoded-error', `${what} → ${status} with a body that is not JSON: ${brief(text)}`);
      }
    }
    const r = c.route;
    const needsToken = r !== null && !r.public && (r.sync || !isLoopback(c.remoteAddress));
    if (needsToken && !c.tokenOk) violation(DOOR, 'accepted-invalid', `${what} → ${status} without the mesh token (${c.pathVariant} path)`);
    if (c.foreignHost) violation(DOOR, 'accepted-invalid', `${what} → ${status} for a foreign Host (DNS rebinding)`);
    if (c.foreignOrigin && c.method !== 'GET' && c.method !== 'HEAD') violation(DOOR, 'accepted-invalid', `${what} → ${status} for a foreign Origin`);
    if (r !== null && r.template === '/api/v1/peers' && c.method !== 'GET' && !c.tokenOk) violation(DOOR, 'accepted-invalid', `${what} → ${status}: the mesh changed without the token`);
  }
  if (wrote) store().flush(what);
}

describe('fuzz: every API route', () => {
  it('routes come from the app itself (openapi.json), sync and fleet routes included', () => {
    const ops = routes.map((r) => `${r.method} ${r.template}`);
    expect(ops).toEqual(expect.arrayContaining(['POST /api/v1/projects', 'PATCH /api/v1/tasks/{id}', 'POST /api/v1/sync/events', 'POST /api/v1/sessions', 'DELETE /api/v1/peers']));
    expect(routes.filter((r) => r.sync).length).toBeGreaterThanOrEqual(3);
  });

  it('no 5xx, coded refusals that write nothing, no token bypass, and what is accepted a peer accepts', async () => {
    const cases = caseArb();
    warmUp(cases);
    const report = await fuzzDoor(DOOR, { runs: 4000, ms: 35_000 }, fc.asyncProperty(cases, async (c) => {
      await runCase(c);
    }));
    expect(report.cases).toBeGreaterThan(0);
    if (process.env['CLARE_FUZZ_SURVEY'] === '1') console.log([...histogram].sort().map(([k, n]) => `  ${k}: ${n}`).join('\n'));
    // Everything accepted reached the mirror in order: same projections.
    store().checkConverged();
  }, doorTimeout(35_000));

  it('hostile bodies at the bounds: deep nesting, huge strings (named cases)', async () => {
    const cases: [string, string][] = [
      ['/api/v1/projects', `{"name":"deep","description":${new Raw('"x"').text},"weight":${'['.repeat(4109)}${']'.repeat(4109)}}`],
      ['/api/v1/projects', `{"name":${JSON.stringify('n'.repeat(1 << 20))}}`],
      ['/api/v1/sync/events', `{"events":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
    ];
    for (const [url, body] of cases) await runCase({ route: null, method: 'POST', url, headers: { ...fd.auth, 'content-type': 'application/json' }, payload: body, remoteAddress: '127.0.0.1', tokenOk: true, foreignOrigin: false, foreignHost: false, pathVariant: 'plain' });
  }, 60_000);
});
