/**
 * A controllable TCP proxy that understands WebSocket framing, put between two
 * daemons: peer A's config lists the proxy's port instead of B's, so every byte
 * A's dialer sends to B passes here. The nemesis turns the proxy's knobs:
 *
 * - `partition: 'reset'`: open connections are cut and new ones refused (a host
 *   that answers with RST); `'stall'`: nothing moves in either direction and new
 *   connections hang (packets dropped; TCP would retransmit), until healed — then
 *   everything held is delivered in order, as TCP would after a short outage.
 * - `frames`: on upgraded connections, whole WebSocket messages are delayed
 *   (order kept), held back at random so later ones overtake them (reordered), or
 *   sent twice (duplicated). The first message of each direction (the protocol's
 *   hello) is never reordered or duplicated: a real link cannot move a frame
 *   ahead of the handshake, and the protocol rightly refuses that. Control frames
 *   (close, ping, pong) keep their place: everything held is flushed before them.
 *
 * Plain HTTP on the same port is passed through untouched. The proxy holds no
 * protocol knowledge beyond RFC 6455 framing; it never parses Clare's frames
 * except to count them.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type PartitionMode = 'none' | 'reset' | 'stall';

export interface FrameFaults {
  /** Every message waits this long before it is forwarded (ms); order is kept. */
  readonly delayMs?: number;
  /** Probability that a message is held back by up to `reorderMs`, letting later ones pass. */
  readonly reorderP?: number;
  readonly reorderMs?: number;
  /** Probability that a message is forwarded twice (the copy after up to `duplicateMs`). */
  readonly duplicateP?: number;
  readonly duplicateMs?: number;
}

export interface ProxyCounters {
  connections: number;
  refused: number;
  messages: number;
  delayed: number;
  reordered: number;
  duplicated: number;
  bytes: number;
}

export interface ProxyOptions {
  /** The daemon behind the proxy. */
  readonly targetPort: number;
  readonly targetHost?: string;
  /** Seeded randomness for the frame faults (so a seed reproduces its choices). */
  readonly random: () => number;
  readonly label: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;

/** One complete WebSocket message (one or more frames up to FIN), as raw bytes. */
interface Unit {
  readonly bytes: Buffer;
  readonly control: boolean;
}

/**
 * Splits a byte stream into WebSocket units. Returns the units found and the
 * unconsumed rest. Fragmented messages (FIN=0 then continuations) stay one unit.
 */
export function splitFrames(buf: Buffer, partial: Buffer[]): { units: Unit[]; rest: Buffer; partial: Buffer[] } {
  const units: Unit[] = [];
  let off = 0;
  let frags = partial;
  for (;;) {
    if (buf.length - off < 2) break;
    const b0 = buf[off]!;
    const b1 = buf[off + 1]!;
    let len = b1 & 0x7f;
    let hdr = 2;
    if (len === 126) {
      if (buf.length - off < 4) break;
      len = buf.readUInt16BE(off + 2);
      hdr = 4;
    } else if (len === 127) {
      if (buf.length - off < 10) break;
      len = Number(buf.readBigUInt64BE(off + 2));
      hdr = 10;
    }
    if ((b1 & 0x80) !== 0) hdr += 4;
    if (buf.length - off < hdr + len) break;
    const frame = buf.subarray(off, off + hdr + len);
    off += hdr + len;
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if (opcode >= 0x8) {
      units.push({ bytes: Buffer.from(frame), control: true });
      continue;
    }
    frags = [...frags, Buffer.from(frame)];
    if (fin) {
      units.push({ bytes: Buffer.concat(frags), control: false });
      frags = [];
    }
  }
  return { units, rest: buf.subarray(off), partial: frags };
}

/** One direction of one proxied connection. */
class Pipe {
  private head = true;
  private frames = false;
  private pending: Buffer = Buffer.alloc(0);
  private partial: Buffer[] = [];
  private dataUnits = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private held: Buffer[] = [];

