import { describe, expect, it } from 'vitest';
import { growth } from '../../tools/soak/growth.js';
import { loopP99FromMetrics } from '../../tools/soak/soak.js';
import { renderSvg } from '../../tools/soak/plot.js';

const series = (f: (i: number) => number, n = 60): [number, number][] => Array.from({ length: n }, (_, i) => [i * 10_000, f(i)]);

describe('soak verdicts', () => {
  it('a cache that fills and levels off is bounded; a steady climb is not', () => {
    expect(growth(series((i) => 100 + Math.min(i, 15) * 3), 50, 0.25).unbounded).toBe(false);
    expect(growth(series((i) => 120 + (i % 3)), 50, 0.25).unbounded).toBe(false);
    const leak = growth(series((i) => 100 + i * 4), 50, 0.25);
    expect(leak.unbounded).toBe(true);
    expect(leak.delta).toBeGreaterThan(50);
    expect(growth(series((i) => 30 + i), 20, 0.2).unbounded).toBe(true);
  });

  it('too few samples give no verdict rather than a false one', () => {
    expect(growth(series((i) => i * 100, 4), 1, 0).unbounded).toBe(false);
  });

  it('reads the event-loop delay p99 from Prometheus text (seconds → ms)', () => {
    expect(loopP99FromMetrics('# HELP x\nclare_nodejs_eventloop_lag_p99_seconds 0.0123\nclare_up 1\n')).toBeCloseTo(12.3);
    expect(loopP99FromMetrics('clare_up 1\n')).toBeNull();
  });

  it('plots every series, breaks lines at missing values and escapes labels', () => {
    const svg = renderSvg('a <b>', [{ title: 'RSS', unit: 'MB', series: [{ label: 'x&y', points: [[0, 1], [1000, null], [2000, 3], [3000, 4]] }] }], 3000, [[500, 1500]]);
    expect(svg).toContain('a &lt;b&gt;');
    expect(svg).toContain('x&amp;y');
    expect(svg.match(/<polyline/g)?.length).toBe(1);
    expect(svg.match(/<circle/g)?.length).toBe(1);
  });
});
