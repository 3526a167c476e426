/**
 * Fuzzing the HTTP sync door: POST /api/v1/sync/events with batches a broken or
 * hostile peer sends (see event-arb.ts), with and without `base`, through
 * `app.inject()` on a real daemon.
 *
 * Invariants per batch: no 5xx; a refusal is coded and writes nothing; an accepted
 * batch is held exactly as sent (no id or HLC silently reused, nothing below an
 * origin's watermark); whatever is stored a fresh peer accepts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_SKEW_MS } from '../../src/core/hlc.js';
import { jsonTextDepth, MAX_JSON_DEPTH } from '../../src/core/json-bounds.js';
import { newMachineId, newProjectId, newTaskId } from '../../src/core/ids.js';
import { SOURCE_HEADER } from '../../src/replication/http-sync-wire.js';
import { doorTimeout, fuzzDoor, warmUp } from './budget.js';
import { buildEvents, eventSpecArb, type BuiltEvent } from './event-arb.js';
import type { FuzzDaemon, StoredEvent } from './fuzz-daemon.js';
import { useFuzzedStore } from './fuzzed-store.js';
import { hostileValueArb, obj, wireText, type Wire } from './hostile.js';
import { brief, checkErrorBody } from './invariants.js';
import { violation } from './known-open.js';
import type { Pools } from './schema-arb.js';
import { checkAccepted, readWatermarks } from './sync-checks.js';

const DOOR = 'sync-http';

/** Two peers that come back batch after batch (their HLCs continue), besides a fresh one per batch. */
const regulars = [newMachineId(), newMachineId()];
const pools: Pools = (() => {
  const projects = [newProjectId(), newProjectId()];
  const tasks = [newTaskId(), newTaskId()];
  return { project_id: projects, task_id: tasks, depends_on: tasks, host: ['desk', 'laptop'], session: ['api', 'web'], group: ['all'] };
})();

const store = useFuzzedStore(DOOR);

type BaseMode = 'none' | 'right' | 'null' | 'ahead' | 'missing-origin' | 'hostile';

interface SyncCase {
  readonly specs: Parameters<typeof buildEvents>[0];
  readonly origin: 'fresh' | 0 | 1;
  readonly base: BaseMode;
  readonly hostileBase: Wire;
  readonly shape: 'normal' | 'hostile-body' | 'events-object' | 'extra-key';
  readonly hostileBody: Wire;
  readonly source: string | null;
  readonly pick: number;
}

const caseArb: fc.Arbitrary<SyncCase> = fc.record({
  specs: fc.array(eventSpecArb(pools), { minLength: 1, maxLength: 6 }),
  origin: fc.constantFrom<'fresh' | 0 | 1>('fresh', 'fresh', 0, 1),
  base: fc.oneof({ arbitrary: fc.constantFrom<BaseMode>('none', 'right'), weight: 8 }, fc.constantFrom<BaseMode>('null', 'ahead', 'missing-origin', 'hostile')),
  hostileBase: hostileValueArb,
  shape: fc.oneof({ arbitrary: fc.constant<'normal'>('normal'), weight: 12 }, fc.constantFrom<'hostile-body' | 'events-object' | 'extra-key'>('hostile-body', 'events-object', 'extra-key')),
  hostileBody: hostileValueArb,
  source: fc.option(fc.constantFrom('peer-a', '', '\u0000', 'x'.repeat(5000), '__proto__'), { nil: null }),
  pick: fc.nat(),
});

function recentHeld(fd: FuzzDaemon): StoredEvent[] {
  return fd.read.prepare('SELECT seq, id, hlc, origin, type, v, payload FROM events ORDER BY seq DESC LIMIT 200').all() as StoredEvent[];
}