  constructor(
    private readonly proxy: WsProxy,
    private readonly dst: Socket,
    /** Client → server: the request head says whether frames follow. */
    private readonly upstream: boolean,
    private readonly peerPipe: () => Pipe | null,
  ) {}

  /** Bytes from the source socket. */
  push(chunk: Buffer): void {
    this.proxy.counters.bytes += chunk.length;
    if (!this.head && !this.frames) return this.out(chunk);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.head) {
      const end = this.pending.indexOf(HEAD_END);
      if (end < 0) {
        if (this.pending.length > MAX_HEAD_BYTES) {
          this.head = false;
          this.out(this.pending);
          this.pending = Buffer.alloc(0);
        }
        return;
      }
      const headText = this.pending.subarray(0, end).toString('latin1');
      this.out(this.pending.subarray(0, end + 4));
      this.pending = this.pending.subarray(end + 4);
      this.head = false;
      if (this.upstream) this.frames = /\r\nupgrade:\s*websocket/i.test(headText);
      else this.frames = /^HTTP\/1\.1 101/.test(headText);
      if (!this.upstream && !this.frames) this.peerPipe()?.stopFraming();
      if (!this.frames) {
        if (this.pending.length > 0) this.out(this.pending);
        this.pending = Buffer.alloc(0);
        return;
      }
    }
    const r = splitFrames(this.pending, this.partial);
    this.pending = Buffer.from(r.rest);
    this.partial = r.partial;
    for (const u of r.units) this.route(u);
  }

  /** The server answered without upgrading: the rest of this connection is plain bytes. */
  stopFraming(): void {
    if (!this.frames) return;
    this.frames = false;
    if (this.pending.length > 0) this.out(this.pending);
    this.pending = Buffer.alloc(0);
  }

  private route(u: Unit): void {
    const f = this.proxy.faults;
    if (u.control) {
      // Control frames keep their place: what was held back goes first.
      this.flushHeld();
      this.out(u.bytes);
      return;
    }
    this.proxy.counters.messages += 1;
    const first = this.dataUnits === 0;
    this.dataUnits += 1;
    const rnd = this.proxy.random;
    const delay = f.delayMs ?? 0;
    if (!first && (f.reorderP ?? 0) > 0 && rnd() < f.reorderP!) {
      this.proxy.counters.reordered += 1;
      this.later(u.bytes, delay + 1 + Math.floor(rnd() * (f.reorderMs ?? 200)));
    } else if (delay > 0) {
      this.proxy.counters.delayed += 1;
      this.later(u.bytes, delay);
    } else {
      this.out(u.bytes);
    }
    if (!first && (f.duplicateP ?? 0) > 0 && rnd() < f.duplicateP!) {
      this.proxy.counters.duplicated += 1;
      this.later(u.bytes, delay + Math.floor(rnd() * (f.duplicateMs ?? 100)));
    }
  }

  private later(bytes: Buffer, ms: number): void {
    this.held.push(bytes);
    const t = setTimeout(() => {
      this.timers.delete(t);
      const i = this.held.indexOf(bytes);
      if (i < 0) return; // flushed already
      this.held.splice(i, 1);
      this.out(bytes);
    }, ms);
    this.timers.add(t);
  }

  private flushHeld(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const h = this.held;
    this.held = [];
    for (const b of h) this.out(b);
  }

  private out(bytes: Buffer): void {
    this.proxy.write(this.dst, bytes);
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.held = [];
  }
}

interface Conn {
  readonly client: Socket;
  upstream: Socket | null;
  toServer: Pipe | null;
  toClient: Pipe | null;
  /** Client bytes that arrived before the upstream was connected (stalled or connecting). */
  early: Buffer[];
}

