/**
 * The campaign's end-of-run checks, each a pure function of what was recorded
 * (the ledger of acknowledged writes, the fault log, the stand-in's send logs)
 * and the final databases. Each returns whether it held and the evidence.
 */
import { historyOf, unionOfEvents, type HistoryLine, type Snapshot, type StoredEvent } from './final-state.js';
import type { FaultRecord } from './nemesis.js';
import type { Ack } from './workload.js';

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  /** One line for the summary. */
  readonly summary: string;
  /** What a person needs to route the failure: examples, histories. */
  readonly evidence?: unknown;
  /** The shortest history that shows the failure, if one applies. */
  readonly history?: readonly HistoryLine[];
}

/** Finds the events an acknowledged write produced. */
function matching(ack: Ack, index: ReadonlyMap<string, StoredEvent[]>): StoredEvent[] {
  const first = index.get(ack.contains[0]!) ?? [];
  return first.filter((e) => (ack.type === undefined || e.type === ack.type) && ack.contains.every((c) => e.payload.includes(c)));
}

/** Index of events by every marker-like token and uuid in their payload. */
function tokenIndex(all: ReadonlyMap<string, StoredEvent>): Map<string, StoredEvent[]> {
  const idx = new Map<string, StoredEvent[]>();
  const re = /"([^"\\]{6,120})"/g;
  for (const e of all.values()) {
    for (const m of e.payload.matchAll(re)) {
      const k = m[1]!;
      const l = idx.get(k);
      if (l === undefined) idx.set(k, [e]);
      else if (l[l.length - 1] !== e) l.push(e);
    }
  }
  return idx;
}

export interface AckOutcome {
  readonly acknowledged: number;
  /** Acknowledged writes missing on at least one daemon (not excused by a lost disk). */
  readonly lost: number;
  /** Of those, on no daemon at all. */
  readonly lost_everywhere: number;
  /** On no daemon, but only the acknowledging daemon ever held it and its disk was wiped or restored later: the fault took it. */
  readonly lost_with_disk: number;
  /** The contains[0] of the writes lost with a disk (their deliveries are not owed). */
  readonly excused: ReadonlySet<string>;
  readonly check: CheckResult;
}

/** Every write the API acknowledged is on every daemon. */
export function checkAcknowledged(ledger: readonly Ack[], snaps: readonly Snapshot[], faults: readonly FaultRecord[], t0: number): AckOutcome {
  const all = unionOfEvents(snaps);
  const index = tokenIndex(all);
  let lost = 0;
  let lostEverywhere = 0;
  let lostWithDisk = 0;
  const excused = new Set<string>();
  const examples: { ack: Ack; holders: string[]; history: HistoryLine[]; faults_after: FaultRecord[] }[] = [];
  for (const ack of ledger) {
    const evs = matching(ack, index);
    const holders = snaps.filter((s) => evs.some((e) => s.events.has(e.id))).map((s) => s.name);
    if (evs.length > 0 && holders.length === snaps.length && evs.every((e) => snaps.every((s) => s.events.has(e.id)))) continue;
    const diskFaultsAfter = faults.filter((f) => (f.kind === 'wipe' || f.kind === 'restore') && f.nodes.includes(ack.node) && f.at_ms + t0 > ack.at);
    if (evs.length === 0 && diskFaultsAfter.length > 0) {
      lostWithDisk += 1;
      excused.add(ack.contains[0]!);
      continue;
    }
    lost += 1;
    if (evs.length === 0) lostEverywhere += 1;
    if (examples.length < 5) {
      examples.push({
        ack, holders, history: historyOf(evs, snaps),
        faults_after: faults.filter((f) => f.nodes.includes(ack.node) && f.at_ms + t0 > ack.at - 5000).slice(0, 6),
      });
    }
  }
  examples.sort((a, b) => a.history.length - b.history.length);
  const ok = lost === 0;
  return {
    acknowledged: ledger.length, lost, lost_everywhere: lostEverywhere, lost_with_disk: lostWithDisk, excused,
    check: {
      name: 'acknowledged writes on every peer', ok,
      summary: ok
        ? `${ledger.length} acknowledged, all on every daemon${lostWithDisk > 0 ? ` (${lostWithDisk} lost with a wiped/restored disk before any peer had them)` : ''}`
        : `${lost} of ${ledger.length} acknowledged writes missing on some daemon (${lostEverywhere} on none)`,
      ...(ok ? {} : { evidence: examples.map((x) => ({ op: x.ack.op, node: x.ack.node, at_ms: x.ack.at - t0, contains: x.ack.contains, held_by: x.holders, faults_around: x.faults_after })) }),
      ...(examples[0] === undefined ? {} : { history: examples[0].history }),
    },
  };
}

