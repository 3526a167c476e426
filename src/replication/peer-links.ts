/**
 * The machines a peer says it is directly connected to (its hello and `links`
 * frames). Events of an origin the peer is linked to need not be relayed to it:
 * the origin sends them itself.
 */
import type { LinksMsg } from '../protocol/sync/links.js';

export class PeerLinks {
  private links: ReadonlySet<string> = new Set();
  private rev = 0;

  /** The peer's links from its hello (revision 0). */
  reset(links: readonly string[]): void {
    this.links = new Set(links);
  }

  /** Takes a `links` frame; false if it is older than one already taken (overtaken on the link). */
  update(msg: LinksMsg): boolean {
    if (msg.rev <= this.rev) return false;
    this.rev = msg.rev;
    this.links = new Set(msg.links);
    return true;
  }

  has(origin: string): boolean {
    return this.links.has(origin);
  }

  /** The machines the peer says it is linked to, sorted (status shows them: relayed reachability). */
  list(): string[] {
    return [...this.links].sort();
  }

  /** How many machines the peer is linked to (remote calls try better-linked neighbours first). */
  get size(): number {
    return this.links.size;
  }
}
