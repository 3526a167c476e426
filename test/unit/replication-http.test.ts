// The HTTP fallback: the `since` and per-origin `after` forms of GET
// /api/v1/sync/events, idempotent POST, and `syncOnce` (pull then push) run
// against a peer whose routes are the same plain functions behind a fake fetch.
import { describe, expect, it } from 'vitest';
import type { StoreContext } from '../../src/core/context.js';
import { digest } from '../../src/core/digest.js';
import { ClareError } from '../../src/core/errors.js';
import { formatHlc } from '../../src/core/hlc.js';
import { eventCount, eventsAfter, originCounts, watermarks } from '../../src/core/store.js';
import { checkBearer, unauthorizedBody, UNAUTHORIZED_HEADERS } from '../../src/server/bearer-auth.js';
import { syncOnce, type FetchLike } from '../../src/replication/http-sync-client.js';
import { getEventsAfter, getEventsSince, getSyncEvents, getSyncState, postEvents } from '../../src/replication/http-sync-server.js';
import { formatAfter, MAX_PAGE_BYTES, parseAfter, SOURCE_HEADER, type EventsAfterPage } from '../../src/replication/http-sync-wire.js';
import { makeEvent, writeProjects } from '../helpers/replication-harness.js';
import { memoryContext } from '../helpers/memory-context.js';

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** A peer's sync routes, as the daemon wires them, behind a fetch function. */
function fakePeer(ctx: StoreContext, name: string, token?: string): FetchLike & { calls: string[] } {
  const calls: string[] = [];
  const f = (input: string, init?: RequestInit): Promise<Response> => {
    const u = new URL(input);
    const headers = new Headers(init?.headers);
    calls.push(`${init?.method ?? 'GET'} ${u.pathname}`);
    if (!checkBearer(headers.get('authorization') ?? undefined, token)) return Promise.resolve(json(401, unauthorizedBody(), { ...UNAUTHORIZED_HEADERS }));
    try {
      if (u.pathname === '/api/v1/sync/state') return Promise.resolve(json(200, getSyncState(ctx, ctx.clock.machine, name)));
      if (u.pathname === '/api/v1/sync/events' && (init?.method ?? 'GET') === 'GET') {
        return Promise.resolve(json(200, getSyncEvents(ctx, Object.fromEntries(u.searchParams))));
      }
      if (u.pathname === '/api/v1/sync/events') {
        return Promise.resolve(json(200, postEvents(ctx, JSON.parse(init?.body as string), headers.get(SOURCE_HEADER) ?? 'http')));
      }
      return Promise.resolve(json(404, { error: { code: 'CLARE_NOT_FOUND', message: 'no route' } }));
    } catch (e) {
      if (e instanceof ClareError) return Promise.resolve(json(e.status, e.toBody()));
      throw e;
    }
  };
  return Object.assign(f, { calls });
}

describe('GET /api/v1/sync/events, since form', () => {
  it('pages events with a greater HLC in HLC order; next is the last HLC while more follow', () => {
    const ctx = memoryContext();
    writeProjects(ctx, 2500, 'p', 250);
    const seen: string[] = [];
    let since: string | undefined;
    for (let pages = 0; ; pages++) {
      const page = getEventsSince(ctx, { ...(since === undefined ? {} : { since }), limit: '1000' });
      seen.push(...page.events.map((e) => e.hlc));
      if (page.next === null) {
        expect(pages).toBe(2);
        break;
      }
      expect(page.next).toBe(page.events[page.events.length - 1]!.hlc);
      since = page.next;
    }
    expect(seen).toHaveLength(2500);
    expect([...seen].sort()).toEqual(seen);
    expect(getEventsSince(ctx, {}).events).toHaveLength(1000);
  });

  it('refuses a bad query with CLARE_BAD_REQUEST', () => {
    const ctx = memoryContext();
    expect(() => getEventsSince(ctx, { since: 'yesterday' })).toThrow(expect.objectContaining({ code: 'CLARE_BAD_REQUEST' }) as Error);
    expect(() => getEventsSince(ctx, { limit: '0' })).toThrow(expect.objectContaining({ code: 'CLARE_BAD_REQUEST' }) as Error);
    expect(() => getEventsSince(ctx, { limit: ['1', '2'] })).toThrow(expect.objectContaining({ code: 'CLARE_BAD_REQUEST' }) as Error);
  });
});