/** The proxy. `listen()` first; `close()` when done. */
export class WsProxy {
  readonly counters: ProxyCounters = { connections: 0, refused: 0, messages: 0, delayed: 0, reordered: 0, duplicated: 0, bytes: 0 };
  faults: FrameFaults = {};
  readonly random: () => number;
  private partitionMode: PartitionMode = 'none';
  private server: Server | null = null;
  private readonly conns = new Set<Conn>();
  /** Writes held while stalled, per socket, in order. */
  private readonly stalled = new Map<Socket, Buffer[]>();
  port = 0;

  constructor(private readonly o: ProxyOptions) {
    this.random = o.random;
  }

  get label(): string {
    return this.o.label;
  }

  get partition(): PartitionMode {
    return this.partitionMode;
  }

  async listen(port = 0): Promise<number> {
    const server = createServer((c) => this.accept(c));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const a = server.address();
    this.port = typeof a === 'object' && a !== null ? a.port : 0;
    return this.port;
  }

  /** Sets the partition state; healing a stall delivers what was held, in order. */
  setPartition(mode: PartitionMode): void {
    const was = this.partitionMode;
    this.partitionMode = mode;
    if (mode === 'reset') {
      for (const c of [...this.conns]) this.drop(c);
    }
    if (was === 'stall' && mode !== 'stall') {
      for (const c of [...this.conns]) if (c.upstream === null) this.dialUpstream(c);
      for (const [sock, bufs] of this.stalled) {
        this.stalled.delete(sock);
        if (mode === 'none') for (const b of bufs) if (!sock.destroyed) sock.write(b);
      }
    }
  }

  setFaults(f: FrameFaults): void {
    this.faults = f;
  }

  /** Forwards bytes unless stalled (then they wait for the heal). */
  write(dst: Socket, bytes: Buffer): void {
    if (dst.destroyed) return;
    if (this.partitionMode === 'stall') {
      const q = this.stalled.get(dst) ?? [];
      q.push(Buffer.from(bytes));
      this.stalled.set(dst, q);
      return;
    }
    dst.write(bytes);
  }

  private accept(client: Socket): void {
    if (this.partitionMode === 'reset') {
      this.counters.refused += 1;
      client.resetAndDestroy();
      return;
    }
    this.counters.connections += 1;
    const c: Conn = { client, upstream: null, toServer: null, toClient: null, early: [] };
    this.conns.add(c);
    client.on('data', (d: Buffer) => {
      if (c.toServer === null) c.early.push(d);
      else c.toServer.push(d);
    });
    client.on('error', () => this.drop(c));
    client.on('close', () => this.drop(c));
    if (this.partitionMode !== 'stall') this.dialUpstream(c);
  }

  private dialUpstream(c: Conn): void {
    if (c.upstream !== null || c.client.destroyed) return;
    const up = connect({ port: this.o.targetPort, host: this.o.targetHost ?? '127.0.0.1' });
    c.upstream = up;
    up.on('connect', () => {
      c.toServer = new Pipe(this, up, true, () => c.toClient);
      c.toClient = new Pipe(this, c.client, false, () => c.toServer);
      for (const d of c.early.splice(0)) c.toServer.push(d);
    });
    up.on('data', (d: Buffer) => c.toClient?.push(d));
    up.on('error', () => this.drop(c));
    up.on('close', () => this.drop(c));
  }

  private drop(c: Conn): void {
    if (!this.conns.delete(c)) return;
    c.toServer?.dispose();
    c.toClient?.dispose();
    this.stalled.delete(c.client);
    if (c.upstream !== null) this.stalled.delete(c.upstream);
    // A reset partition looks like RST to both ends; a normal close just ends.
    if (this.partitionMode === 'reset') {
      c.client.resetAndDestroy();
      c.upstream?.resetAndDestroy();
    } else {
      c.client.destroy();
      c.upstream?.destroy();
    }
  }

  /** Open proxied connections now. */
  get open(): number {
    return this.conns.size;
  }

  async close(): Promise<void> {
    for (const c of [...this.conns]) this.drop(c);
    const s = this.server;
    this.server = null;
    if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
