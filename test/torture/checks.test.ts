/** The campaign's end checks on hand-made final states: each can fail, and says why. */
import { describe, expect, it } from 'vitest';
import { audienceOf, checkAcknowledged, checkDeliveries, linkProblems } from '../../tools/torture/checks.js';
import { diagnose } from '../../tools/torture/diagnosis.js';
import { explainDifferences, type Snapshot, type StoredEvent } from '../../tools/torture/final-state.js';
import type { FaultRecord } from '../../tools/torture/nemesis.js';
import type { Ack } from '../../tools/torture/workload.js';

const ev = (id: string, hlc: string, origin: string, type: string, payload: unknown): StoredEvent => ({ id, hlc, origin, type, payload: JSON.stringify(payload) });

function snap(name: string, events: StoredEvent[], rows: Record<string, Record<string, unknown>> = {}, receipts: Snapshot['receipts'] = []): Snapshot {
  const tables = new Map<string, Map<string, string>>();
  for (const [t, byKey] of Object.entries(rows)) tables.set(t, new Map(Object.entries(byKey).map(([k, v]) => [JSON.stringify([k]), JSON.stringify(v)])));
  return { name, machineId: `m-${name}`, events: new Map(events.map((e) => [e.id, e])), rows: tables, receipts };
}

const e1 = ev('e1', '001:00000:m-a', 'm-a', 'update.posted', { update_id: 'u1', text: 'tz1-a-00001' });
const e2 = ev('e2', '002:00000:m-a', 'm-a', 'task.created', { task_id: 'task-1', title: 'tz1-a-00002' });
const ack = (marker: string, node = 'a', at = 1000): Ack => ({ op: 'update', node, at, contains: [marker] });

describe('acknowledged writes', () => {
  it('passes when every daemon holds the event, fails naming who lacks it', () => {
    expect(checkAcknowledged([ack('tz1-a-00001')], [snap('a', [e1]), snap('b', [e1])], [], 0).check.ok).toBe(true);
    const r = checkAcknowledged([ack('tz1-a-00001'), ack('tz1-a-00002')], [snap('a', [e1, e2]), snap('b', [e1])], [], 0);
    expect(r.check.ok).toBe(false);
    expect(r.lost).toBe(1);
    expect(r.check.history?.[0]).toMatchObject({ id: 'e2', held_by: ['a'], missing_on: ['b'] });
  });

  it('a write on no daemon is lost, unless its daemon lost its disk after the acknowledgement', () => {
    const lost = checkAcknowledged([ack('tz1-a-00009')], [snap('a', [e1]), snap('b', [e1])], [], 0);
    expect(lost.lost_everywhere).toBe(1);
    const wipe: FaultRecord = { kind: 'wipe', nodes: ['a'], detail: '', at_ms: 2000, healed_at_ms: 3000, error: null };
    const excused = checkAcknowledged([ack('tz1-a-00009')], [snap('a', [e1]), snap('b', [e1])], [wipe], 0);
    expect(excused.check.ok).toBe(true);
    expect(excused.lost_with_disk).toBe(1);
    const before = checkAcknowledged([ack('tz1-a-00009', 'a', 5000)], [snap('a', [e1]), snap('b', [e1])], [wipe], 0);
    expect(before.check.ok).toBe(false);
  });
});

