/**
 * Test harness for replication: in-memory stores, nodes running a real
 * ReplicationService, and an in-memory network that connects them (with
 * partitions and per-link fault injection). No timers drive delivery; tests wait
 * on conditions with deadlines.
 */
import { ClareError } from '../../src/core/errors.js';
import { commitLocal, type StoreContext } from '../../src/core/context.js';
import { digest } from '../../src/core/digest.js';
import type { EventEnvelope } from '../../src/core/events/envelope.js';
import { formatHlc } from '../../src/core/hlc.js';
import { newMachineId, newProjectId, uuidv7, type EventId, type MachineId } from '../../src/core/ids.js';
import { silentLogger, type Logger } from '../../src/core/log.js';
import { Recovery, WriteGate } from '../../src/core/recovery.js';
import { eventCount } from '../../src/core/store.js';
import { createMemoryPair, type MemoryFaults, type MemoryPair } from '../../src/replication/memory-transport.js';
import type { RemoteCalls } from '../../src/replication/remote-calls.js';
import { ReplicationService, type Connector } from '../../src/replication/replication-service.js';
import { TransportBase, type CloseInfo, type Transport } from '../../src/replication/transport.js';
import type { SyncTuning } from '../../src/replication/tuning.js';
import { memoryContext } from './memory-context.js';
import { waitFor } from './wait-for.js';

/** Timers small enough for tests, still with the production logic. */
export const FAST_TUNING: Partial<SyncTuning> = {
  backoffMinMs: 2,
  backoffMaxMs: 40,
  keepaliveMs: 50,
  deadAfterMs: 400,
  handshakeTimeoutMs: 2000,
  peerRefreshMs: 1000,
};


/** Commits `n` local project.created events (in transactions of `perCommit`). */
export function writeProjects(ctx: StoreContext, n: number, label = 'p', perCommit = 1): void {
  for (let i = 0; i < n; i += perCommit) {
    const k = Math.min(perCommit, n - i);
    commitLocal(ctx, Array.from({ length: k }, (_, j) => ({
      type: 'project.created' as const,
      payload: { project_id: newProjectId(), name: `${label}-${i + j}`, path: null, description: '', weight: 1 },
    })));
  }
}

/** A valid envelope from `origin` at wall time `ms` (for hand-made frames). */
export function makeEvent(origin: MachineId, ms: number, counter = 0, name = 'hand-made'): EventEnvelope {
  return {
    id: uuidv7(ms) as EventId,
    hlc: formatHlc({ ms, counter, machine: origin }),
    origin,
    type: 'project.created',
    v: 1,
    payload: { project_id: newProjectId(), name, path: null, description: '', weight: 1 },
  };
}

/** A transport that never opens (a refused TCP connection). */
class RefusedTransport extends TransportBase {
  readonly whenReady: Promise<void>;
  readonly isOpen = false;
  readonly bufferedAmount = 0;
  constructor(url: string) {
    super();
    this.whenReady = Promise.reject(new ClareError('CLARE_PEER', `cannot connect to ${url}: ECONNREFUSED`));
    this.whenReady.catch(() => undefined);
    queueMicrotask(() => this.emitClose({ code: 1006, reason: '', local: false }));
  }
  send(): void {}
  close(): void {}
}

export interface NodeOptions {
  readonly name: string;
  /** Names of the nodes this one dials (mutable through `node.peers`). */
  readonly peers?: readonly string[];
  readonly tuning?: Partial<SyncTuning>;
  readonly now?: () => number;
  readonly log?: Logger;
  /** Protocol versions the node offers (default: all; [1] makes it a previous-release peer). */
  readonly versions?: readonly number[];
  /** The machine id (default: a new one); reuse one to bring a wiped machine back. */
  readonly machineId?: MachineId;
  /** Start recovering this machine's own events (as the daemon does for a wiped database). */
  readonly recovering?: boolean;
  /** Remote fleet calls carried by the node's links (remote-calls.ts). */
  readonly calls?: RemoteCalls;
}

export interface TestNode {
  readonly name: string;
  readonly url: string;
  readonly ctx: StoreContext;
  readonly machineId: MachineId;
  /** Names of the peers it dials; edit then call `service.reloadPeers()`. */
  peers: string[];
  service: ReplicationService;
  /** The recovery the node started with, if any. */
  readonly recovery: Recovery | null;
}

const key = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

/** An in-memory network of nodes: name → node, with partitions and per-link faults. */
export class MemoryNetwork {
  readonly nodes = new Map<string, TestNode>();
  private readonly blocked = new Set<string>();
  private readonly pairs = new Map<string, Set<MemoryPair>>();
  /** Faults for links opened from now on, per direction of dialing. */
  faults: { dialer?: MemoryFaults; acceptor?: MemoryFaults } = {};
  random: () => number = Math.random;