describe('GET /api/v1/sync/events, per-origin after form', () => {
  it('answers per origin after the given HLCs, paged by next_watermarks', () => {
    const x = memoryContext();
    const y = memoryContext();
    writeProjects(x, 700, 'x', 100);
    writeProjects(y, 500, 'y', 100);
    const peer = memoryContext();
    postEvents(peer, { events: eventsAfter(x.db, {}, 10_000) }, 'x');
    postEvents(peer, { events: eventsAfter(y.db, {}, 10_000) }, 'y');
    // The caller holds x up to its 300th event and nothing of y.
    const held = eventsAfter(x.db, {}, 300).at(-1)!.hlc;
    let after = held as string;
    let got = 0;
    for (;;) {
      const page = getSyncEvents(peer, { after, limit: '250' }) as EventsAfterPage;
      got += page.events.length;
      for (const e of page.events) if (e.origin === x.clock.machine) expect(e.hlc > held).toBe(true);
      if (page.next_watermarks === null) break;
      after = formatAfter(page.next_watermarks);
    }
    expect(got).toBe(400 + 500);
    expect(getEventsAfter(peer, { after: '' }).events).toHaveLength(1000);
  });

  it('cuts a per-origin page by bytes too, keeping every origin a prefix', () => {
    // 100 events of an unknown type with 60 KB payloads: 6 MB, past the 4 MiB page.
    const o = memoryContext().clock.machine;
    const t0 = Date.now() - 10_000;
    const events = Array.from({ length: 100 }, (_, i) => ({ ...makeEvent(o, t0 + i), type: 'zz.future', payload: { blob: 'b'.repeat(60_000) } }));
    const peer = memoryContext();
    postEvents(peer, { events }, 'x');
    const page = getSyncEvents(peer, { after: '', limit: '1000' }) as EventsAfterPage;
    const bytes = page.events.reduce((n, e) => n + JSON.stringify(e.payload).length, 0);
    expect(page.events.length).toBeLessThan(100);
    expect(bytes).toBeLessThanOrEqual(MAX_PAGE_BYTES);
    expect(page.events.length).toBeGreaterThan(1);
    expect(page.next_watermarks).toEqual({ [o]: page.events.at(-1)!.hlc });
  });

  it('parses and refuses `after` lists', () => {
    const o = memoryContext().clock.machine;
    const h1 = formatHlc({ ms: 1, counter: 0, machine: o });
    const h2 = formatHlc({ ms: 2, counter: 0, machine: o });
    expect(parseAfter(`${h1}`)).toEqual({ [o]: h1 });
    expect(parseAfter('')).toEqual({});
    expect(() => parseAfter(`${h1},${h2}`)).toThrow(/appears twice/);
    expect(() => parseAfter('junk')).toThrow(expect.objectContaining({ code: 'CLARE_BAD_REQUEST' }) as Error);
  });
});

describe('POST /api/v1/sync/events', () => {
  it('ingests idempotently and says what was new, known and skipped', () => {
    const src = memoryContext();
    writeProjects(src, 10);
    const events = eventsAfter(src.db, {}, 100);
    const unknown = { ...makeEvent(src.clock.machine, Date.now() + 1000, 0), type: 'robot.arrived' };
    const dst = memoryContext();
    expect(postEvents(dst, { events: [...events, unknown] }, 'src')).toEqual({ accepted: 11, known: 0, skipped: 1 });
    expect(postEvents(dst, { events: [...events, unknown] }, 'src')).toEqual({ accepted: 0, known: 11, skipped: 0 });
    expect(eventCount(dst.db)).toBe(11);
  });

  it('writes nothing on a bad body, a bad event, or a base that would leave a gap', () => {
    const src = memoryContext();
    writeProjects(src, 5);
    const events = eventsAfter(src.db, {}, 100);
    const dst = memoryContext();
    expect(() => postEvents(dst, { evts: [] }, 's')).toThrow(expect.objectContaining({ code: 'CLARE_BAD_REQUEST', status: 400 }) as Error);
    const o = src.clock.machine;
    const bad = { ...makeEvent(o, Date.now() + 1000), payload: { project_id: 'nope' } };
    expect(() => postEvents(dst, { events: [...events, bad] }, 's')).toThrow(expect.objectContaining({ code: 'CLARE_BAD_EVENT', status: 422 }) as Error);
    expect(() => postEvents(dst, { events: events.slice(2), base: { [o]: events[1]!.hlc } }, 's')).toThrow(expect.objectContaining({ code: 'CLARE_PROTOCOL' }) as Error);
    expect(eventCount(dst.db)).toBe(0);
    expect(postEvents(dst, { events: events.slice(0, 2), base: { [o]: null } }, 's').accepted).toBe(2);
    expect(postEvents(dst, { events: events.slice(2), base: { [o]: events[1]!.hlc } }, 's').accepted).toBe(3);
  });
});

