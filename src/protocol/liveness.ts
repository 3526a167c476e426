/**
 * Whether a host is heard from, judged from the mesh's links first and its events
 * second. One function for the status document (server) and the Fleet view
 * (dashboard), so the two never disagree.
 *
 * What must stay true:
 * - a host with an open link to us (direct), or named in the `links` of a peer we
 *   hold an open link to (relayed: that peer hears it at least every keepalive), is
 *   reachable and never silent, however long it has written no event;
 * - otherwise it is silent once `silentAfterMs` have passed since the last thing
 *   anything carried from it: a frame on a link to it (batch, ack, ping, pong) or
 *   the newest event of its origin we hold;
 * - a host we know nothing of in time (no link ever, no event) is not called silent;
 * - this machine's own host is never silent.
 */

/** How a host is reached now: over a link of ours, through a peer's link, or not at all. */
export type Reach = 'self' | 'direct' | 'relayed' | null;

export interface HostLiveness {
  readonly reach: Reach;
  /** ISO time of the last frame or event carried from it (null: none known). */
  readonly lastHeard: string | null;
  readonly silent: boolean;
}

/** What liveness reads of a peer's status line. */
export interface PeerLinkView {
  readonly machine_id: string | null;
  readonly connected: boolean;
  readonly last_heard: string | null;
  readonly links: readonly string[];
}

/** What liveness reads of a machine heard from. */
export interface MachineView {
  readonly machine_id: string;
  readonly name: string | null;
  readonly last_event_at: string | null;
}

const later = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : Date.parse(a) >= Date.parse(b) ? a : b);

/**
 * The liveness of every host named by `machines` (by machine name), keyed by name.
 * O(peers × links + machines).
 */
export function hostLiveness(
  machines: Iterable<MachineView>, peers: readonly PeerLinkView[], selfId: string, now: number, silentAfterMs: number,
): Map<string, HostLiveness> {
  // When each machine was last heard, directly or through a peer that stated a link to
  // it; a disconnected peer still tells when we last heard it, and what it was linked to then.
  const heard = new Map<string, string | null>();
  const up = new Set<string>();
  const through = new Set<string>();
  for (const p of peers) {
    if (p.machine_id === null) continue;
    heard.set(p.machine_id, later(heard.get(p.machine_id) ?? null, p.last_heard));
    for (const m of p.links) heard.set(m, later(heard.get(m) ?? null, p.last_heard));
    if (!p.connected) continue;
    up.add(p.machine_id);
    for (const m of p.links) through.add(m);
  }
  const out = new Map<string, HostLiveness>();
  for (const m of machines) {
    if (m.name === null) continue;
    const reach: Reach = m.machine_id === selfId ? 'self' : up.has(m.machine_id) ? 'direct' : through.has(m.machine_id) ? 'relayed' : null;
    const lastHeard = later(m.last_event_at, heard.get(m.machine_id) ?? null);
    const silent = reach === null && lastHeard !== null && now - Date.parse(lastHeard) > silentAfterMs;
    const prev = out.get(m.name);
    // Two machines under one name (a reinstall): the better reached one speaks for the host.
    if (prev === undefined || (prev.silent && !silent) || (prev.reach === null && reach !== null)) out.set(m.name, { reach, lastHeard, silent });
  }
  return out;
}
