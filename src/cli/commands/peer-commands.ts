import type { Argv } from 'yargs';
import type { PeerStatus } from '../../server/ports.js';
import { api, daemonTarget } from '../client.js';
import { ago, printJson, printTable } from '../output.js';
import { run } from '../run.js';

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
        printTable(['URL', 'NAME', 'STATE', 'LAST ERROR'], ps.map((p) => [
          p.url, p.status?.name ?? '-',
          p.status === null ? 'not connected' : p.status.faulty ? 'FAULTY' : p.status.connected ? `up ${ago(p.status.since)}` : `down ${ago(p.status.since)}`,
          p.status?.last_error?.message ?? '-',
        ]), 'no peers: clare peer add http://HOST:PORT');
      }))
    .demandCommand(1, 'clare peer: say add, remove or list');
}