async function runCase(c: SyncCase): Promise<void> {
  const { fd } = store();
  const wmBefore = readWatermarks(fd.read);
  const origin = c.origin === 'fresh' ? newMachineId() : regulars[c.origin]!;
  const wm = wmBefore[origin];
  // Stamps continue after what the store holds of this origin, within the skew bound.
  const startMs = Math.max(Date.now() - 30_000, wm === undefined ? 0 : Number(wm.slice(0, 15)) + 1);
  const built: BuiltEvent[] = buildEvents(c.specs, { origin, startMs, maxSkewMs: DEFAULT_MAX_SKEW_MS, held: recentHeld(fd), watermarks: wmBefore }, c.pick);
  const origins = [...new Set(built.map((b) => b.origin).filter((o): o is string => o !== null))];
  let base: Wire | undefined;
  switch (c.base) {
    case 'none': base = undefined; break;
    case 'right': base = obj(origins.map((o) => [o, wmBefore[o] ?? null])); break;
    case 'null': base = obj(origins.map((o) => [o, null])); break;
    case 'ahead': base = obj(origins.map((o) => [o, `999999999999999:99999:${o}`])); break;
    case 'missing-origin': base = obj(origins.slice(1).map((o) => [o, wmBefore[o] ?? null])); break;
    case 'hostile': base = c.hostileBase; break;
  }
  const events = built.map((b) => b.wire);
  let body: Wire;
  switch (c.shape) {
    case 'normal': body = obj([['events', events], ...(base === undefined ? [] : [['base', base] as [string, Wire]])]); break;
    case 'hostile-body': body = c.hostileBody; break;
    case 'events-object': body = obj([['events', obj(events.map((e, i) => [String(i), e]))]]); break;
    case 'extra-key': body = obj([['events', events], ['__proto__', obj([['events', []]])], ['extra', c.hostileBody]]); break;
  }
  const payload = wireText(body);
  const ids = built.map((b) => b.id).filter((i): i is string => typeof i === 'string');
  const heldBefore = new Set(ids.length === 0 ? [] : (fd.read.prepare(`SELECT id FROM events WHERE id IN (${ids.map(() => '?').join(',')})`).pluck().all(...ids) as string[]));
  const what = `POST /api/v1/sync/events (body nested ${jsonTextDepth(payload, 1_000_000)} deep) ${brief(payload, 400)}`;
  const before = fd.version();
  const res = await fd.app.inject({
    method: 'POST', url: '/api/v1/sync/events', payload,
    headers: { ...fd.auth, 'content-type': 'application/json', ...(c.source === null ? {} : { [SOURCE_HEADER]: c.source }) },
  });
  const wrote = fd.version() !== before;
  if (res.statusCode >= 500) violation(DOOR, 'status-5xx', `→ ${res.statusCode} ${brief(res.body)}; input: ${what}`);
  if (res.statusCode >= 400) {
    const code = checkErrorBody(DOOR, what, res.statusCode, res.body);
    if (jsonTextDepth(payload, MAX_JSON_DEPTH + 1) > MAX_JSON_DEPTH && code !== 'CLARE_TOO_DEEP') {
      violation(DOOR, 'uncoded-error', `a body nested more than ${MAX_JSON_DEPTH} deep was refused with ${code ?? '?'}, not CLARE_TOO_DEEP; input: ${what}`);
    }
    if (wrote) {
      const fresh = fd.read.prepare('SELECT type, origin FROM events ORDER BY seq DESC LIMIT 20').all().map((e: any) => `${e.type} from ${e.origin === fd.machineId ? 'us' : e.origin}`);
      violation(DOOR, 'rejected-wrote', `→ ${res.statusCode} ${brief(res.body)}, yet the store changed (new events: ${fresh.length === 0 ? 'none' : fresh.join(', ')}); input: ${what}`);
    }
  } else if (c.shape === 'normal' || c.shape === 'extra-key') {
    checkAccepted(DOOR, what, built, fd.read, wmBefore, heldBefore);
  }
  if (wrote) store().flush(what);
}

describe('fuzz: HTTP sync batches', () => {
  it('no 5xx, coded refusals that write nothing, accepted events held exactly as sent, and a peer takes them', async () => {
    warmUp(caseArb);
    const report = await fuzzDoor(DOOR, { runs: 3000, ms: 25_000 }, fc.asyncProperty(caseArb, async (c) => {
      await runCase(c);
    }));
    expect(report.cases).toBeGreaterThan(0);
    store().checkConverged();
  }, doorTimeout(25_000));
});
