/**
 * Reading the failures against the fault log, so the report can say where to
 * look: which daemon lacks whose events, and what the nemesis had done to it.
 * A diagnosis is a pointer for a person, not a verdict; the evidence (histories)
 * is in the report beside it.
 */
import { unionOfEvents, type Snapshot } from './final-state.js';
import type { FaultRecord } from './nemesis.js';

/** Per holder, per origin (by node name): how many of the union's events it lacks. */
export function missingMatrix(snaps: readonly Snapshot[]): Record<string, Record<string, number>> {
  const names = new Map(snaps.map((s) => [s.machineId, s.name]));
  const all = unionOfEvents(snaps);
  const out: Record<string, Record<string, number>> = {};
  for (const s of snaps) {
    const row: Record<string, number> = {};
    for (const e of all.values()) {
      if (s.events.has(e.id)) continue;
      const o = names.get(e.origin) ?? e.origin;
      row[o] = (row[o] ?? 0) + 1;
    }
    if (Object.keys(row).length > 0) out[s.name] = row;
  }
  return out;
}

function diskFaults(faults: readonly FaultRecord[], node: string): FaultRecord[] {
  return faults.filter((f) => (f.kind === 'wipe' || f.kind === 'restore') && f.nodes.includes(node));
}

function when(fs: readonly FaultRecord[]): string {
  return fs.map((f) => `${f.kind} at t+${(f.at_ms / 1000).toFixed(1)}s`).join(', ');
}

/** One line per pattern found, each naming the likely area. */
export function diagnose(
  snaps: readonly Snapshot[], faults: readonly FaultRecord[],
  deliveryProblems: readonly { marker: string; session: string; typed: number; why: string }[],
): string[] {
  const lines: string[] = [];
  const matrix = missingMatrix(snaps);
  for (const [holder, row] of Object.entries(matrix)) {
    for (const [origin, n] of Object.entries(row)) {
      const disk = diskFaults(faults, holder);
      const othersHold = Object.entries(matrix).every(([h, r]) => h === holder || (r[origin] ?? 0) === 0);
      if (origin === holder) {
        lines.push(`${holder} lacks ${n} of its OWN events that peers hold${disk.length > 0 ? ` (after ${when(disk)})` : ''}: a wiped or restored database was not refilled from its peers before it appended again — suspect: sync, recovery before append`);
      } else if (othersHold) {
        lines.push(`${holder} lacks ${n} events of ${origin} that every other daemon holds, with every link up: nothing re-sends events below a watermark — suspect: sync, anti-entropy between peers${diskFaults(faults, origin).length > 0 ? ` (${origin} had ${when(diskFaults(faults, origin))})` : ''}`);
      } else {
        lines.push(`${holder} lacks ${n} events of ${origin} (other daemons lack some too) — suspect: sync`);
      }
    }
  }
  const byHost = new Map<string, { dup: number; never: number }>();
  for (const p of deliveryProblems) {
    const host = p.session.split(':')[0]!;
    const c = byHost.get(host) ?? { dup: 0, never: 0 };
    if (p.typed > 1) c.dup += 1;
    else c.never += 1;
    byHost.set(host, c);
  }
  for (const [host, c] of byHost) {
    const disk = diskFaults(faults, host);
    const cause = disk.length > 0
      ? `${host} had ${when(disk)}: its receipts and session appearances went with the disk and were not recovered before delivery resumed — suspect: sync, recovery before append (and delivery waiting for it)`
      : `${host} had no disk fault — suspect: fleet delivery`;
    if (c.dup > 0) lines.push(`${c.dup} copies typed more than once into ${host}'s sessions; ${cause}`);
    if (c.never > 0) lines.push(`${c.never} copies owed to ${host}'s sessions never typed; ${cause}`);
  }
  return lines;
}
