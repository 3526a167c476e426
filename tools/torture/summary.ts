/** The one-screen summary a campaign prints at the end. */
import type { CampaignReport } from './campaign.js';
import { formatHistory } from './final-state.js';

export function summaryLines(r: CampaignReport, reportFile: string | null): string[] {
  const out: string[] = [];
  const verdict = r.ok ? 'PASS' : 'FAIL';
  out.push('');
  out.push(`torture ${verdict} — seed ${r.seed}, ${r.duration_s} s, ${r.daemons} daemons${r.legacy === null ? '' : ` + ${r.legacy} (previous release ${r.previous_release.commit.slice(0, 8)})`}`);
  if (!r.previous_release.available) out.push(`!!! old-version fault SKIPPED: ${r.previous_release.reason}`);
  for (const [kind, why] of Object.entries(r.skipped_faults)) if (kind !== 'old-version') out.push(`!!! no ${kind} fault: ${why}`);
  out.push(`faults:  ${Object.entries(r.faults).map(([k, n]) => `${k}×${n}`).join('  ') || 'none'}`);
  const errs = r.fault_log.filter((f) => f.error !== null);
  if (errs.length > 0) out.push(`!!! ${errs.length} fault(s) did not go as planned: ${errs.slice(0, 2).map((f) => `${f.kind} ${f.nodes.join(',')}: ${(f.error ?? '').slice(0, 100)}`).join('; ')}`);
  const answers = Object.entries(r.http).map(([op, by]) => `${op} ${Object.entries(by).map(([s, n]) => `${s}:${n}`).join('/')}`).join('  ');
  out.push(`writes:  ${r.acknowledged} acknowledged, ${r.lost} lost (${r.lost_everywhere} on no daemon), ${r.lost_with_disk} lost with a wiped/restored disk`);
  out.push(`         ${answers}`);
  const c = r.converge_ms;
  out.push(`converge after heals: p50 ${c.p50 ?? '-'} ms, p99 ${c.p99 ?? '-'} ms (n=${c.n}, not converged in time: ${c.censored}, cut short by the next fault: ${c.interrupted}); quiesced ${r.quiesce_ms === null ? 'NO' : `${r.quiesce_ms} ms`} after the final heal`);
  out.push(`peak RSS MB: ${Object.entries(r.peak_rss_mb).map(([n, mb]) => `${n} ${mb}`).join(', ')}`);
  out.push('checks:');
  for (const ch of r.checks) out.push(`  ${ch.ok ? 'ok  ' : 'FAIL'} ${ch.name}: ${ch.summary}`);
  const failed = r.checks.filter((ch) => !ch.ok && ch.history !== undefined && ch.history.length > 0);
  for (const ch of failed.slice(0, 2)) {
    out.push(`shortest history for "${ch.name}" (HLC order):`);
    out.push(...formatHistory(ch.history!, 10));
  }
  if (r.diagnosis.length > 0) {
    out.push('diagnosis (read against the fault log):');
    for (const d of r.diagnosis.slice(0, 6)) out.push(`  - ${d}`);
  }
  if (!r.ok) out.push(`work dir kept: ${r.work_dir} (daemon logs, final databases)`);
  out.push(`reproduce: ${r.reproduce}`);
  if (reportFile !== null) out.push(`report: ${reportFile}`);
  return out;
}
