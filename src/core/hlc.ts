/**
 * Hybrid logical clock.
 *
 * Wire format: `<ms since epoch, 15 digits>:<counter, 5 digits>:<machine_id>`.
 * Fixed widths make plain byte order equal HLC order, so SQLite's TEXT ordering
 * (BINARY collation) and JS string comparison both sort events by HLC; the machine
 * id last breaks ties between machines deterministically.
 *
 * Invariants: `tick()` returns strictly increasing stamps for this machine even when
 * the wall clock steps back; `receive()` never moves our clock past a remote stamp
 * that is more than `maxSkewMs` ahead of our wall clock.
 */
import { ClareError } from './errors.js';
import type { Hlc, MachineId } from '../protocol/ids.js';
import { isUuid, trustedHlc, trustedMachineId } from '../protocol/ids.js';
import { HLC_RE, isHlc } from '../protocol/values.js';

export type { Hlc } from '../protocol/ids.js';
export { isHlc };

export interface HlcParts {
  /** Milliseconds since the Unix epoch (the physical part). */
  readonly ms: number;
  /** Logical counter within one millisecond, 0..MAX_COUNTER. */
  readonly counter: number;
  readonly machine: MachineId;
}

const MS_DIGITS = 15;
const COUNTER_DIGITS = 5;
export const MAX_COUNTER = 99_999;
export const DEFAULT_MAX_SKEW_MS = 60_000;

/** The smallest possible HLC: sorts before every real stamp ("nothing seen yet"). */
export const HLC_ZERO = trustedHlc(`${'0'.repeat(MS_DIGITS)}:${'0'.repeat(COUNTER_DIGITS)}:`);

export function formatHlc(p: HlcParts): Hlc {
  return trustedHlc(`${String(p.ms).padStart(MS_DIGITS, '0')}:${String(p.counter).padStart(COUNTER_DIGITS, '0')}:${p.machine}`);
}

/** Parses a wire HLC; throws CLARE_HLC_FORMAT naming the bad value. */
export function parseHlc(s: string): HlcParts {
  const m = HLC_RE.exec(s);
  const machine = m?.[3];
  if (m === null || machine === undefined || !isUuid(machine)) {
    throw new ClareError('CLARE_HLC_FORMAT', `malformed HLC ${JSON.stringify(s.slice(0, 80))}: expected <15-digit ms>:<5-digit counter>:<machine uuid>`);
  }
  return { ms: Number(m[1]), counter: Number(m[2]), machine: trustedMachineId(machine) };
}

/** Casts a string already known to be a valid HLC (e.g. read back from our own store). */
export function asHlc(s: string): Hlc {
  parseHlc(s);
  return trustedHlc(s);
}

export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function maxHlc<T extends string>(a: T, b: T): T {
  return a >= b ? a : b;
}

export { hlcMs } from '../protocol/time.js';

export interface ClockOptions {
  readonly machine: MachineId;
  /** Wall clock in ms; injectable so tests can step it backwards. */
  readonly now?: () => number;
  readonly maxSkewMs?: number;
}

/** A machine's hybrid logical clock. Holds state only in memory; seed it from the store. */
export class HybridClock {
  readonly machine: MachineId;
  readonly maxSkewMs: number;
  private readonly now: () => number;
  private ms = 0;
  private counter = 0;

  constructor(opts: ClockOptions) {
    this.machine = opts.machine;
    this.now = opts.now ?? Date.now;
    this.maxSkewMs = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  }

  /** The last stamp issued or observed (HLC_ZERO before any). */
  peek(): Hlc {
    return this.ms === 0 && this.counter === 0 ? HLC_ZERO : formatHlc({ ms: this.ms, counter: this.counter, machine: this.machine });
  }

  /** A new stamp for a local event, strictly greater than every stamp seen so far. */
  tick(): Hlc {
    const wall = this.now();
    if (wall > this.ms) {
      this.ms = wall;
      this.counter = 0;
    } else {
      this.bumpCounter();
    }
    return formatHlc({ ms: this.ms, counter: this.counter, machine: this.machine });
  }

  /**
   * Merges a remote stamp so later local stamps sort after it. A stamp more than
   * `maxSkewMs` ahead of our wall clock is refused (CLARE_HLC_SKEW) and leaves the
   * clock untouched, so one peer with a broken clock cannot drag the mesh forward.
   */
  receive(remote: Hlc): void {
    const r = parseHlc(remote);
    this.checkSkew(r);
    const wall = this.now();
    const ms = Math.max(this.ms, r.ms, wall);
    if (ms === this.ms && ms === r.ms) {
      this.counter = Math.max(this.counter, r.counter);
      this.bumpCounter();
    } else if (ms === this.ms) {
      this.bumpCounter();
    } else if (ms === r.ms) {
      this.ms = ms;
      this.counter = r.counter;
      this.bumpCounter();
    } else {
      this.ms = ms;
      this.counter = 0;
    }
  }

  /** Throws CLARE_HLC_SKEW when `remote` is too far ahead of our wall clock. */
  checkSkew(r: HlcParts): void {
    const offset = r.ms - this.now();
    if (offset > this.maxSkewMs) {
      throw new ClareError(
        'CLARE_HLC_SKEW',
        `clock of machine ${r.machine} is ${offset} ms ahead of ours (limit ${this.maxSkewMs} ms); fix its clock (NTP) or raise [mesh] max_clock_skew_ms`,
        { origin: r.machine, offset_ms: offset, max_skew_ms: this.maxSkewMs },
      );
    }
  }

  /** Moves the clock up to a stamp from our own store at start-up (no skew check: it is ours). */
  seed(stored: Hlc): void {
    const r = parseHlc(stored);
    if (r.ms > this.ms || (r.ms === this.ms && r.counter > this.counter)) {
      this.ms = r.ms;
      this.counter = r.counter;
    }
  }

  // Counter overflow borrows the next millisecond: order stays total and monotonic.
  private bumpCounter(): void {
    if (this.counter >= MAX_COUNTER) {
      this.ms += 1;
      this.counter = 0;
    } else {
      this.counter += 1;
    }
  }
}
