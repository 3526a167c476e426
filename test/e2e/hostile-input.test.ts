/**
 * Hostile bodies at the HTTP door of a real daemon: JSON nested thousands deep gets a
 * coded 400 (never a 500) on every route that takes a body, and text that would be
 * typed into sessions or terminals refuses NUL and other control characters with a
 * coded 422 — a NUL in a title, a broadcast or a spawn's cwd used to be accepted (or
 * answer 502) and then fail on every delivery. Nothing is written either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machinePool, type TestMachine } from '../helpers/daemon.js';
import { rawRequest } from '../helpers/raw-http.js';
import { eventCount } from './fleet-helpers.js';

const TOKEN = 'hostile-input-token-0123456789ab';
const { machine, release } = machinePool();
let m: TestMachine;

beforeAll(async () => {
  m = await machine({ name: 'desk', token: TOKEN });
  await m.start();
});
afterAll(release);

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

async function post(path: string, body: string): Promise<{ status: number; code: string | undefined }> {
  const r = await fetch(`${m.url}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
  const text = await r.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: r.status, code };
}

describe('JSON nested past 64 levels', () => {
  it('answers 400 CLARE_TOO_DEEP on every route that takes a body, and writes nothing', async () => {
    const before = await eventCount(m);
    const routes = ['/projects', '/tasks', '/groups', '/broadcast', '/updates', '/assignments', '/peers', '/sync/events', '/sync/run', '/sessions'];
    const got: string[] = [];
    for (const path of routes) {
      for (const depth of [65, 4_108, 4_109, 100_000]) {
        const events = `{"events":[{"id":"x","payload":{"deep":${nested(depth)}}}]}`;
        for (const body of [nested(depth), `{"name":${nested(depth)}}`, events]) {
          const r = await post(path, body);
          if (r.status !== 400 || r.code !== 'CLARE_TOO_DEEP') got.push(`${path} depth ${depth} ${body.slice(0, 12)}… → ${r.status} ${r.code ?? ''}`);
        }
      }
    }
    expect(got).toEqual([]);
    expect(await eventCount(m)).toBe(before);
  });

  it('takes nesting up to the limit (the parser is not simply refusing arrays)', async () => {
    const r = await post('/sync/events', `{"events":[],"x":${nested(62)}}`);
    expect(r.code).not.toBe('CLARE_TOO_DEEP');
  });

  it('answers a coded 400 for JSON that is not JSON', async () => {
    expect(await post('/tasks', '{"title":')).toEqual({ status: 400, code: 'CLARE_BAD_REQUEST' });
    const raw = await rawRequest('127.0.0.1', m.port, { method: 'POST', target: '/api/v1/tasks', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: '' });
    expect(raw.status).toBe(400);
  });
});

describe('control characters in text that is typed into sessions or terminals', () => {
  let project = '';
  beforeAll(async () => {
    project = (await m.api<{ id: string }>('POST', '/projects', { name: 'api' })).body.id;
    await m.api('POST', '/groups', { name: 'all', members: ['*:*'] });
  });

  const cases: [string, string, (bad: string) => unknown][] = [
    ['task title', '/tasks', (bad) => ({ project: '', title: `fix ${bad} it` })],
    ['task description', '/tasks', (bad) => ({ project: '', title: 'ok', description: `line one\n${bad}` })],
    ['broadcast text', '/broadcast', (bad) => ({ group: 'all', message: `stop ${bad} now` })],
    ['update note', '/updates', (bad) => ({ text: `done ${bad} now` })],
    ['project name', '/projects', (bad) => ({ name: `p${bad}q` })],
    ['project path', '/projects', (bad) => ({ name: 'pathy', path: `/srv/a${bad}b` })],
    ['spawn cwd', '/sessions', (bad) => ({ host: 'desk', session: 'new-1', cwd: `/tmp/a${bad}b` })],
  ];

  it('refuses NUL, ESC, CR, DEL and C1 controls with a coded 422, and writes nothing', async () => {
    const before = await eventCount(m);
    const got: string[] = [];
    for (const [what, path, body] of cases) {
      for (const bad of ['\u0000', '\u001b[31m', '\r', '\u007f', '\u009b2J', '\u0007']) {
        const b = body(bad) as Record<string, unknown>;
        if (b['project'] === '') b['project'] = project;
        const r = await m.api<{ error?: { code: string; message: string } }>('POST', path, b);
        if (r.status !== 422 || r.body.error?.code !== 'CLARE_VALIDATION' || !/control character/.test(r.body.error.message)) {
          got.push(`${what} with ${JSON.stringify(bad)} → ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
        }
      }
    }
    expect(got).toEqual([]);
    expect(await eventCount(m)).toBe(before);
  });

  it('keeps newline and tab where text may have them', async () => {
    const r = await m.api<{ description: string }>('POST', '/tasks', { project, title: 'a\ttitle', description: 'one\n\ttwo' });
    expect(r.status).toBe(201);
    expect(r.body.description).toBe('one\n\ttwo');
  });
});