describe('syncOnce (clare sync over HTTP)', () => {
  it('pulls then pushes, per origin: the offline laptop\'s older events reach A through B', async () => {
    const a = memoryContext();
    const b = memoryContext();
    const c = memoryContext({ now: () => Date.now() - 30_000 });
    writeProjects(c, 120, 'laptop', 10);
    writeProjects(a, 50, 'a', 10);
    writeProjects(b, 60, 'b', 10);
    const toB = fakePeer(b, 'b', 'tok-0123456789abcdef');

    const r1 = await syncOnce(a, 'http://b.test:8765/', 'tok-0123456789abcdef', toB, { batchSize: 25 });
    expect(r1).toMatchObject({ peer: 'http://b.test:8765', machine_id: b.clock.machine, name: 'b', pulled: 60, pushed: 50, pulled_known: 0, pushed_known: 0 });
    const r2 = await syncOnce(c, 'http://b.test:8765', 'tok-0123456789abcdef', toB, { batchSize: 25 });
    expect(r2).toMatchObject({ pulled: 110, pushed: 120 });
    const r3 = await syncOnce(a, 'http://b.test:8765', 'tok-0123456789abcdef', toB, { batchSize: 25 });
    expect(r3).toMatchObject({ pulled: 120, pushed: 0 });
    expect(originCounts(a.db)[c.clock.machine]).toBe(120);
    expect(digest(a.db)).toBe(digest(b.db));
    expect(digest(c.db)).toBe(digest(b.db));
    const r4 = await syncOnce(a, 'http://b.test:8765', 'tok-0123456789abcdef', toB);
    expect(r4).toMatchObject({ pulled: 0, pushed: 0 });
    expect(watermarks(a.db)).toEqual(watermarks(b.db));
  });

  it('maps a refused token to CLARE_UNAUTHORIZED and an unreachable peer to CLARE_PEER', async () => {
    const a = memoryContext();
    const b = memoryContext();
    await expect(syncOnce(a, 'http://b.test:8765', 'wrong-token-xxxxxxxx', fakePeer(b, 'b', 'tok-0123456789abcdef'))).rejects.toMatchObject({ code: 'CLARE_UNAUTHORIZED' });
    await expect(syncOnce(a, 'http://b.test:8765', undefined, fakePeer(b, 'b', 'tok-0123456789abcdef'))).rejects.toMatchObject({ code: 'CLARE_UNAUTHORIZED' });
    const down: FetchLike = () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
    await expect(syncOnce(a, 'http://b.test:8765', undefined, down)).rejects.toMatchObject({ code: 'CLARE_PEER', message: expect.stringMatching(/ECONNREFUSED/) as string });
    await expect(syncOnce(a, 'http://b.test:8765', undefined, fakePeer(a, 'self'))).rejects.toMatchObject({ code: 'CLARE_CONFIG' });
  });

  it('reads a peer\'s answers bounded in bytes and depth: more is refused unread (CLARE_PEER), nothing written', async () => {
    const a = memoryContext();
    const state = { machine_id: memoryContext().clock.machine, name: 'huge', event_count: 1, watermarks: {}, digest: '' };
    const answering = (pageText: string): FetchLike => (input) => Promise.resolve(new URL(input).pathname.endsWith('/state')
      ? json(200, state)
      : new Response(pageText, { status: 200, headers: { 'content-type': 'application/json' } }));
    // A page of 10 events may be about 10 × 64 KiB; this one goes on for 2 MiB.
    const huge = `{"events":[],"pad":"${'x'.repeat(2 * 1024 * 1024)}","next_watermarks":null}`;
    await expect(syncOnce(a, 'http://huge.test', undefined, answering(huge), { batchSize: 10 })).rejects.toMatchObject({ code: 'CLARE_PEER', message: expect.stringMatching(/more than \d+ bytes/) as string });
    const deep = `{"events":[${'['.repeat(5000)}${']'.repeat(5000)}],"next_watermarks":null}`;
    await expect(syncOnce(a, 'http://deep.test', undefined, answering(deep))).rejects.toMatchObject({ code: 'CLARE_PEER', message: expect.stringMatching(/nested more than 64/) as string });
    expect(eventCount(a.db)).toBe(0);
  });

  it('refuses a peer that sends bad events, writing nothing', async () => {
    const a = memoryContext();
    const evil: FetchLike = (input) => {
      const u = new URL(input);
      if (u.pathname.endsWith('/state')) return Promise.resolve(json(200, { machine_id: memoryContext().clock.machine, name: 'evil', event_count: 1, watermarks: {}, digest: '' }));
      return Promise.resolve(json(200, { events: [{ id: 'nope' }], next_watermarks: null }));
    };
    await expect(syncOnce(a, 'http://evil.test', undefined, evil)).rejects.toMatchObject({ code: 'CLARE_BAD_EVENT' });
    expect(eventCount(a.db)).toBe(0);
  });
});
