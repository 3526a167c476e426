/**
 * Upgrading a mesh one machine at a time: the new daemon opens a database written by
 * the previous release (test/fixtures/previous-release, made by make.mjs), migrates
 * it, and syncs both ways with a peer still running the previous release (built from
 * git history by build-release.mjs). Nothing is lost: every event of the fixture and
 * every event written on either side ends up, byte for byte, on both machines.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/core/schema.js';
import { buildRelease, PREVIOUS_RELEASE } from '../fixtures/previous-release/build-release.mjs';
import { freePort, machinePool, ROOT, type TestMachine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const FIXTURES = join(ROOT, 'test/fixtures/previous-release');
interface Expected { machines: Record<'desk' | 'laptop', { machine_id: string; schema_version: number; event_count: number; events_sha256: string }> }
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

const pool = machinePool();
afterAll(() => pool.release());

interface Row { id: string; hlc: string; origin: string; type: string; v: number; payload: string }
const line = (e: Row): string => `${e.id}\t${e.hlc}\t${e.origin}\t${e.type}\t${e.v}\t${e.payload}\n`;

function events(file: string): Map<string, string> {
  const db = new Database(file, { readonly: true });
  try {
    return new Map((db.prepare('SELECT id, hlc, origin, type, v, payload FROM events').all() as Row[]).map((e) => [e.id, line(e)]));
  } finally {
    db.close();
  }
}

/** The same sha256 as make.mjs: sorted by id, over the given events. */
function sha(lines: Map<string, string>, ids: readonly string[]): string {
  const h = createHash('sha256');
  for (const id of [...ids].sort()) h.update(lines.get(id) ?? `missing ${id}\n`);
  return h.digest('hex');
}

/** Gives a made machine the fixture's identity and database. */
function adopt(m: TestMachine, who: 'desk' | 'laptop'): void {
  const id = readFileSync(join(FIXTURES, `${who}.toml`), 'utf8');
  const mid = /^machine_id = "([^"]+)"/m.exec(id)![1]!;
  writeFileSync(m.configFile, readFileSync(m.configFile, 'utf8').replace(/^machine_id = "[^"]+"/m, `machine_id = "${mid}"`).replace(/^name = "[^"]+"/m, `name = "${who}"`));
  const db = join(m.dir, 'data', 'clare', 'clare.db');
  for (const s of ['', '-wal', '-shm']) rmSync(`${db}${s}`, { force: true });
  copyFileSync(join(FIXTURES, 'desk.db'), db);
}

const release = buildRelease(PREVIOUS_RELEASE);
if (release === null) console.warn(`SKIPPED: the upgrade test (commit ${PREVIOUS_RELEASE} is not in this clone's history: a shallow clone?)`);

describe.skipIf(release === null)(`upgrade from ${PREVIOUS_RELEASE}`, () => {
  it('migrates the previous release\'s database and syncs both ways with a peer still on it, losing nothing', async () => {
    const [pn, po] = [await freePort(), await freePort()];
    const TOKEN = 'upgrade-test-token-0123456789abcdef';
    const fresh = await pool.machine({ name: 'desk', port: pn, token: TOKEN, peers: [`http://127.0.0.1:${po}`], env: { CLARE_LOG_LEVEL: 'info' } });
    const old = await pool.machine({ name: 'laptop', port: po, token: TOKEN, peers: [`http://127.0.0.1:${pn}`], cli: release!.cli, env: { CLARE_LOG_LEVEL: 'info' } });
    adopt(fresh, 'desk');
    adopt(old, 'laptop');
    const fixtureIds = [...events(join(FIXTURES, 'desk.db')).keys()];
    expect(fixtureIds).toHaveLength(expected.machines.desk.event_count);

    await old.start();
    await fresh.start();
    // Migrated in place, every event kept as it was.
    const dbFile = join(fresh.dir, 'data', 'clare', 'clare.db');
    const probe = new Database(dbFile, { readonly: true });
    expect(probe.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    probe.close();
    expect(sha(events(dbFile), fixtureIds)).toBe(expected.machines.desk.events_sha256);
    // Projections rebuilt by the new code from the old events equal what it migrated.
    const rb = fresh.cliJson<{ changed: boolean }>(['rebuild']);
    expect(rb.changed).toBe(false);

    // Writes on both sides, each carried to the other.
    const p1 = await fresh.api<{ id: string }>('POST', '/projects', { name: 'from-the-new-release' });
    expect(p1.status).toBe(201);
    expect((await fresh.api('POST', '/tasks', { project: p1.body.id, title: 'written after the upgrade' })).status).toBe(201);
    expect((await old.api('POST', '/projects', { name: 'from-the-old-release' })).status).toBe(201);
    // The previous release answers a list as an array; this one pages it ({items, next_cursor}).
    const names = async (m: TestMachine): Promise<string[]> => {
      const body = (await m.api<{ name: string }[] | { items: { name: string }[] }>('GET', '/projects?limit=1000')).body;
      return (Array.isArray(body) ? body : body.items).map((p) => p.name);
    };
    await waitFor('both releases to hold both writes', async () => {
      const [a, b] = await Promise.all([names(fresh), names(old)]);
      return ['from-the-new-release', 'from-the-old-release'].every((n) => a.includes(n) && b.includes(n));
    }, 30_000);
    await waitFor('equal event counts and watermarks', async () => {
      const [a, b] = await Promise.all([fresh.api<{ event_count: number; watermarks: Record<string, string> }>('GET', '/sync/state'), old.api<{ event_count: number; watermarks: Record<string, string> }>('GET', '/sync/state')]);
      return a.body.event_count === b.body.event_count && JSON.stringify(a.body.watermarks) === JSON.stringify(b.body.watermarks);
    }, 30_000);
    const link = (await fresh.api<{ peers: { name: string | null; connected: boolean; protocol: number | null }[] }>('GET', '/status')).body.peers.find((p) => p.name === 'laptop');
    expect(link).toMatchObject({ connected: true, protocol: 1 }); // the old release speaks only 1

    await fresh.stop();
    await old.stop();
    const onNew = events(dbFile);
    const onOld = events(join(old.dir, 'data', 'clare', 'clare.db'));
    expect(onNew.size).toBe(onOld.size);
    expect(onNew.size).toBeGreaterThan(fixtureIds.length);
    for (const [id, l] of onOld) expect(onNew.get(id)).toBe(l);
    expect(sha(onOld, fixtureIds)).toBe(expected.machines.laptop.events_sha256);
  });
});