/** Session keys of a group's patterns (`host:session` globs with `*`). */
export function audienceOf(patterns: readonly string[], sessions: readonly string[]): string[] {
  const res = patterns.map((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  return sessions.filter((s) => res.some((r) => r.test(s)));
}

export interface DeliveryOutcome {
  readonly broadcasts: number;
  readonly copies_expected: number;
  readonly typed_once: number;
  readonly duplicates: number;
  readonly missing: number;
  /** Copies whose delivery failed or was interrupted (a kill mid-send): at most once is all that is owed. */
  readonly failed_receipts: number;
  readonly assignment_duplicates: number;
  /** Typed again after the only record of the first typing went with a wiped/restored disk (excused). */
  readonly duplicates_with_disk: number;
  readonly problems: readonly { marker: string; session: string; typed: number; why: string }[];
  readonly check: CheckResult;
}

/**
 * Each broadcast typed at most once per session, and exactly once where the
 * session stayed up (all stand-in sessions stay up for the whole run) — unless
 * the delivering host recorded the copy as failed (e.g. interrupted by a SIGKILL
 * mid-send, which is never retried so as not to type it twice). Assignments: no
 * session got one task typed more often than it was assigned there. A copy typed
 * again on a host whose disk was wiped or restored, where fewer delivery records
 * exist anywhere than typings, lost its only record with that disk: counted apart.
 */
export function checkDeliveries(
  ledger: readonly Ack[], groups: Readonly<Record<string, readonly string[]>>, sessions: readonly string[],
  sends: ReadonlyMap<string, readonly { host: string; session: string; text: string }[]>,
  snaps: readonly Snapshot[], excused: ReadonlySet<string>, diskHosts: ReadonlySet<string>,
): DeliveryOutcome {
  const typed = new Map<string, number>();
  const assignedTyped = new Map<string, number>();
  for (const list of sends.values()) {
    for (const s of list) {
      const key = `${s.host}:${s.session}`;
      const b = /^\[clare broadcast to [^\]]+\] (\S+)/.exec(s.text);
      if (b !== null) typed.set(`${b[1]}|${key}`, (typed.get(`${b[1]}|${key}`) ?? 0) + 1);
      const a = /You are assigned task ([0-9a-f-]{36})/.exec(s.text);
      if (a !== null) assignedTyped.set(`${a[1]}|${key}`, (assignedTyped.get(`${a[1]}|${key}`) ?? 0) + 1);
    }
  }
  const failed = new Set<string>();
  const updateOf = new Map<string, string>();
  for (const s of snaps) for (const r of s.receipts) if (r.status === 'failed') failed.add(`${r.update_id}|${r.host}:${r.session}`);
  const all = unionOfEvents(snaps);
  // Delivery records (events) per copy, anywhere: a typing with no record left was recorded
  // only on a disk the nemesis then wiped or restored — that fault, not the product, lost it.
  const records = new Map<string, number>();
  const bump = (k: string): void => {
    records.set(k, (records.get(k) ?? 0) + 1);
  };
  const assignmentTarget = new Map<string, string>();
  for (const e of all.values()) {
    if (e.type === 'broadcast.sent') {
      const p = JSON.parse(e.payload) as { update_id: string; text: string };
      updateOf.set(p.text, p.update_id);
    } else if (e.type === 'assignment.created') {
      const p = JSON.parse(e.payload) as { assignment_id: string; task_id: string; host: string; session: string };
      assignmentTarget.set(p.assignment_id, `${p.task_id}|${p.host}:${p.session}`);
    }
  }
  for (const e of all.values()) {
    if (e.type === 'broadcast.receipt') {
      const p = JSON.parse(e.payload) as { update_id: string; host: string; session: string; status: string };
      if (p.status === 'delivered') bump(`${p.update_id}|${p.host}:${p.session}`);
    } else if (e.type === 'assignment.delivered') {
      const t = assignmentTarget.get((JSON.parse(e.payload) as { assignment_id: string }).assignment_id);
      if (t !== undefined) bump(t);
    }
  }
  const lostRecord = (recordKey: string, session: string, typedN: number): boolean =>
    diskHosts.has(session.split(':')[0]!) && typedN > (records.get(recordKey) ?? 0);
  let dupsWithDisk = 0;
  let copies = 0;
  let once = 0;
  let dups = 0;
  let missing = 0;
  let failedCopies = 0;
  const problems: { marker: string; session: string; typed: number; why: string }[] = [];
  for (const ack of ledger) {
    if (ack.op !== 'broadcast' || ack.marker === undefined || ack.group === undefined) continue;
    if (excused.has(ack.marker)) continue;
    const updateId = updateOf.get(ack.marker);
    for (const key of audienceOf(groups[ack.group] ?? [], sessions)) {
      copies += 1;
      const n = typed.get(`${ack.marker}|${key}`) ?? 0;
      const wasFailed = updateId !== undefined && failed.has(`${updateId}|${key}`);
      if (wasFailed) failedCopies += 1;
      if (n === 1) once += 1;
      if (n > 1 && updateId !== undefined && lostRecord(`${updateId}|${key}`, key, n)) {
        dupsWithDisk += 1;
      } else if (n > 1) {
        dups += 1;
        problems.push({ marker: ack.marker, session: key, typed: n, why: `typed ${n}× with ${records.get(`${updateId ?? ''}|${key}`) ?? 0} delivery records` });
      } else if (n === 0 && !wasFailed) {
        missing += 1;
        problems.push({ marker: ack.marker, session: key, typed: 0, why: updateId === undefined ? 'the broadcast event is on no daemon' : 'never typed, and no failed receipt' });
      }
    }
  }
  // Assignments: typed at most as often as the task was assigned to that session.
  const assignedCount = new Map<string, number>();
  for (const e of all.values()) {
    if (e.type !== 'assignment.created') continue;
    const p = JSON.parse(e.payload) as { task_id: string; host: string; session: string };
    const k = `${p.task_id}|${p.host}:${p.session}`;
    assignedCount.set(k, (assignedCount.get(k) ?? 0) + 1);
  }
  let assignmentDups = 0;
  for (const [k, n] of assignedTyped) {
    if (n > (assignedCount.get(k) ?? 0) && lostRecord(k, k.split('|')[1]!, n)) {
      dupsWithDisk += 1;
    } else if (n > (assignedCount.get(k) ?? 0)) {
      assignmentDups += 1;
      problems.push({ marker: k, session: k.split('|')[1]!, typed: n, why: `assignment typed ${n}× but assigned ${assignedCount.get(k) ?? 0}×` });
    }
  }
  const ok = dups === 0 && missing === 0 && assignmentDups === 0;
  return {
    broadcasts: ledger.filter((a) => a.op === 'broadcast').length, copies_expected: copies, typed_once: once, duplicates: dups, missing,
    failed_receipts: failedCopies, assignment_duplicates: assignmentDups, duplicates_with_disk: dupsWithDisk, problems,
    check: {
      name: 'broadcasts typed at most once, exactly once where the session stayed up', ok,
      summary: `${copies} copies owed: ${once} typed once, ${dups} typed twice or more, ${missing} never typed, ${failedCopies} recorded failed (a kill mid-send); assignments typed too often: ${assignmentDups}${dupsWithDisk > 0 ? `; ${dupsWithDisk} retyped after their only delivery record was lost with a wiped/restored disk (not counted)` : ''}`,
      ...(ok ? {} : { evidence: problems.slice(0, 10) }),
    },
  };
}

export interface LinkState {
  readonly node: string;
  readonly peers: readonly { machine_id: string | null; name: string | null; connected: boolean; direction?: string | null; events_sent?: number; events_received?: number; faulty: boolean; lag: { they_lack: number; we_lack: number } | null; last_error: { code: string; message: string } | null }[];
}

/** Every daemon is connected to every other, no link is faulty, every lag is 0. */
export function linkProblems(states: readonly LinkState[], machineIds: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const s of states) {
    for (const [name, id] of machineIds) {
      if (name === s.node) continue;
      const entries = s.peers.filter((p) => p.machine_id === id);
      const live = entries.find((p) => p.connected);
      if (live === undefined) {
        const err = entries.find((p) => p.last_error !== null)?.last_error;
        problems.push(`${s.node}→${name}: not connected${err === undefined || err === null ? '' : ` (${err.code}: ${err.message.slice(0, 120)})`}`);
      } else if (live.lag === null || live.lag.they_lack !== 0 || live.lag.we_lack !== 0) {
        problems.push(`${s.node}→${name}: lag ${JSON.stringify(live.lag)}`);
      }
    }
    for (const p of s.peers) if (p.faulty) problems.push(`${s.node}→${p.name ?? p.machine_id ?? '?'}: faulty (${p.last_error?.code ?? '?'}: ${p.last_error?.message.slice(0, 120) ?? ''})`);
  }
  return problems;
}

/** p50/p99 of a list (nearest rank), null when empty. */
export function percentiles(xs: readonly number[]): { p50: number | null; p99: number | null; n: number } {
  if (xs.length === 0) return { p50: null, p99: null, n: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), n: s.length };
}
