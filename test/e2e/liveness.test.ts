// Liveness from links, with real daemons on loopback: a line a — b — c where a
// dials b and b dials c, `[mesh] silent_after_s = 2` on every machine. A quiet but
// linked host (b directly, c through b) stays reachable past the threshold; once c's
// daemon stops, a calls it "not heard from" after the threshold; the inbound side of
// a link shows when it came up. The same in GET /api/v1/status and the Fleet and
// Mesh views of a real Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusDoc } from '../../src/protocol/status.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { freePort, machinePool, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';
import { editConfig } from './fleet-helpers.js';

const SILENT_AFTER_S = 2;
const { machine, release } = machinePool();
let a: TestMachine;
let b: TestMachine;
let c: TestMachine;
let browser: TestBrowser;

const status = async (m: TestMachine): Promise<StatusDoc> => (await m.api<StatusDoc>('GET', '/status')).body;
const host = (s: StatusDoc, name: string): StatusDoc['hosts'][number] | undefined => s.hosts.find((h) => h.name === name);

beforeAll(async () => {
  const [pa, pb, pc] = await Promise.all([freePort(), freePort(), freePort()]);
  const url = (p: number): string => `http://127.0.0.1:${p}`;
  // c lists b too, and starts first: b's dial reaches c before c's own dial of b
  // succeeds, so c first knows b as an inbound-only peer, then folds that into b's URL.
  c = await machine({ name: 'lc', port: pc, peers: [url(pb)] });
  b = await machine({ name: 'lb', port: pb, peers: [url(pc)] });
  a = await machine({ name: 'la', port: pa, peers: [url(pb)] });
  for (const m of [a, b, c]) editConfig(m, '[mesh]\n', `[mesh]\nsilent_after_s = ${SILENT_AFTER_S}\n`);
  await c.start();
  await b.start();
  await a.start();
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await release();
});

describe('liveness from links', () => {
  it('keeps quiet linked hosts reachable past the threshold, shows since for inbound links, and turns a host whose links are down silent', async () => {
    // a knows c's machine (its events came through b) and reaches it through b.
    const linked = await waitFor('a to reach b directly and c through b', async () => {
      const s = await status(a);
      return host(s, 'lb')?.reach === 'direct' && host(s, 'lc')?.reach === 'relayed' ? s : null;
    }, 20_000);
    expect(linked.liveness.silent_after_s).toBe(SILENT_AFTER_S);

    // Quiet: nothing is written anywhere. Wait (on a condition, with a deadline) until
    // the newest events of b and c are older than the threshold: events alone would
    // now call them silent, the links keep them reachable.
    const quiet = await waitFor('the newest events of lb and lc to be older than the threshold', async () => {
      const s = await status(a);
      const old = (name: string): boolean => {
        const seen = host(s, name)?.last_seen ?? null;
        return seen !== null && Date.now() - Date.parse(seen) > (SILENT_AFTER_S + 1) * 1000;
      };
      return old('lb') && old('lc') ? s : null;
    }, 20_000, 250);
    for (const name of ['lb', 'lc']) {
      const h = host(quiet, name)!;
      expect(h.silent, `${name} is linked, not silent`).toBe(false);
      expect(h.last_heard !== null && Date.parse(h.last_heard) >= Date.parse(h.last_seen!)).toBe(true);
    }
    expect(host(quiet, 'lb')!.reach).toBe('direct');
    expect(host(quiet, 'lc')!.reach).toBe('relayed');
    const toB = quiet.peers.find((p) => p.name === 'lb')!;
    expect(toB.connected).toBe(true);
    expect(toB.links).toContain((await status(c)).machine.id);

    // b was dialed by a: its line for a is inbound, and says since when.
    const sb = await status(b);
    const fromA = sb.peers.find((p) => p.name === 'la')!;
    expect(fromA.direction).toBe('inbound');
    expect(fromA.url).toBeNull();
    expect(fromA.connected).toBe(true);
    expect(fromA.since).not.toBeNull();
    expect(fromA.last_heard).not.toBeNull();

    // c heard from b first on b's dial, then reached b's URL itself: one line, with since.
    const fromB = await waitFor('c to show one connected line for lb', async () => {
      const l = (await status(c)).peers.filter((x) => x.name === 'lb');
      return l.length === 1 && l[0]!.connected ? l[0] : null;
    });
    // Connected since its first link opened, whichever side dialed it (not since c's
    // failed dials of b before b was up).
    const opened = c.log().split('\n').filter((l) => l.includes('"sync peer connected"') && l.includes('"peer_name":"lb"'))
      .map((l) => Date.parse((JSON.parse(l) as { time: string }).time));
    expect(opened.length).toBeGreaterThan(0);
    expect(fromB.since, 'since of a link first accepted inbound').not.toBeNull();
    expect(Math.abs(Date.parse(fromB.since!) - Math.min(...opened))).toBeLessThan(50);

    // The dashboard of a shows the same: b linked, c linked via a peer, neither silent.
    const p = await browser.open(`${a.url}/#/fleet`);
    const card = (name: string): ReturnType<typeof p.page.locator> => p.page.locator('clare-host-card').filter({ has: p.page.locator('h3', { hasText: name }) });
    await card('lb').locator('[data-liveness="direct"]').waitFor();
    await card('lc').locator('[data-liveness="relayed"]').waitFor();
    expect(await p.page.locator('[data-liveness="silent"]').count()).toBe(0);
    await p.screenshot('liveness-fleet-linked');
    const pb = await browser.open(`${b.url}/#/mesh`);
    const inbound = pb.page.locator('clare-mesh-view tr', { hasText: '(dialled us)' });
    await expect.poll(async () => inbound.locator('td').nth(1).innerText(), { timeout: 10_000 }).toMatch(/since/);
    await pb.screenshot('liveness-mesh-inbound-since');

    // c goes away: b's link to it closes and b tells a; past the threshold, a calls c silent.
    await c.stop();
    const down = await waitFor('a to call lc not heard from', async () => {
      const s = await status(a);
      return host(s, 'lc')?.silent === true ? s : null;
    }, 20_000, 100);
    expect(host(down, 'lc')!.reach).toBeNull();
    expect(Date.now() - Date.parse(host(down, 'lc')!.last_heard!)).toBeGreaterThan(SILENT_AFTER_S * 1000);
    expect(host(down, 'lb')!.silent).toBe(false);
    await card('lc').locator('[data-liveness="silent"]').waitFor({ timeout: 10_000 });
    expect(await card('lb').locator('[data-liveness="silent"]').count()).toBe(0);
    await p.screenshot('liveness-fleet-silent');
    expect(p.problems).toEqual([]);
    expect(pb.problems).toEqual([]);
  }, 90_000);
});
