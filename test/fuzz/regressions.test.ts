/**
 * Bugs the fuzzers found, each as a plain test with its minimal counterexample,
 * once its fix is on this branch. Bugs whose fix is still being made by others
 * wait in a *.waiting.ts file (run with `npm run test:fuzz-waiting`).
 */
import { describe, expect, it } from 'vitest';
import { ClareError } from '../../src/core/errors.js';
import { parseSessionListing } from '../../src/core/fleet/rclaude.js';
import { formatHlc } from '../../src/core/hlc.js';
import { newMachineId, uuidv7 } from '../../src/core/ids.js';
import { ingest } from '../../src/core/store.js';
import { connectRawPeer, MemoryNetwork } from '../helpers/replication-harness.js';
import { memoryContext } from '../helpers/memory-context.js';
import { waitFor } from '../helpers/wait-for.js';
import { deepArrayText } from './hostile.js';
import { thrownCoded } from './invariants.js';
import { expectCoded, remoteEvent, send, useFuzzDaemon } from './regression-kit.js';

useFuzzDaemon();


describe('regressions found by fuzzing', () => {
  it('rclaude listing: a huge bad cell gives a bounded error message (it was quoted whole, 6 characters per NUL)', () => {
    const header = 'host\tsession\tcwd\tstate\tlast_activity';
    for (const column of [0, 1, 3, 4]) {
      const cells = ['desk', 'api', '/srv', 'idle', '2025-01-01T00:00:00Z'];
      cells[column] = '\u0000'.repeat(100_000);
      const e = thrownCoded(() => parseSessionListing(`${header}\n${cells.join('\t')}\n`, 'desk'));
      expect(e.code).toBe('CLARE_RCLAUDE_OUTPUT');
      expect(e.message.length).toBeLessThan(4000);
    }
    const dupHeader = `host\tsession\tcwd\tstate\tlast_activity\t${'x'.repeat(50_000)}\t${'x'.repeat(50_000)}`;
    const e = thrownCoded(() => parseSessionListing(`${dupHeader}\n`, 'desk'));
    expect(e.message.length).toBeLessThan(4000);
  });
});

describe('sync (issue 9): identity conflicts, per-origin order, payload nesting', () => {
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

describe('sync (issue 9): prototype keys in payloads', () => {
  it('a payload with a "__proto__" key is refused, or stored with that key — never stored without it', () => {
    const ctx = memoryContext();
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

describe('sync (issue 9): bounded peer records', () => {
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
      await waitFor('all disconnected', () => b.service.status().every((p) => !p.connected));
      expect(b.service.status().length).toBeLessThanOrEqual(64);
    } finally {
      await net.stopAll();
    }
  });
});
