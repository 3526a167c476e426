/**
 * The nemesis schedule: a pure function of the seed and the run's shape, so the
 * same seed gives the same faults at the same offsets on the same nodes (printed
 * at the start of a run and kept in the report).
 *
 * Two tracks run side by side. Track A holds the faults that change a process,
 * a disk, a clock or the network's shape — one episode at a time (inject, hold,
 * heal, a gap), so each heal has a well-defined "converged after" time. Track B
 * disturbs frames on some links (delay, reorder, duplicate) independently, so
 * frame faults also land during kills and partitions.
 */
import { seededRandom } from '../../test/helpers/replication-harness.js';

export type FaultKind = 'kill' | 'partition' | 'clock-within' | 'clock-beyond' | 'wipe' | 'restore' | 'old-version' | 'frames';

/** Every kind a long enough run injects at least once. */
export const REQUIRED_KINDS: readonly FaultKind[] = ['kill', 'partition', 'clock-within', 'clock-beyond', 'wipe', 'restore', 'old-version', 'frames'];

export type FrameMode = 'delay' | 'reorder' | 'duplicate' | 'mixed';

export interface Episode {
  /** Offset from the start of the writes (ms). */
  readonly at_ms: number;
  readonly kind: FaultKind;
  /** How long the fault lasts before it is healed (ms). */
  readonly hold_ms: number;
  /** Nodes it applies to (by name); a partition's first side. */
  readonly nodes: readonly string[];
  /** Partition: the other side. Frames: the links, as "a~b" pairs. */
  readonly other?: readonly string[];
  readonly partition_mode?: 'reset' | 'stall';
  /** Clock faults: the step (ms, signed). */
  readonly offset_ms?: number;
  /** Restore: when the backup is taken (ms from the start of the writes). */
  readonly backup_at_ms?: number;
  readonly frame_mode?: FrameMode;
}

export interface ScheduleInput {
  readonly seed: number;
  readonly durationMs: number;
  /** Names of the nodes that run all along. */
  readonly nodes: readonly string[];
  /** The node that starts on the previous release, or null when that fault is unavailable. */
  readonly legacy: string | null;
  readonly maxSkewMs: number;
  /** Whether clocks can be stepped (libfaketime present). */
  readonly clock: boolean;
  /** Only these kinds (all when absent), e.g. to study one subsystem. */
  readonly only?: readonly FaultKind[];
}

export interface Schedule {
  readonly episodes: readonly Episode[];
  /** Kinds a run of this length had no room for (or could not do), with why. */
  readonly skipped: Readonly<Partial<Record<FaultKind, string>>>;
}

/** First fault after this long (ms): the mesh has written something by then. */
const WARMUP_MS = 3000;

