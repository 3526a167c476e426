/**
 * "Does it grow without bound?" over a soak's samples: after a warm-up, compare
 * the median of the last third with the median of the first third. Memory may
 * rise while caches fill (SQLite's page cache is 64 MiB); a leak keeps rising,
 * and over minutes that shows as the last third sitting well above the first.
 */
export interface Growth {
  readonly first: number | null;
  readonly last: number | null;
  /** last − first. */
  readonly delta: number | null;
  readonly unbounded: boolean;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Samples are [t, value]; the first `warmup` fraction is ignored. Growth is
 * unbounded when the last third's median exceeds the first third's by more than
 * both `absTol` and `relTol` × the first.
 */
export function growth(samples: readonly (readonly [number, number])[], absTol: number, relTol: number, warmup = 0.3): Growth {
  const kept = samples.slice(Math.floor(samples.length * warmup)).map(([, v]) => v);
  const third = Math.floor(kept.length / 3);
  if (third < 2) return { first: null, last: null, delta: null, unbounded: false };
  const first = median(kept.slice(0, third))!;
  const last = median(kept.slice(kept.length - third))!;
  const delta = last - first;
  return { first, last, delta, unbounded: delta > absTol && delta > relTol * first };
}
