// The access guard on an app that never listens (inject): route access from route
// config, the token rules for each level, Host and Origin refusals, the bounded
// JSON body parser, and the OpenAPI document saying which routes need the token.
import { describe, expect, it } from 'vitest';
import { closeTestApp, testApp } from '../helpers/app.js';

const TOKEN = 'access-guard-token-0123456789';
const remote = { remoteAddress: '198.18.0.7' };
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('with a mesh token', () => {
  it('mesh routes need it even from this machine, and say so', async () => {
    const opened = await testApp({ token: TOKEN });
    const { app } = opened;
    try {
      for (const [method, url, payload] of [['GET', '/api/v1/peers'], ['POST', '/api/v1/peers', { url: 'http://198.18.0.9:9' }], ['DELETE', '/api/v1/peers?url=http://198.18.0.9:9'], ['GET', '/api/v1/sync/state']] as const) {
        const r = await app.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
        expect(r.statusCode, `${method} ${url}`).toBe(401);
        expect(r.headers['www-authenticate']).toBe('Bearer realm="clare"');
        expect(r.json().error.message).toContain('even from this machine');
        expect((await app.inject({ method, url, headers: bearer, ...(payload === undefined ? {} : { payload }) })).statusCode, `${method} ${url} with the token`).toBeLessThan(300);
      }
    } finally {
      await closeTestApp(opened);
    }
  });

  it('local routes: this machine without it, others with it; HEAD as GET', async () => {
    const opened = await testApp({ token: TOKEN });
    const { app } = opened;
    try {
      expect((await app.inject({ method: 'GET', url: '/api/v1/status' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/v1/status', ...remote })).statusCode).toBe(401);
      expect((await app.inject({ method: 'HEAD', url: '/api/v1/status', ...remote })).statusCode).toBe(401);
      expect((await app.inject({ method: 'HEAD', url: '/api/v1/peers' })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/api/v1/status', headers: bearer, ...remote })).statusCode).toBe(200);
      // ?token= only where the route takes it (the live socket); never on JSON routes.
      expect((await app.inject({ method: 'GET', url: `/api/v1/status?token=${TOKEN}`, ...remote })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/api/v1/nothing-here', ...remote })).statusCode).toBe(401);
    } finally {
      await closeTestApp(opened);
    }
  });
});

describe('without a mesh token', () => {
  it('other machines (and other users) are refused with 403: there is no token they could send', async () => {
    const opened = await testApp();
    const { app } = opened;
    try {
      const r = await app.inject({ method: 'GET', url: '/api/v1/tasks', ...remote });
      expect(r.statusCode).toBe(403);
      expect(r.json().error.code).toBe('CLARE_FORBIDDEN');
      expect(r.json().error.message).toContain('[mesh] token');
      expect((await app.inject({ method: 'GET', url: '/api/v1/tasks' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'POST', url: '/api/v1/peers', payload: { url: 'http://198.18.0.9:9' } })).statusCode).not.toBe(401);
    } finally {
      await closeTestApp(opened);
    }
  });
});

describe('Host and Origin', () => {
  it('refuses a foreign Host on every route and a foreign Origin on writes, before anything runs', async () => {
    const opened = await testApp();
    const { app, ctx } = opened;
    try {
      const before = ctx.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number };
      const evilHost = await app.inject({ method: 'GET', url: '/api/v1/status', headers: { host: 'evil.example:8765' } });
      expect(evilHost.statusCode).toBe(403);
      expect(evilHost.json().error.code).toBe('CLARE_FORBIDDEN');
      expect(evilHost.json().error.message).toContain('allowed_hosts');
      const write = await app.inject({ method: 'POST', url: '/api/v1/projects', headers: { origin: 'http://evil.example' }, payload: { name: 'x' } });
      expect(write.statusCode).toBe(403);
      expect(write.json().error.message).toContain('allowed_origins');
      // A read with a foreign Origin is served: the browser keeps the answer from the page (no CORS headers).
      const read = await app.inject({ method: 'GET', url: '/api/v1/projects', headers: { origin: 'http://evil.example' } });
      expect(read.statusCode).toBe(200);
      expect(read.headers['access-control-allow-origin']).toBeUndefined();
      const own = await app.inject({ method: 'POST', url: '/api/v1/projects', headers: { host: '127.0.0.1:8765', origin: 'http://127.0.0.1:8765' }, payload: { name: 'ours' } });
      expect(own.statusCode).toBe(201);
      const after = ctx.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number };
      expect(after.n).toBe(before.n + 1);
    } finally {
      await closeTestApp(opened);
    }
  });
});

describe('request bodies', () => {
  it('JSON nested 4,109 deep answers 400 CLARE_TOO_DEEP, not 500; 64 deep is parsed', async () => {
    const opened = await testApp();
    const { app } = opened;
    try {
      const deep = (n: number): string => `{"name":${'['.repeat(n)}${']'.repeat(n)}}`;
      for (const n of [64, 4_108, 4_109]) {
        const r = await app.inject({ method: 'POST', url: '/api/v1/projects', headers: { 'content-type': 'application/json' }, payload: deep(n) });
        expect(r.statusCode, `depth ${n + 1}`).toBe(400);
        expect(r.json().error.code).toBe('CLARE_TOO_DEEP');
      }
      const ok = await app.inject({ method: 'POST', url: '/api/v1/projects', headers: { 'content-type': 'application/json' }, payload: deep(63) });
      expect(ok.json().error.code).toBe('CLARE_VALIDATION'); // parsed, then refused by the schema
    } finally {
      await closeTestApp(opened);
    }
  });

  it('takes JSON only, and refuses __proto__ keys', async () => {
    const opened = await testApp();
    const { app } = opened;
    try {
      const text = await app.inject({ method: 'POST', url: '/api/v1/projects', headers: { 'content-type': 'text/plain' }, payload: '{"name":"x"}' });
      expect(text.statusCode).toBe(400);
      expect(text.json().error.code).toBe('CLARE_BAD_REQUEST');
      const proto = await app.inject({ method: 'POST', url: '/api/v1/projects', headers: { 'content-type': 'application/json' }, payload: '{"name":"x","__proto__":{"admin":true}}' });
      expect(proto.statusCode).toBe(400);
    } finally {
      await closeTestApp(opened);
    }
  });
});

describe('the OpenAPI document', () => {
  it('says which routes need the token', async () => {
    const opened = await testApp();
    const { app } = opened;
    try {
      const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
      expect(doc.paths['/api/v1/peers'].post['x-clare-access']).toBe('mesh');
      expect(doc.paths['/api/v1/peers'].post.security).toEqual([{ meshToken: [] }]);
      expect(doc.paths['/api/v1/tasks'].get['x-clare-access']).toBe('local');
      expect(doc.paths['/api/v1/sync/state'].get['x-clare-access']).toBe('mesh');
    } finally {
      await closeTestApp(opened);
    }
  });
});
