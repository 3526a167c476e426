// Recovery: a machine whose database may lack its own events fetches them from its
// peers before it appends anything under its id. The `local_meta` contract
// (`recovery` = `pending`), the detection of a re-initialised machine, the write
// gate (CLARE_RECOVERING), and the replication service ending recovery.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitLocal, commitRemote } from '../../src/core/context.js';
import { openDb } from '../../src/core/db.js';
import { ClareError } from '../../src/core/errors.js';
import { parseHlc } from '../../src/core/hlc.js';
import { newProjectId } from '../../src/core/ids.js';
import { clarePaths } from '../../src/core/paths.js';
import { silentLogger } from '../../src/core/log.js';
import { OwnStamp, readOwnStamp } from '../../src/core/own-stamp.js';
import { clearRecoveryMark, detectRecovery, markRecoveryPending, recoveryPending } from '../../src/core/recovery.js';
import { initMachine } from '../../src/core/setup.js';
import { eventCount, eventsAfter, ingest, originCounts, watermarks } from '../../src/core/store.js';
import { connectRawPeer, MemoryNetwork, waitConverged, writeProjects } from '../helpers/replication-harness.js';
import { memoryContext } from '../helpers/memory-context.js';
import { waitFor } from '../helpers/wait-for.js';

describe('detecting a machine that must recover', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function home(): ReturnType<typeof clarePaths> {
    const d = mkdtempSync(join(tmpdir(), 'clare-rec-'));
    dirs.push(d);
    return clarePaths({ XDG_CONFIG_HOME: join(d, 'config'), XDG_DATA_HOME: join(d, 'data'), HOME: d });
  }

  it('a brand-new machine (`clare init` made the id) announces itself at once and never waits', () => {
    const paths = home();
    const r = initMachine(paths, 'desk');
    expect(r.created).toBe(true);
    expect(r.recovery).toBeNull();
    const db = openDb(paths.dbFile);
    expect(originCounts(db)[r.config.machine_id]).toBe(1);
    expect(detectRecovery(db, r.config.machine_id)).toBeNull();
    db.close();
  });

  it('`clare init` with the old config and a wiped database marks it for recovery and appends nothing', () => {
    const paths = home();
    const first = initMachine(paths, 'desk');
    rmSync(paths.dbFile);
    const again = initMachine(paths, 'desk');
    expect(again.created).toBe(false);
    expect(again.config.machine_id).toBe(first.config.machine_id);
    expect(again.recovery).toMatch(/holds no event of this machine/);
    const db = openDb(paths.dbFile);
    expect(eventCount(db)).toBe(0);
    expect(recoveryPending(db)).toBe(true);
    db.close();
  });

  it('an intact database (a laptop offline) needs no recovery; the `recovery = pending` mark (clare restore) is honoured', () => {
    const paths = home();
    const r = initMachine(paths, 'laptop');
    const db = openDb(paths.dbFile);
    expect(detectRecovery(db, r.config.machine_id)).toBeNull();
    markRecoveryPending(db, 'restored from a backup');
    expect(detectRecovery(db, r.config.machine_id)).toBe('restored from a backup');
    db.close();
    expect(initMachine(paths, 'laptop').recovery).toBe('restored from a backup');
  });
});

describe('an older copy of the database put back by hand (the own-events stamp)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function stampFile(): string {
    const d = mkdtempSync(join(tmpdir(), 'clare-stamp-'));
    dirs.push(d);
    return join(d, 'clare.db-own');
  }

  it('the stamp follows the newest own event committed, not other origins\' events, and is written when the daemon stops', async () => {
    const file = stampFile();
    const me = memoryContext();
    const other = memoryContext();
    const stamp = new OwnStamp(me, file, silentLogger, 10);
    await stamp.run();
    writeProjects(me, 3);
    await waitFor('the stamp at the newest own event', () => readOwnStamp(file, me.clock.machine) === watermarks(me.db)[me.clock.machine]);
    writeProjects(other, 2);
    commitRemote(me, eventsAfter(other.db, {}, 10), 'other');
    writeProjects(me, 1);
    await stamp.stop();
    expect(readOwnStamp(file, me.clock.machine)).toBe(watermarks(me.db)[me.clock.machine]);
    expect(readOwnStamp(file, other.clock.machine)).toBeNull();
  });

  it('a database holding fewer own events than the stamp says is marked for recovery; an intact one, or another machine\'s stamp, is not', async () => {
    const file = stampFile();
    const me = memoryContext();
    writeProjects(me, 2);
    const stamp = new OwnStamp(me, file, silentLogger, 10);
    await stamp.run();
    await stamp.stop();
    expect(detectRecovery(me.db, me.clock.machine, file)).toBeNull();
    // The copy: the first of the two events only.
    const copy = memoryContext({ machineId: me.clock.machine });
    ingest(copy.db, copy.clock, eventsAfter(me.db, {}, 1));
    expect(detectRecovery(copy.db, me.clock.machine, file)).toMatch(/older copy put back by hand/);
    expect(recoveryPending(copy.db)).toBe(true);
    const stranger = memoryContext();
    writeProjects(stranger, 1);
    expect(detectRecovery(stranger.db, stranger.clock.machine, file)).toBeNull();
  });

  it('after a recovery the stamp settles at what the database holds, so the next start does not recover again', async () => {
    const file = stampFile();
    const me = memoryContext();
    writeProjects(me, 3);
    const first = new OwnStamp(me, file, silentLogger, 10);
    await first.run();
    await first.stop();
    const copy = memoryContext({ machineId: me.clock.machine });
    ingest(copy.db, copy.clock, eventsAfter(me.db, {}, 1));
    const stamp = new OwnStamp(copy, file, silentLogger, 10);
    await stamp.run();
    // While recovering, the stamp keeps the higher claim…
    expect(readOwnStamp(file, me.clock.machine)).toBe(watermarks(me.db)[me.clock.machine]);
    // …and once no peer had the rest, it settles.
    stamp.settle();
    await stamp.stop();
    clearRecoveryMark(copy.db);
    expect(readOwnStamp(file, me.clock.machine)).toBe(watermarks(copy.db)[me.clock.machine]);
    expect(detectRecovery(copy.db, me.clock.machine, file)).toBeNull();
  });
});

