import { describe, expect, it } from 'vitest';
import { buildSchedule, REQUIRED_KINDS } from '../../tools/torture/schedule.js';

const shape = { durationMs: 120_000, nodes: ['t0', 't1', 't2', 't3', 't4'], legacy: 'tl', maxSkewMs: 2000, clock: true };

describe('nemesis schedule', () => {
  it('is a function of the seed: the same seed gives the same schedule, another seed another', () => {
    const a = buildSchedule({ seed: 42, ...shape });
    expect(buildSchedule({ seed: 42, ...shape })).toEqual(a);
    expect(buildSchedule({ seed: 43, ...shape })).not.toEqual(a);
  });

  it('injects every required kind in a two-minute run, one track-A fault at a time, all healed before the end', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const s = buildSchedule({ seed, ...shape });
      const kinds = new Set(s.episodes.map((e) => e.kind));
      for (const k of REQUIRED_KINDS) expect(kinds, `seed ${seed} lacks ${k}`).toContain(k);
      expect(s.skipped).toEqual({});
      const trackA = s.episodes.filter((e) => e.kind !== 'frames');
      for (let i = 1; i < trackA.length; i++) expect(trackA[i]!.at_ms).toBeGreaterThanOrEqual(trackA[i - 1]!.at_ms + trackA[i - 1]!.hold_ms);
      for (const e of s.episodes) expect(e.at_ms + e.hold_ms).toBeLessThanOrEqual(shape.durationMs);
    }
  });

  it('steps clocks within and beyond the skew bound, and restores from a backup taken earlier', () => {
    const s = buildSchedule({ seed: 7, ...shape });
    for (const e of s.episodes) {
      if (e.kind === 'clock-within') expect(Math.abs(e.offset_ms!)).toBeLessThan(shape.maxSkewMs);
      if (e.kind === 'clock-beyond') expect(Math.abs(e.offset_ms!)).toBeGreaterThan(shape.maxSkewMs);
      if (e.kind === 'restore') expect(e.backup_at_ms!).toBeLessThan(e.at_ms);
    }
  });

  it('--only keeps to the chosen kinds', () => {
    const s = buildSchedule({ seed: 3, ...shape, only: ['kill', 'frames'] });
    expect(new Set(s.episodes.map((e) => e.kind))).toEqual(new Set(['kill', 'frames']));
    expect(buildSchedule({ seed: 3, ...shape, only: ['frames'] }).episodes.every((e) => e.kind === 'frames')).toBe(true);
  });

  it('says which faults it could not do, and why', () => {
    const s = buildSchedule({ seed: 1, ...shape, legacy: null, clock: false });
    expect(s.episodes.some((e) => e.kind === 'old-version' || e.kind.startsWith('clock'))).toBe(false);
    expect(Object.keys(s.skipped).sort()).toEqual(['clock-beyond', 'clock-within', 'old-version']);
  });
});