export function buildSchedule(input: ScheduleInput): Schedule {
  const rnd = seededRandom(input.seed);
  const between = (lo: number, hi: number): number => Math.round(lo + rnd() * (hi - lo));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const shuffle = <T>(xs: readonly T[]): T[] => {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
  const skew = input.maxSkewMs;
  const end = input.durationMs;
  const episodes: Episode[] = [];
  const skipped: Partial<Record<FaultKind, string>> = {};

  const make = (kind: FaultKind, at: number): Episode => {
    switch (kind) {
      case 'kill':
        return { at_ms: at, kind, hold_ms: between(500, 4000), nodes: [pick(input.nodes)] };
      case 'partition': {
        const order = shuffle(input.nodes);
        const size = rnd() < 0.5 ? 1 : Math.floor(order.length / 2);
        return { at_ms: at, kind, hold_ms: between(3000, 9000), nodes: order.slice(0, size), other: order.slice(size), partition_mode: rnd() < 0.5 ? 'reset' : 'stall' };
      }
      case 'clock-within': {
        const sign = rnd() < 0.5 ? -1 : 1;
        return { at_ms: at, kind, hold_ms: between(4000, 8000), nodes: [pick(input.nodes)], offset_ms: sign * between(skew * 0.3, skew * 0.7) };
      }
      case 'clock-beyond': {
        const sign = rnd() < 0.6 ? 1 : -1;
        return { at_ms: at, kind, hold_ms: between(4000, 8000), nodes: [pick(input.nodes)], offset_ms: sign * between(skew * 1.5, skew * 3) };
      }
      case 'wipe':
        return { at_ms: at, kind, hold_ms: between(500, 2000), nodes: [pick(input.nodes)] };
      case 'restore':
        return { at_ms: at, kind, hold_ms: between(500, 2000), nodes: [pick(input.nodes)], backup_at_ms: Math.max(WARMUP_MS - 1000, at - between(3000, 8000)) };
      case 'old-version':
        return { at_ms: at, kind, hold_ms: between(8000, 14_000), nodes: [input.legacy!] };
      case 'frames':
        throw new Error('frames episodes are on track B');
    }
  };

  // Track A: every required kind once (in a seeded order), then random kinds while time lasts.
  const clockKinds: readonly FaultKind[] = ['clock-within', 'clock-beyond'];
  const chosen = (k: FaultKind): boolean => input.only === undefined || input.only.includes(k);
  const possible = (k: FaultKind): boolean => k !== 'frames' && chosen(k) && (k !== 'old-version' || input.legacy !== null) && (input.clock || !clockKinds.includes(k));
  const trackA: FaultKind[] = shuffle(REQUIRED_KINDS.filter(possible));
  for (const k of REQUIRED_KINDS) if (!chosen(k)) skipped[k] = 'not chosen (--only)';
  if (input.legacy === null && chosen('old-version')) skipped['old-version'] = 'the previous release is not available (see the report\'s previous_release)';
  if (!input.clock) for (const k of clockKinds) if (chosen(k)) skipped[k] = 'libfaketime is not installed';
  const repeatable: FaultKind[] = (['kill', 'partition', 'partition', 'clock-within', 'clock-beyond', 'wipe', 'restore', 'kill'] as const).filter(possible);
  let t = WARMUP_MS;
  let i = 0;
  for (;;) {
    if (i >= trackA.length && repeatable.length === 0) break;
    const kind = i < trackA.length ? trackA[i]! : pick(repeatable);
    const e = make(kind, t);
    if (e.at_ms + e.hold_ms > end) {
      for (const k of trackA.slice(i)) if (!episodes.some((x) => x.kind === k)) skipped[k] ??= `a ${Math.round(end / 1000)} s run had no room for it`;
      break;
    }
    episodes.push(e);
    t = e.at_ms + e.hold_ms + between(1000, 3000);
    i++;
  }

  // Track B: frame faults on random links.
  const links: string[] = [];
  for (let a = 0; a < input.nodes.length; a++) for (let b = a + 1; b < input.nodes.length; b++) links.push(`${input.nodes[a]}~${input.nodes[b]}`);
  let tb = WARMUP_MS + between(0, 2000);
  while (chosen('frames')) {
    const hold = between(3000, 8000);
    if (tb + hold > end) break;
    const chosen = rnd() < 0.3 ? links : shuffle(links).slice(0, Math.max(1, Math.floor(links.length / 3)));
    episodes.push({ at_ms: tb, kind: 'frames', hold_ms: hold, nodes: [], other: chosen, frame_mode: pick(['delay', 'reorder', 'duplicate', 'mixed'] as const) });
    tb += hold + between(2000, 6000);
  }
  if (chosen('frames') && !episodes.some((e) => e.kind === 'frames')) skipped.frames = `a ${Math.round(end / 1000)} s run had no room for it`;
  episodes.sort((x, y) => x.at_ms - y.at_ms);
  return { episodes, skipped };
}

/** One line per episode, for the console and the report. */
export function describeEpisode(e: Episode): string {
  const at = `t+${(e.at_ms / 1000).toFixed(1)}s`;
  const hold = `${(e.hold_ms / 1000).toFixed(1)}s`;
  switch (e.kind) {
    case 'partition':
      return `${at} partition (${e.partition_mode}) [${e.nodes.join(',')}] | [${(e.other ?? []).join(',')}] for ${hold}`;
    case 'frames':
      return `${at} frames ${e.frame_mode} on ${(e.other ?? []).length} link(s) ${(e.other ?? []).join(' ')} for ${hold}`;
    case 'clock-within':
    case 'clock-beyond':
      return `${at} ${e.kind} ${e.nodes.join(',')} by ${e.offset_ms! > 0 ? '+' : ''}${e.offset_ms} ms for ${hold}`;
    case 'restore':
      return `${at} restore ${e.nodes.join(',')} from an online backup taken ${((e.at_ms - e.backup_at_ms!) / 1000).toFixed(1)} s before (down ${hold})`;
    default:
      return `${at} ${e.kind} ${e.nodes.join(',')} (${hold})`;
  }
}