describe('broadcast delivery', () => {
  const groups = { all: ['*:*'], ones: ['*:a1'] };
  const sessions = ['a:a1', 'a:a2', 'b:a1'];
  const sent = ev('b1', '003:00000:m-a', 'm-a', 'broadcast.sent', { update_id: 'u9', group: 'ones', text: 'tz1-a-00003' });
  const bAck: Ack = { op: 'broadcast', node: 'a', at: 1, contains: ['tz1-a-00003'], group: 'ones', marker: 'tz1-a-00003' };
  const typed = (host: string, session: string) => ({ host, session, text: '[clare broadcast to ones] tz1-a-00003' });

  it('exactly once per session of the group passes; twice or never fails', () => {
    expect(audienceOf(groups.ones, sessions)).toEqual(['a:a1', 'b:a1']);
    const snaps = [snap('a', [sent]), snap('b', [sent])];
    const once = new Map([['a', [typed('a', 'a1')]], ['b', [typed('b', 'a1')]]]);
    expect(checkDeliveries([bAck], groups, sessions, once, snaps, new Set(), new Set()).check.ok).toBe(true);
    const twice = new Map([['a', [typed('a', 'a1'), typed('a', 'a1')]], ['b', [typed('b', 'a1')]]]);
    expect(checkDeliveries([bAck], groups, sessions, twice, snaps, new Set(), new Set()).duplicates).toBe(1);
    const never = new Map([['a', [typed('a', 'a1')]]]);
    const r = checkDeliveries([bAck], groups, sessions, never, snaps, new Set(), new Set());
    expect(r.missing).toBe(1);
    expect(r.check.ok).toBe(false);
  });

  it('a copy recorded as failed (a kill mid-send) is owed at most once', () => {
    const receipts = [{ update_id: 'u9', host: 'b', session: 'a1', status: 'failed', detail: 'interrupted' }];
    const snaps = [snap('a', [sent]), snap('b', [sent], {}, receipts)];
    const r = checkDeliveries([bAck], groups, sessions, new Map([['a', [typed('a', 'a1')]]]), snaps, new Set(), new Set());
    expect(r.check.ok).toBe(true);
    expect(r.failed_receipts).toBe(1);
  });

  it('typed twice on a wiped host: excused only when a typing left no delivery record anywhere', () => {
    const receipt = (id: string) => ev(id, `00${id.length}:00000:m-a`, 'm-a', 'broadcast.receipt', { update_id: 'u9', host: 'a', session: 'a1', status: 'delivered' });
    const twice = new Map([['a', [typed('a', 'a1'), typed('a', 'a1')]], ['b', [typed('b', 'a1')]]]);
    const oneRecord = [snap('a', [sent, receipt('r1')]), snap('b', [sent, receipt('r1')])];
    const lostRecord = checkDeliveries([bAck], groups, sessions, twice, oneRecord, new Set(), new Set(['a']));
    expect(lostRecord.check.ok).toBe(true);
    expect(lostRecord.duplicates_with_disk).toBe(1);
    expect(checkDeliveries([bAck], groups, sessions, twice, oneRecord, new Set(), new Set()).check.ok).toBe(false);
    const twoRecords = [snap('a', [sent, receipt('r1'), receipt('r22')]), snap('b', [sent, receipt('r1'), receipt('r22')])];
    expect(checkDeliveries([bAck], groups, sessions, twice, twoRecords, new Set(), new Set(['a'])).duplicates).toBe(1);
  });
});

describe('links and differences', () => {
  const ids = new Map([['a', 'm-a'], ['b', 'm-b']]);
  const peer = (id: string, over: object = {}) => ({ machine_id: id, name: id, connected: true, faulty: false, lag: { they_lack: 0, we_lack: 0 }, last_error: null, ...over });

  it('a link must be up, clean and at lag 0 both ways', () => {
    expect(linkProblems([{ node: 'a', peers: [peer('m-b')] }, { node: 'b', peers: [peer('m-a')] }], ids)).toEqual([]);
    expect(linkProblems([{ node: 'a', peers: [peer('m-b', { lag: { they_lack: 2, we_lack: 0 } })] }, { node: 'b', peers: [peer('m-a', { connected: false })] }], ids)).toHaveLength(2);
    expect(linkProblems([{ node: 'a', peers: [peer('m-b', { faulty: true })] }, { node: 'b', peers: [peer('m-a')] }], ids)).toHaveLength(1);
  });

  it('explains a differing row by the events behind it, and diagnoses own events lost after a wipe', () => {
    const row = { id: 'task-1', title: 'tz1-a-00002', title_hlc: '002:00000:m-a' };
    const snaps = [snap('a', [e1, e2], { tasks: { 'task-1': row } }), snap('b', [e1], {})];
    const d = explainDifferences(snaps);
    expect(d.count).toBe(1);
    expect(d.shortest[0]!.history.map((h) => h.id)).toEqual(['e2']);
    const wipe: FaultRecord = { kind: 'wipe', nodes: ['b'], detail: '', at_ms: 1, healed_at_ms: 2, error: null };
    const fromB = ev('e3', '003:00000:m-b', 'm-b', 'update.posted', { update_id: 'u3', text: 'tz1-b-00001' });
    const lines = diagnose([snap('a', [e1, fromB]), snap('b', [e1])], [wipe], []);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^b lacks 1 of its OWN events that peers hold \(after wipe at t\+0\.0s\).*recovery/);
    expect(diagnose([snap('a', [e1, e2]), snap('b', [e1]), snap('c', [e1, e2])], [], [])[0]).toMatch(/^b lacks 1 events of a that every other daemon holds.*anti-entropy/);
  });
});
