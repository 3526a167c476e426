import type { Argv } from 'yargs';
import { ClareError } from '../../core/errors.js';
import type { PeerStatus } from '../../protocol/status.js';
import type { ConvergenceReport, RunResult } from '../../protocol/sync-run.js';
import { api, daemonTarget } from '../client.js';
import { ago } from '../../protocol/time.js';
import { printJson, printTable, short } from '../output.js';
import { exitAfterOutput, run } from '../run.js';

export function peerCommands(y: Argv<{ json: boolean }>): Argv<{ json: boolean }> {
  return y
    .command('add <url>', 'Add a peer (edits clare.toml; takes effect at once)', (c) => c.positional('url', { type: 'string', demandOption: true, describe: 'e.g. http://198.18.0.2:8765' }),
      (a) => run(a, async () => {
        const r = await api<{ url: string; added: boolean }>(await daemonTarget(), 'POST', '/peers', { url: a.url });
        if (a.json) return printJson(r);
        process.stdout.write(r.added ? `added peer ${r.url}\n` : `${r.url} is already a peer\n`);
      }))
    .command('remove <url>', 'Remove a peer', (c) => c.positional('url', { type: 'string', demandOption: true }),
      (a) => run(a, async () => {
        const r = await api<{ url: string; removed: boolean }>(await daemonTarget(), 'DELETE', `/peers?url=${encodeURIComponent(a.url)}`);
        if (a.json) return printJson(r);
        process.stdout.write(`removed peer ${r.url}\n`);
      }))
    .command('list', 'Configured peers and their state', (c) => c,
      (a) => run(a, async () => {
        const ps = await api<{ url: string; status: PeerStatus | null }[]>(await daemonTarget(), 'GET', '/peers');
        if (a.json) return printJson(ps);
        const ids = ps.flatMap((p) => (p.status?.machine_id == null ? [] : [p.status.machine_id]));
        printTable(['URL', 'NAME', 'MACHINE', 'STATE', 'LAST ERROR'], ps.map((p) => [
          p.url, p.status?.name ?? '-', short(p.status?.machine_id, ids),
          p.status === null ? 'not connected' : p.status.faulty ? 'FAULTY' : p.status.connected ? `up since ${ago(p.status.since)}` : `down since ${ago(p.status.since)}`,
          p.status?.last_error?.message ?? '-',
        ]), 'no peers: clare peer add http://HOST:PORT');
      }))
    .demandCommand(1, 'clare peer: say add, remove or list');
}

type CheckPeer = ConvergenceReport['peers'][number];

/** One line per peer of `clare sync --check`: what agrees and what does not. */
function checkVerdict(p: CheckPeer): string {
  if (!p.reachable) return `unreachable: ${p.error ?? ''}`;
  const bad: string[] = [];
  if (p.events_equal === false) bad.push(`EVENTS DIFFER${p.differing_origins.length > 0 ? ` (origins ${p.differing_origins.map((o) => short(o, p.differing_origins)).join(', ')})` : ''}`);
  if (p.projections_equal === false) bad.push('PROJECTIONS DIFFER');
  if (p.divergence !== null) bad.push(`DIVERGED ${p.divergence}`);
  if (bad.length > 0) return bad.join('; ');
  return p.events_equal === null ? 'same projections (protocol 1 peer: events not compared)' : 'same events and projections';
}

/** `clare sync [PEER] [--check | --skip-recovery]`: one HTTP catch-up round, a convergence check, or ending recovery. */
export function syncCommand(y: Argv<{ json: boolean }>): Argv<{ json: boolean }> {
  return y.command('sync [peer]', 'One HTTP catch-up round (pull and push) with all peers or one; --check compares what every peer holds', (c) => c
    .positional('peer', { type: 'string', describe: 'a configured peer\'s name or URL (with a mesh token set, configured peers only)' })
    .option('check', { type: 'boolean', default: false, describe: 'only report whether every reachable peer holds the same events and projections (exit 11 if not)' })
    .option('skip-recovery', { type: 'boolean', default: false, describe: 'stop waiting for this machine\'s own events from its peers and accept writes (when no peer will ever have them)' })
    .check((x) => (x.check && x.skipRecovery ? '--check and --skip-recovery do different things: give one' : true)),
  (a) => run(a, async () => {
    const target = await daemonTarget();
    if (a.skipRecovery) {
      const r = await api<{ recovering: boolean; outcome: string | null }>(target, 'POST', '/sync/recovery/skip', {});
      if (a.json) return printJson(r);
      process.stdout.write(r.outcome === null ? 'this daemon was not recovering\n' : `not recovering: ${r.outcome}\n`);
      return;
    }
    if (a.check) {
      const c = await api<ConvergenceReport>(target, 'GET', '/sync/check');
      if (a.json) printJson(c);
      else {
        printTable(['PEER', 'NAME', 'EVENTS', 'EVENTS DIGEST', 'VERDICT'], [
          ['(this machine)', c.self.name, String(c.self.event_count), c.self.events_digest.slice(0, 12), '-'],
          ...c.peers.map((p) => [p.peer, p.name ?? '-', p.event_count === null ? '-' : String(p.event_count), p.events_digest?.slice(0, 12) ?? '-', checkVerdict(p)]),
        ]);
      }
      if (!c.converged) {
        const diverged = c.peers.some((p) => p.divergence !== null || p.events_equal === false);
        return exitAfterOutput(new ClareError('CLARE_PEER', !c.peers.some((p) => p.reachable) ? 'no peer is reachable'
          : diverged ? 'not converged: some peers hold different events (replication may still be catching up; a DIVERGED link is reconciling or needs attention, see clare status)'
            : 'not converged: some reachable peers differ (replication may still be catching up)'));
      }
      if (!a.json) process.stdout.write('converged: every reachable peer holds the same events and projections\n');
      return;
    }
    const rs = await api<RunResult[]>(target, 'POST', '/sync/run', a.peer === undefined ? {} : { peer: a.peer });
    if (a.json) printJson(rs);
    else printTable(['PEER', 'NAME', 'PULLED', 'PUSHED', 'ALREADY HAD', 'MS', 'ERROR'], rs.map((r) => [
      r.peer, r.name ?? '-', String(r.pulled), String(r.pushed), `${r.pulled_known}/${r.pushed_known}`, String(Math.round(r.ms)), r.error === null ? '-' : `${r.error.code}: ${r.error.message}`,
    ]));
    const failed = rs.filter((r) => !r.ok);
    if (failed.length > 0) exitAfterOutput(new ClareError('CLARE_PEER', `sync failed with ${failed.map((f) => f.peer).join(', ')}`));
  }));
}