  /** Creates a node (service not yet running). */
  add(opts: NodeOptions): TestNode {
    const base = memoryContext({ ...(opts.now ? { now: opts.now } : {}), ...(opts.machineId ? { machineId: opts.machineId } : {}) });
    const ctx: StoreContext = { ...base, gate: new WriteGate() };
    const recovery = opts.recovering === true ? new Recovery(ctx.db, ctx.gate!, 'test: a wiped machine', opts.log ?? silentLogger) : null;
    const url = `http://${opts.name}.test:8765`;
    const node: TestNode = {
      name: opts.name, url, ctx, machineId: ctx.clock.machine, peers: [...(opts.peers ?? [])],
      service: undefined as unknown as ReplicationService, recovery,
    };
    node.service = new ReplicationService({
      ctx, machineId: ctx.clock.machine, name: opts.name,
      peers: () => node.peers.map((p) => `http://${p}.test:8765`),
      log: opts.log ?? silentLogger,
      connect: this.connector(opts.name),
      tuning: { ...FAST_TUNING, ...opts.tuning },
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.versions ? { versions: opts.versions } : {}),
      ...(opts.calls ? { calls: opts.calls } : {}),
      recovery,
    });
    this.nodes.set(opts.name, node);
    return node;
  }

  node(name: string): TestNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  /** Cuts the link between two nodes (existing connections drop; new ones are refused). */
  block(a: string, b: string): void {
    this.blocked.add(key(a, b));
    for (const p of this.pairs.get(key(a, b)) ?? []) p.drop();
  }

  unblock(a: string, b: string): void {
    this.blocked.delete(key(a, b));
  }

  /** Drops every current connection between two nodes (they reconnect). */
  dropLinks(a: string, b: string): number {
    const ps = this.pairs.get(key(a, b)) ?? new Set();
    for (const p of ps) p.drop();
    return ps.size;
  }

  /** Silently stops every current link between two nodes (a dead link only keepalive can notice). */
  stallLinks(a: string, b: string): number {
    const ps = this.pairs.get(key(a, b)) ?? new Set();
    for (const p of ps) p.stall();
    return ps.size;
  }

  /** The connector node `from` dials with. */
  connector(from: string): Connector {
    return (socketUrl: string): Transport => {
      const host = new URL(socketUrl).hostname.replace(/\.test$/, '');
      const target = this.nodes.get(host);
      if (target === undefined || this.blocked.has(key(from, host))) return new RefusedTransport(socketUrl);
      const pair = createMemoryPair({
        ...(this.faults.dialer ? { aToB: this.faults.dialer } : {}),
        ...(this.faults.acceptor ? { bToA: this.faults.acceptor } : {}),
        random: this.random,
      });
      const k = key(from, host);
      const set = this.pairs.get(k) ?? new Set<MemoryPair>();
      this.pairs.set(k, set);
      set.add(pair);
      pair.a.onClose(() => set.delete(pair));
      target.service.acceptInbound(pair.b, { address: from });
      return pair.a;
    };
  }

  async startAll(): Promise<void> {
    for (const n of this.nodes.values()) await n.service.run();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.service.stop()));
    for (const n of this.nodes.values()) n.ctx.db.close();
  }
}

/** Waits until every node holds `total` events, then returns their digests. */
export async function waitConverged(nodes: readonly TestNode[], total: number, timeoutMs = 15_000): Promise<string[]> {
  await waitFor(() => `${nodes.length} nodes to hold ${total} events (now ${nodes.map((n) => `${n.name}=${eventCount(n.ctx.db)}`).join(' ')})`,
    () => nodes.every((n) => eventCount(n.ctx.db) === total), timeoutMs);
  return nodes.map((n) => digest(n.ctx.db));
}

/** Runs `f` and returns the ClareError it throws; fails the test if it throws nothing or something else. */
export function refusal(f: () => unknown): ClareError {
  try {
    f();
  } catch (e) {
    if (e instanceof ClareError) return e;
    throw e;
  }
  throw new Error('expected a refusal (a ClareError), got none');
}

/** A deterministic pseudo-random source (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The far end of an inbound connection, driven by hand: sends raw frames, records what comes back. */
export interface RawPeer {
  readonly machineId: MachineId;
  readonly frames: Record<string, unknown>[];
  readonly closed: Promise<CloseInfo>;
  send(frame: unknown): void;
  /** A valid v1 hello from this raw peer. */
  hello(over?: Record<string, unknown>): Record<string, unknown>;
  /** Resolves with the first received frame of `type`. */
  next(type: string): Promise<Record<string, unknown>>;
}

/** Connects a hand-driven peer to `service` as an inbound connection. */
export function connectRawPeer(service: ReplicationService, machineId: MachineId = newMachineId()): RawPeer {
  const pair = createMemoryPair();
  const frames: Record<string, unknown>[] = [];
  const closed = new Promise<CloseInfo>((resolve) => pair.a.onClose(resolve));
  pair.a.onMessage((f) => frames.push(JSON.parse(f) as Record<string, unknown>));
  service.acceptInbound(pair.b, { address: 'raw' });
  return {
    machineId,
    frames,
    closed,
    send: (frame) => pair.a.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    hello: (over = {}) => ({
      type: 'hello', versions: [1], machine_id: machineId, name: 'raw', now_ms: Date.now(), watermarks: {}, counts: {}, links: [], ...over,
    }),
    next: async (type) => {
      await waitFor(`a ${type} frame`, () => frames.some((f) => f.type === type), 5000);
      return frames.find((f) => f.type === type)!;
    },
  };
}
