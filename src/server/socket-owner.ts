/**
 * Which user is on the other end of a loopback connection. Loopback is not a trust
 * boundary: every user of the machine can connect to 127.0.0.1. On Linux the kernel
 * lists every TCP socket of this network namespace in /proc/net/tcp and
 * /proc/net/tcp6 with the uid that owns it; the client end of a loopback
 * connection is the row whose local address is the connection's remote end and
 * whose remote address is our end. Its uid is the user who opened the connection.
 *
 * Why this can be trusted: the uid of a socket is set by the kernel when the socket
 * is made (only root can change it); the row exists from the moment the client's
 * connect() completes — before we accept — until the client closes; and the
 * 4-tuple cannot belong to another socket while our end is open. Closed client
 * sockets (TIME_WAIT rows carry uid 0 and no inode) and anything we cannot read
 * count as "not our user": the answer fails closed, and such a client needs the
 * mesh token like any other.
 *
 * The verdict is read once per connection, when it is accepted, and cached.
 */
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from '../core/log.js';

/** One end of a TCP connection. */
export interface SocketEnd {
  readonly address: string;
  readonly port: number;
}

/** One row of /proc/net/tcp[6], addresses as canonical keys (see `addressKey`). */
export interface TcpRow {
  readonly local: SocketEnd;
  readonly remote: SocketEnd;
  /** TCP state (1 ESTABLISHED … 6 TIME_WAIT … 10 LISTEN). */
  readonly state: number;
  readonly uid: number;
  readonly inode: number;
}

const TCP_TIME_WAIT = 6;
const MAPPED_PREFIX = '00000000000000000000ffff';

/**
 * A canonical key of an IP address: 32 hex digits of its 16 bytes, IPv4 as
 * IPv4-mapped IPv6 (so `127.0.0.1` and `::ffff:127.0.0.1` are one address).
 * Null for what is not an IP address.
 */
export function addressKey(address: string): string | null {
  const a = address.replace(/%.*$/, '').toLowerCase();
  if (isIPv4(a)) return MAPPED_PREFIX + a.split('.').map((n) => Number(n).toString(16).padStart(2, '0')).join('');
  if (!isIPv6(a)) return null;
  let text = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4 !== undefined) {
    // Four parts: the pattern has them.
    const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = v4.split('.').map(Number);
    text = `${text.slice(0, -v4.length)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, null];
  const h = head === '' ? [] : head.split(':');
  const t = tail === null || tail === '' ? [] : tail.split(':');
  const groups = tail === null ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return null;
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/** A /proc address (hex words in host byte order) as a canonical key. */
function procAddressKey(hex: string, littleEndian: boolean): string | null {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return null;
  // Whole words and bytes: the length is 8 or 32 hex digits (checked above).
  const words = (hex.match(/.{8}/g) ?? []).map((w) => {
    const bytes = w.match(/../g) ?? [];
    return (littleEndian ? bytes.reverse() : bytes).join('');
  });
  const key = words.join('').toLowerCase();
  return hex.length === 8 ? MAPPED_PREFIX + key : key;
}

function procEnd(field: string | undefined, littleEndian: boolean): SocketEnd | null {
  if (field === undefined) return null;
  const colon = field.lastIndexOf(':');
  const address = procAddressKey(field.slice(0, colon), littleEndian);
  const port = Number.parseInt(field.slice(colon + 1), 16);
  return address === null || !Number.isInteger(port) ? null : { address, port };
}

/** Parses the rows of /proc/net/tcp or /proc/net/tcp6 text (the header line is skipped). */
export function parseProcNetTcp(text: string, littleEndian: boolean = endianness() === 'LE'): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = procEnd(f[1], littleEndian);
    const remote = procEnd(f[2], littleEndian);
    const state = Number.parseInt(f[3] ?? '', 16);
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    if (local === null || remote === null || !Number.isInteger(uid) || !Number.isInteger(inode)) continue;
    rows.push({ local, remote, state, uid, inode });
  }
  return rows;
}

/**
 * The uid owning the client socket of the connection client → server, from rows of
 * /proc/net/tcp*, or null when there is no live row (closed, TIME_WAIT) or the rows
 * disagree.
 */
export function clientSocketUid(rows: readonly TcpRow[], client: SocketEnd, server: SocketEnd): number | null {
  const ck = addressKey(client.address);
  const sk = addressKey(server.address);
  if (ck === null || sk === null) return null;
  const uids = new Set<number>();
  for (const r of rows) {
    if (r.local.port !== client.port || r.remote.port !== server.port || r.local.address !== ck || r.remote.address !== sk) continue;
    if (r.state === TCP_TIME_WAIT || r.inode === 0) continue;
    uids.add(r.uid);
  }
  const [only] = uids;
  return uids.size === 1 && only !== undefined ? only : null;
}

/** The socket facts the verdict needs (a net.Socket has them). */
export interface ConnectionEnds {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

export interface SocketOwnerOptions {
  /** The uid whose connections are "this machine's own user" (the daemon's). */
  readonly uid: number;
  readonly log: Logger;
  /** Reads a /proc table; tests give fixed text. Default: the file. */
  readonly readTable?: (file: string) => Promise<string>;
  readonly littleEndian?: boolean;
}

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'] as const;

/** Tells, per connection, whether its client is the daemon's own user. */
export class SocketOwners {
  private readonly verdicts = new WeakMap<object, Promise<boolean>>();
  private readonly readTable: (file: string) => Promise<string>;
  private warned = false;

  constructor(private readonly opts: SocketOwnerOptions) {
    this.readTable = opts.readTable ?? ((f) => readFile(f, 'utf8'));
  }

  /** Whether the client of `socket` is our user; read once per socket, then cached. Never rejects. */
  isOwnUser(socket: ConnectionEnds & object): Promise<boolean> {
    let v = this.verdicts.get(socket);
    if (v === undefined) {
      v = this.read(socket);
      this.verdicts.set(socket, v);
    }
    return v;
  }

  private async read(s: ConnectionEnds): Promise<boolean> {
    const { remoteAddress, remotePort, localAddress, localPort } = s;
    if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined || localPort === undefined) return false;
    try {
      // An IPv4 client (plain or as seen by a dual-stack server) is usually an AF_INET socket,
      // listed in tcp; ::1 is in tcp6. Read the likely table first, the other only if needed.
      const v4 = isIPv4(remoteAddress) || remoteAddress.toLowerCase().startsWith('::ffff:');
      const client = { address: remoteAddress, port: remotePort };
      const server = { address: localAddress, port: localPort };
      for (const table of v4 ? TABLES : [...TABLES].reverse()) {
        const text = await this.readTable(table).catch((e: NodeJS.ErrnoException) => {
          // A kernel without IPv6 has no tcp6 table; without the IPv4 one we know nothing.
          if (table === '/proc/net/tcp6' && e.code === 'ENOENT') return '';
          throw e;
        });
        const uid = clientSocketUid(parseProcNetTcp(text, this.opts.littleEndian), client, server);
        if (uid !== null) return uid === this.opts.uid;
      }
      return false;
    } catch (e) {
      if (!this.warned) {
        this.warned = true;
        this.opts.log.error('cannot tell which user a loopback connection belongs to (is /proc mounted?); such connections need the mesh token', { err: e });
      }
      return false;
    }
  }
}
