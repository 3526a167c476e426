/**
 * `npm run soak -- [--minutes 10] [--report FILE] [--plot FILE.svg] [--sessions-per-host 5]
 * [--rate 1] [--offline-every 3] [--offline-s 60] [--sample-s 10]`: see soak.ts and
 * docs/fault-campaign.md. Exits 1 when memory, descriptors or WAL grow without
 * bound, a dashboard misses a write, or the mesh does not converge at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { killEverything } from '../torture/node.js';
import { runSoak, SOAK_DEFAULTS } from './soak.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' }, report: { type: 'string' }, plot: { type: 'string' },
    'sessions-per-host': { type: 'string' }, rate: { type: 'string' }, 'offline-every': { type: 'string' },
    'offline-s': { type: 'string' }, 'sample-s': { type: 'string' }, help: { type: 'boolean' },
  },
  strict: true,
});
if (values.help === true) {
  console.log('npm run soak -- [--minutes 10] [--report test-output/soak-report.json] [--plot soak.svg] [--sessions-per-host 5] [--rate 1] [--offline-every 3] [--offline-s 60] [--sample-s 10]');
  process.exit(0);
}
const num = (name: string, v: string | undefined, d: number): number => {
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`soak: --${name} must be a positive number, not ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killEverything();
    process.exit(130);
  });
}
const report = values.report ?? 'test-output/soak-report.json';
const plot = values.plot ?? report.replace(/\.json$/, '') + '.svg';
try {
  const r = await runSoak({
    minutes: num('minutes', values.minutes, SOAK_DEFAULTS.minutes),
    sessionsPerHost: Math.floor(num('sessions-per-host', values['sessions-per-host'], SOAK_DEFAULTS.sessionsPerHost)),
    rate: num('rate', values.rate, SOAK_DEFAULTS.rate),
    offlineEveryMin: num('offline-every', values['offline-every'], SOAK_DEFAULTS.offlineEveryMin),
    offlineS: num('offline-s', values['offline-s'], SOAK_DEFAULTS.offlineS),
    sampleS: num('sample-s', values['sample-s'], SOAK_DEFAULTS.sampleS),
    log: (l) => console.log(l),
  });
  mkdirSync(dirname(report), { recursive: true });
  mkdirSync(dirname(plot), { recursive: true });
  writeFileSync(plot, r.svg);
  writeFileSync(report, `${JSON.stringify({ ...r, svg: undefined, plot }, null, 2)}\n`);
  console.log(`\nsoak ${r.ok ? 'PASS' : 'FAIL'} — ${r.minutes} min, ${r.daemons.length} daemons, ${r.sessions} sessions, ${r.writes.ok} writes (${r.writes.per_s}/s, ${r.writes.failed} failed)`);
  for (const [n, p] of Object.entries(r.peak)) {
    const g = r.growth[n]!;
    console.log(`  ${n.padEnd(7)} peak RSS ${p.rss_mb} MB (third→third ${g.rss_mb.first?.toFixed(0) ?? '-'}→${g.rss_mb.last?.toFixed(0) ?? '-'}), fds ${p.fds} (${g.fds.first ?? '-'}→${g.fds.last ?? '-'}), WAL ${p.wal_mb} MB, loop p99 ${p.loop_p99_ms ?? '-'} ms, status p99 ${p.status_ms_p99 ?? '-'} ms`);
  }
  const d = r.dashboard_latency_ms;
  console.log(`  write→dashboard: p50 ${d.p50} ms, p99 ${d.p99} ms (n=${d.n}, ${d.timeouts} never shown); event-loop delay: ${r.loop_delay_source}`);
  console.log(`  converged at the end: ${r.converged_at_end}`);
  for (const f of r.failures) console.log(`  FAIL ${f}`);
  console.log(`report: ${report}\nplot: ${plot}`);
  process.exitCode = r.ok ? 0 : 1;
} catch (e) {
  console.error(`soak: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  process.exitCode = 2;
}
