import { describe, expect, it } from 'vitest';
import { createLogger, pinoOf, REDACTED, redactUrl } from '../../src/core/log.js';
import { ClareError } from '../../src/core/errors.js';
import { closeTestApp, testApp } from '../helpers/app.js';

const SECRET = 'mesh-secret-0123456789abcdef-XYZ';

function capture(opts: { pretty?: boolean; level?: 'debug' | 'info' } = {}): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const log = createLogger(opts.level ?? 'debug', { write: (l) => lines.push(...l.split('\n').filter((x) => x !== '')), ...(opts.pretty === undefined ? {} : { pretty: opts.pretty }) });
  return { lines, log };
}

describe('logger', () => {
  it('writes one JSON object per line with time, level label, message and fields', () => {
    const { lines, log } = capture({ pretty: false });
    log.child({ machine: 'desk' }).info('daemon listening', { url: 'http://127.0.0.1:8765' });
    log.debug('detail');
    expect(lines).toHaveLength(2);
    const o = JSON.parse(lines[0]!);
    expect(o).toMatchObject({ level: 'info', msg: 'daemon listening', machine: 'desk', url: 'http://127.0.0.1:8765' });
    expect(new Date(o.time).toISOString()).toBe(o.time);
    expect(JSON.parse(lines[1]!).level).toBe('debug');
  });

  it('honours the level', () => {
    const { lines, log } = capture({ pretty: false, level: 'info' });
    log.debug('hidden');
    log.warn('shown');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });

  it('serialises errors in any top-level field: coded ones without a stack, others with it', () => {
    const { lines, log } = capture({ pretty: false });
    log.error('failed', { err: new ClareError('CLARE_PEER', 'peer gone'), cause: new TypeError('boom') });
    const o = JSON.parse(lines[0]!);
    expect(o.err).toEqual({ name: 'ClareError', message: 'peer gone', code: 'CLARE_PEER' });
    expect(o.cause.message).toBe('boom');
    expect(o.cause.stack).toContain('TypeError: boom');
  });

  it('redacts the mesh token in headers, config and token fields', () => {
    const { lines, log } = capture({ pretty: false });
    log.info('dial', { headers: { authorization: `Bearer ${SECRET}`, accept: 'application/json' } });
    log.info('req', { req: { headers: { authorization: `Bearer ${SECRET}` } } });
    log.info('config', { config: { mesh: { token: SECRET, max_clock_skew_ms: 60000 } } });
    log.info('token', { token: SECRET });
    log.child({ peer: 'x' }).info('nested', { link: { token: SECRET } });
    for (const l of lines) expect(l).not.toContain(SECRET);
    expect(JSON.parse(lines[0]!).headers).toEqual({ authorization: REDACTED, accept: 'application/json' });
    expect(JSON.parse(lines[2]!).config.mesh).toEqual({ token: REDACTED, max_clock_skew_ms: 60000 });
  });

  it('redacts ?token= in logged URLs after percent-decoding the name, and keeps the rest', () => {
    expect(redactUrl(`/api/v1/live?token=${SECRET}&x=1`)).toBe(`/api/v1/live?token=${REDACTED}&x=1`);
    expect(redactUrl(`/api/v1/live?%74oken=${SECRET}`)).toBe(`/api/v1/live?%74oken=${REDACTED}`);
    expect(redactUrl(`/a?%2574oken=${SECRET}`)).toBe(`/a?%2574oken=${REDACTED}`);
    expect(redactUrl(`/a?TOKEN=${SECRET}#frag`)).toBe(`/a?TOKEN=${REDACTED}#frag`);
    expect(redactUrl(`/a?x=1;token=${SECRET}`)).toBe(`/a?x=1;token=${REDACTED}`);
    expect(redactUrl('/a?tokens=1&my_token=2')).toBe('/a?tokens=1&my_token=2');
    expect(redactUrl('/a?%E0%A4%A=1')).toBe('/a?%E0%A4%A=1');
    const { lines, log } = capture({ pretty: false });
    log.info('request', { url: `/api/v1/live?%74oken=${SECRET}` });
    log.warn('sync round failed', { peer: `http://198.18.0.2:8765/?token=${SECRET}` });
    for (const l of lines) expect(l).not.toContain(SECRET);
  });

  it('has a readable mode: one line per entry, level and message, no JSON, secrets still redacted', () => {
    const { lines, log } = capture({ pretty: true });
    log.info('daemon listening', { url: `http://127.0.0.1:8765/?token=${SECRET}`, token: SECRET });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/INFO.*daemon listening/);
    expect(lines[0]!.startsWith('{')).toBe(false);
    expect(lines[0]).not.toContain(SECRET);
  });

  it('is the logger fastify uses: request lines and errors come through it, redacted', async () => {
    const { lines, log } = capture({ pretty: false });
    expect(pinoOf(log)).not.toBeNull();
    const opened = await testApp({ log });
    const { app } = opened;
    try {
      const r = await app.inject({ method: 'GET', url: `/api/v1/status?%74oken=${SECRET}` });
      expect(r.statusCode).toBe(200);
      const req = lines.map((l) => JSON.parse(l)).find((o) => o.msg === 'request');
      expect(req).toMatchObject({ method: 'GET', status: 200, level: 'debug' });
      expect(req.url).toBe(`/api/v1/status?%74oken=${REDACTED}`);
      app.log.warn({ req: { url: `/x?token=${SECRET}`, headers: { authorization: `Bearer ${SECRET}` } } }, 'from fastify');
      const f = lines.map((l) => JSON.parse(l)).find((o) => o.msg === 'from fastify');
      expect(f.part).toBe('http');
      for (const l of lines) expect(l).not.toContain(SECRET);
    } finally {
      await closeTestApp(opened);
    }
  });
});
