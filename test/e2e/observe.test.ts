/**
 * Health and metrics on real daemons: /api/v1/health needs no token and says only
 * ok or degraded; /metrics is Prometheus text with the figures operators watch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, machinePool, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const TOKEN = 'observe-test-token-0123456789abcdef';
const pool = machinePool();
afterEach(() => pool.release());

/** The value of the first sample of `name` whose labels include every given pair. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = m[3] ?? '';
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) return Number(m[4]);
  }
  return null;
}

async function metrics(m: TestMachine): Promise<string> {
  const r = await fetch(`${m.url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text();
}

describe('health and metrics', () => {
  it('health answers without the token and reveals nothing but ok', async () => {
    const m = await pool.machine({ name: 'desk', token: TOKEN });
    await m.start();
    const r = await fetch(`${m.url}/api/v1/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
    // Everything else keeps its rules: the sync state needs the token even from loopback.
    expect((await fetch(`${m.url}/api/v1/sync/state`)).status).toBe(401);
  });

  it('health says degraded while rclaude listings fail, and metrics count the failures', async () => {
    const m = await pool.machine({ name: 'desk', env: { RCLAUDE_STANDIN_FAULT: 'fail', RCLAUDE_STANDIN_FAULT_VERBS: '_claude-projects' } });
    await m.start();
    await waitFor('health degraded', async () => ((await (await fetch(`${m.url}/api/v1/health`)).json()) as { status: string }).status === 'degraded');
    const text = await metrics(m);
    expect(sample(text, 'clare_rclaude_call_failures_total', { verb: '_claude-projects', reason: 'failed' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'clare_health_degraded')).toBe(1);
  });

  it('metrics: events per origin, writes, HTTP latency by route, rclaude calls, peers, sockets, event-loop delay', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const b = await pool.machine({ name: 'b', port: pb, token: TOKEN });
    const a = await pool.machine({ name: 'a', port: pa, token: TOKEN, peers: [`http://127.0.0.1:${pb}`] });
    await b.start();
    await a.start();
    for (let i = 0; i < 3; i++) expect((await a.api('POST', '/projects', { name: `p${i}` })).status).toBe(201);
    await waitFor('b to hold a\'s projects', async () => (await b.api<{ items: unknown[] }>('GET', '/projects')).body.items.length === 3);
    const aId = a.cliJson<{ machine: { id: string } }>(['status']).machine.id;

    const text = await waitFor('a to see b connected', async () => {
      const t = await metrics(a);
      return sample(t, 'clare_peer_connected', { peer: 'b' }) === 1 ? t : null;
    });
    expect(sample(text, 'clare_events_held', { origin: aId, name: 'a' })).toBeGreaterThanOrEqual(4); // machine.named + 3 projects
    expect(sample(text, 'clare_events_committed_total', { source: 'local' })).toBe(3);
    expect(sample(text, 'clare_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/projects', status: '2xx' })).toBe(3);
    expect(sample(text, 'clare_rclaude_call_duration_seconds_count', { verb: '_claude-projects' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'clare_peer_lag_they_lack_events', { peer: 'b' })).not.toBeNull();
    expect(sample(text, 'clare_peer_clock_offset_seconds', { peer: 'b' })).not.toBeNull();
    expect(sample(text, 'clare_nodejs_eventloop_lag_p99_seconds')).not.toBeNull();
    const onB = await metrics(b);
    expect(sample(onB, 'clare_websockets_open', { kind: 'sync' })).toBe(1);
    expect(sample(onB, 'clare_events_committed_total', { source: 'remote' })).toBeGreaterThanOrEqual(3);
  });
});
