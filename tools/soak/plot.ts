/**
 * The soak's plot: one SVG with a panel per measure (time in minutes across),
 * a line per daemon or dashboard, and the laptop's offline windows shaded.
 * Hand-written SVG: a few polylines need no plotting library.
 */
export interface Series {
  readonly label: string;
  /** [ms since start, value]; null values break the line. */
  readonly points: readonly (readonly [number, number | null])[];
}

export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly Series[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const W = 960;
const H = 170;
const PAD = { l: 70, r: 160, t: 26, b: 26 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Renders the panels stacked; `shade` lists [fromMs, toMs] windows (the laptop offline). */
export function renderSvg(title: string, panels: readonly Panel[], durationMs: number, shade: readonly (readonly [number, number])[]): string {
  const total = panels.length * (H + 10) + 40;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${total}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${total}" fill="#fff"/>`, `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`];
  const pw = W - PAD.l - PAD.r;
  const ph = H - PAD.t - PAD.b;
  const tMax = Math.max(durationMs, 1);
  panels.forEach((p, i) => {
    const y0 = 40 + i * (H + 10);
    const values = p.series.flatMap((s) => s.points.map(([, v]) => v).filter((v): v is number => v !== null));
    const vMax = niceMax(values.length === 0 ? 1 : Math.max(...values));
    const x = (t: number): number => PAD.l + (t / tMax) * pw;
    const y = (v: number): number => y0 + PAD.t + ph - (v / vMax) * ph;
    out.push(`<g><text x="${PAD.l}" y="${y0 + 16}" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`);
    for (const [a, b] of shade) out.push(`<rect x="${x(a).toFixed(1)}" y="${y0 + PAD.t}" width="${Math.max(1, x(b) - x(a)).toFixed(1)}" height="${ph}" fill="#eee"/>`);
    out.push(`<rect x="${PAD.l}" y="${y0 + PAD.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    for (const f of [0, 0.5, 1]) out.push(`<text x="${PAD.l - 6}" y="${(y(vMax * f) + 4).toFixed(1)}" text-anchor="end">${+(vMax * f).toFixed(2)}</text>`);
    const minutes = Math.max(1, Math.round(tMax / 60_000));
    const step = Math.max(1, Math.ceil(minutes / 10));
    for (let m = 0; m <= minutes; m += step) out.push(`<text x="${x(m * 60_000).toFixed(1)}" y="${y0 + H - 8}" text-anchor="middle">${m}m</text>`);
    p.series.forEach((s, j) => {
      const color = COLORS[j % COLORS.length]!;
      let seg: string[] = [];
      const flush = (): void => {
        if (seg.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${seg.join(' ')}"/>`);
        else if (seg.length === 1) out.push(`<circle cx="${seg[0]!.split(',')[0]}" cy="${seg[0]!.split(',')[1]}" r="1.5" fill="${color}"/>`);
        seg = [];
      };
      for (const [t, v] of s.points) {
        if (v === null) flush();
        else seg.push(`${x(t).toFixed(1)},${y(Math.min(v, vMax)).toFixed(1)}`);
      }
      flush();
      out.push(`<rect x="${W - PAD.r + 12}" y="${y0 + PAD.t + j * 14}" width="10" height="3" fill="${color}"/><text x="${W - PAD.r + 26}" y="${y0 + PAD.t + j * 14 + 5}">${esc(s.label)}</text>`);
    });
    out.push('</g>');
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
