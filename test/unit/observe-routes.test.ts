import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initialConfigText, parseConfig } from '../../src/core/config.js';
import { openDb } from '../../src/core/db.js';
import { newMachineId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/log.js';
import { openContext } from '../../src/core/setup.js';
import { buildApp } from '../../src/server/app.js';
import type { DaemonPorts } from '../../src/server/daemon.js';
import { RECOVERY_KEY } from '../../src/core/backup.js';
import { observePart } from '../../src/server/observe-part.js';
import { PeerRegistry } from '../../src/server/peer-registry.js';
import type { PeerStatus } from '../../src/protocol/status.js';

const TOKEN = 'observe-unit-token-0123456789abcdef';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const peer = (over: Partial<PeerStatus>): PeerStatus => ({
  url: 'http://198.18.0.2:8765', machine_id: null, name: 'b', connected: true, since: null, faulty: false, last_error: null,
  events_sent: 0, events_received: 0, duplicates_received: 0, lag: { they_lack: 0, we_lack: 0 }, divergence: null, clock_offset_ms: 3, protocol: 1, direction: 'outbound', last_heard: null, links: [], ...over,
});

async function app(ports: DaemonPorts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'clare-observe-'));
  const file = join(dir, 'clare.toml');
  const text = initialConfigText(newMachineId(), 'desk').replace(/^# token = .*$/m, `token = "${TOKEN}"`);
  writeFileSync(file, text);
  const config = parseConfig(text, file);
  const ctx = openContext(openDb(':memory:'), config, silentLogger);
  const peers = new PeerRegistry(file, config.peers);
  const part = await observePart({ ctx, config, log: silentLogger, peers, rclaude: { path: '/bin/false', version: 'test', timeoutMs: 1000 }, version: 'test', startedAt: new Date() });
  const a = buildApp({
    ctx, config, log: silentLogger, version: 'test', startedAt: new Date(), peers,
    extraRoutes: part.routes ?? [],
    onResponse: (req, reply) => part.onResponse?.(req, reply),
    registerExtra: async (s) => { await part.register?.(s, ports); },
  });
  await a.ready();
  await part.service?.run();
  cleanups.push(async () => {
    await part.service?.stop();
    await a.close();
    ctx.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app: a, ctx };
}

const FROM_MESH = { remoteAddress: '198.18.0.5' };

describe('health and metrics routes', () => {
  it('health is public from another machine; metrics needs the token there', async () => {
    const { app: a } = await app();
    const h = await a.inject({ method: 'GET', url: '/api/v1/health', ...FROM_MESH });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toEqual({ status: 'ok' });
    expect((await a.inject({ method: 'GET', url: '/metrics', ...FROM_MESH })).statusCode).toBe(401);
    expect((await a.inject({ method: 'GET', url: '/metrics', ...FROM_MESH, headers: { authorization: 'Bearer wrong-token-wrong-token-wrong' } })).statusCode).toBe(401);
    const m = await a.inject({ method: 'GET', url: '/metrics', ...FROM_MESH, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(m.statusCode).toBe(200);
    expect(m.body).toContain('# TYPE clare_events_held gauge');
    // From this machine, as every route.
    expect((await a.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });

  it('health is degraded by a faulty peer, a failing rclaude listing or a pending recovery, and says nothing more', async () => {
    const ok = await app({ replication: { status: () => [peer({})], reloadPeers: () => undefined, recoveryStatus: () => null } });
    expect((await ok.app.inject({ method: 'GET', url: '/api/v1/health' })).json()).toEqual({ status: 'ok' });

    const faulty = await app({ replication: { status: () => [peer({ faulty: true })], reloadPeers: () => undefined, recoveryStatus: () => null } });
    expect((await faulty.app.inject({ method: 'GET', url: '/api/v1/health' })).json()).toEqual({ status: 'degraded' });

    const at = new Date().toISOString();
    const fleet = await app({
      fleet: {
        pull: () => Promise.reject(new Error('unused')), capture: () => Promise.reject(new Error('unused')),
        status: () => ({ last_pull: { host: 'desk', at: '2020-01-01T00:00:00.000Z', sessions: 1, appeared: 0, changed: 0, gone: 0 }, last_error: { code: 'CLARE_RCLAUDE_FAILED', message: 'x', at }, rclaude_version: '1' }),
      },
    });
    expect((await fleet.app.inject({ method: 'GET', url: '/api/v1/health' })).json()).toEqual({ status: 'degraded' });

    const rec = await app();
    rec.ctx.db.prepare('INSERT INTO local_meta (key, value) VALUES (?, ?)').run(RECOVERY_KEY, 'pending');
    expect((await rec.app.inject({ method: 'GET', url: '/api/v1/health' })).json()).toEqual({ status: 'degraded' });
  });

  it('counts HTTP latency by route pattern, not by URL, and 404s as unmatched', async () => {
    const { app: a } = await app();
    await a.inject({ method: 'GET', url: '/api/v1/tasks/nope-1' });
    await a.inject({ method: 'GET', url: '/api/v1/tasks/nope-2' });
    await a.inject({ method: 'GET', url: '/no/such/thing' });
    const text = (await a.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/clare_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/tasks\/:id",status="4xx"\} 2/);
    expect(text).toMatch(/clare_http_request_duration_seconds_count\{method="GET",route="unmatched",status="4xx"\} 1/);
    expect(text).not.toContain('nope-1');
  });
});