describe('recovering over the mesh', () => {
  let net: MemoryNetwork;
  afterEach(async () => {
    await net.stopAll();
  });

  it('a wiped machine gets its own events back from its peers before it writes; its clock then stamps above them', async () => {
    net = new MemoryNetwork();
    const p1 = net.add({ name: 'p1' });
    const p2 = net.add({ name: 'p2', peers: ['p1'] });
    const w = net.add({ name: 'w', peers: ['p1'] });
    writeProjects(w.ctx, 40, 'w-old', 5);
    writeProjects(p1.ctx, 10, 'p1');
    await net.startAll();
    await waitConverged([p1, p2, w], 50);
    const before = { wm: watermarks(p1.ctx.db)[w.machineId]!, n: originCounts(p1.ctx.db)[w.machineId]! };
    await w.service.stop();
    net.nodes.delete('w');

    // The same machine id, an empty database: it must not write until its events are back.
    const w2 = net.add({ name: 'w2', peers: ['p1', 'p2'], machineId: w.machineId, recovering: true });
    const write = (): unknown => commitLocal(w2.ctx, [{ type: 'project.created', payload: { project_id: newProjectId(), name: 'new', path: null, description: '', weight: 1 } }]);
    expect(write).toThrow(expect.objectContaining({ code: 'CLARE_RECOVERING', status: 503 }) as ClareError);
    expect(w2.service.recoveryStatus()).toMatchObject({ state: 'recovering' });
    await w2.service.run();
    await w2.recovery!.done;
    expect(originCounts(w2.ctx.db)[w.machineId]).toBe(before.n);
    expect(watermarks(w2.ctx.db)[w.machineId]).toBe(before.wm);
    expect(w2.service.recoveryStatus()).toMatchObject({ state: 'done', outcome: expect.stringMatching(/gave back/) });
    const c = write() as { events: { hlc: string }[] };
    expect(c.events[0]!.hlc > before.wm).toBe(true);
    expect(parseHlc(c.events[0]!.hlc).machine).toBe(w.machineId);
    await waitConverged([p1, p2, w2], 51);
  });

  it('it waits for every connected peer that holds its events, not only the first to give some back', async () => {
    net = new MemoryNetwork();
    const w = memoryContext();
    writeProjects(w, 40, 'w-old');
    const all = eventsAfter(w.db, {}, 100);
    w.db.close();
    const p1 = net.add({ name: 'p1' });
    ingest(p1.ctx.db, p1.ctx.clock, all.slice(0, 30));
    await p1.service.run();
    const w2 = net.add({ name: 'w2', peers: ['p1'], machineId: w.clock.machine, recovering: true });
    net.block('w2', 'p1');
    await w2.service.run();
    // Another peer, connected first, states that it holds all 40 (and is slow to send them).
    const raw = connectRawPeer(w2.service);
    raw.send(raw.hello({ watermarks: { [w.clock.machine]: all[39]!.hlc }, counts: { [w.clock.machine]: 40 } }));
    await raw.next('hello');
    net.unblock('w2', 'p1');
    w2.service.reloadPeers();
    await waitFor('p1 gave back the 30 it holds', () => eventCount(w2.ctx.db) === 30);
    await waitFor('p1 has nothing more', () => w2.service.status().some((p) => p.name === 'p1' && p.lag?.we_lack === 0));
    expect(w2.recovery!.active).toBe(true);
    raw.send({ type: 'batch', seq: 1, base: { [w.clock.machine]: all[29]!.hlc }, events: all.slice(30) });
    await raw.next('ack');
    await w2.recovery!.done;
    expect(originCounts(w2.ctx.db)[w.clock.machine]).toBe(40);
  });

  it('with no peer configured there is nothing to wait for', async () => {
    net = new MemoryNetwork();
    const w = net.add({ name: 'w', recovering: true });
    await w.service.run();
    await w.recovery!.done;
    expect(w.service.recoveryStatus()!.outcome).toMatch(/no peers configured/);
  });

  it('when every configured peer answered and none holds its events, it stops waiting; a peer down keeps it waiting', async () => {
    net = new MemoryNetwork();
    const p1 = net.add({ name: 'p1' });
    const p2 = net.add({ name: 'p2' });
    writeProjects(p1.ctx, 3);
    await p1.service.run();
    const w = net.add({ name: 'w', peers: ['p1', 'p2'], recovering: true });
    net.block('w', 'p2');
    await w.service.run();
    await waitFor('p1\'s events', () => eventCount(w.ctx.db) === 3);
    expect(w.recovery!.active).toBe(true);
    net.unblock('w', 'p2');
    await p2.service.run();
    w.service.reloadPeers();
    await w.recovery!.done;
    expect(w.service.recoveryStatus()!.outcome).toMatch(/none holds events of this machine/);
  });
});
