/**
 * The peer list: `peers` in clare.toml is the truth. `clare peer add|remove` edit
 * the file through the daemon (atomically, keeping comments) and the replication
 * service re-reads the list, so changes take effect without a restart.
 */
import { readFileSync } from 'node:fs';
import { parseConfig, peerUrlSchema, setPeersInText, writeFileAtomic } from '../core/config.js';
import { ClareError } from '../core/errors.js';

export class PeerRegistry {
  private peers: string[];

  constructor(private readonly file: string, initial: readonly string[]) {
    this.peers = [...initial];
  }

  list(): readonly string[] {
    return this.peers;
  }

  /** Adds a peer URL; returns false if it was already listed. */
  add(raw: string): boolean {
    const r = peerUrlSchema.safeParse(raw);
    if (!r.success) throw new ClareError('CLARE_VALIDATION', `${JSON.stringify(raw)} is not a peer URL; use http://HOST:PORT, e.g. http://198.18.0.2:8765`, { url: raw });
    if (this.peers.includes(r.data)) return false;
    this.write([...this.peers, r.data]);
    return true;
  }

  /** Removes a peer URL; throws CLARE_NOT_FOUND if it is not listed. */
  remove(raw: string): void {
    const url = raw.replace(/\/+$/, '');
    if (!this.peers.includes(url)) throw new ClareError('CLARE_NOT_FOUND', `peer ${raw} is not in ${this.file}; \`clare peer list\` shows them`, { url: raw });
    this.write(this.peers.filter((p) => p !== url));
  }

  private write(next: string[]): void {
    const text = setPeersInText(readFileSync(this.file, 'utf8'), next);
    // The edited text must still be a valid config; if it is not, the new list is what broke it
    // (the file as it stands parsed at start): refuse it and write nothing.
    try {
      parseConfig(text, this.file);
    } catch (e) {
      throw new ClareError('CLARE_VALIDATION', `that peer list cannot be written to ${this.file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    writeFileAtomic(this.file, text);
    this.peers = next;
  }
}
