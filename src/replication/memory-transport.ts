/**
 * An in-memory connected pair of transports for tests. Frames are delivered on
 * microtasks, never timers, so tests are fast and deterministic; fault hooks
 * duplicate frames, reorder them within a bounded window, stall the link, or
 * drop the connection abruptly.
 *
 * Reordering is measured in microtask hops: a held-back frame lands up to
 * `reorderWindow` hops late, so later frames can overtake it, but it is never
 * lost and never lands after the close. The first frame in each direction (the
 * `hello`) is never held back: a real stream opens with it.
 */
import { TransportBase } from './transport.js';

export interface MemoryFaults {
  /** Deliver this frame twice. `index` counts frames sent in this direction, from 0. */
  readonly duplicate?: (frame: string, index: number) => boolean;
  /** Hold this frame back so later frames may overtake it. */
  readonly reorder?: (frame: string, index: number) => boolean;
  /** Largest delay of a held-back frame, in microtask hops (default 4). */
  readonly reorderWindow?: number;
  /** Break the connection (code 1006 on both ends) instead of delivering this frame. */
  readonly dropBefore?: (frame: string, index: number) => boolean;
}

export interface MemoryPairOptions {
  /** Faults on frames sent by `a` (delivered to `b`). */
  readonly aToB?: MemoryFaults;
  /** Faults on frames sent by `b` (delivered to `a`). */
  readonly bToA?: MemoryFaults;
  /** Source of randomness for reorder delays (default Math.random). */
  readonly random?: () => number;
}

export interface MemoryPair {
  readonly a: MemoryTransport;
  readonly b: MemoryTransport;
  /** Breaks the connection: both ends see code 1006; frames in flight are lost. */
  drop(): void;
  /** Silently stops delivering frames either way (a dead link no close reports). */
  stall(): void;
}

/** Runs `fn` after `hops` microtask hops (at least one). */
function afterHops(hops: number, fn: () => void): void {
  if (hops <= 1) queueMicrotask(fn);
  else queueMicrotask(() => afterHops(hops - 1, fn));
}

interface Link {
  dropped: boolean;
  stalled: boolean;
}

/** One end of an in-memory pair. */
export class MemoryTransport extends TransportBase {
  readonly whenReady: Promise<void> = Promise.resolve();
  peer: MemoryTransport | null = null;
  /** Bytes sent into a stalled link: never delivered, as a peer that stopped reading. */
  bufferedAmount = 0;
  private sent = 0;
  private closing = false;

  constructor(
    private readonly link: Link,
    private readonly faults: MemoryFaults,
    private readonly random: () => number,
    private readonly onDrop: () => void,
  ) {
    super();
  }

  get isOpen(): boolean {
    return !this.closing && !this.closed;
  }

  send(frame: string): void {
    if (!this.isOpen || this.link.dropped) return;
    const index = this.sent++;
    const f = this.faults;
    if (f.dropBefore?.(frame, index) === true) {
      this.onDrop();
      return;
    }
    const window = Math.max(1, f.reorderWindow ?? 4);
    const hops = index > 0 && f.reorder?.(frame, index) === true ? 2 + Math.floor(this.random() * window) : 1;
    this.deliver(frame, hops);
    if (f.duplicate?.(frame, index) === true) this.deliver(frame, hops + 1);
  }

  close(code: number, reason: string): void {
    if (!this.isOpen) return;
    this.closing = true;
    const peer = this.peer;
    // Lands after every frame already sent, held-back and duplicated ones included.
    const hops = 3 + Math.max(1, this.faults.reorderWindow ?? 4);
    afterHops(hops, () => {
      if (this.link.dropped) return;
      // A stalled link carries nothing, the close frame included.
      if (!this.link.stalled) peer?.emitClose({ code, reason, local: false });
      this.emitClose({ code, reason, local: true });
    });
  }

  /** Ends this side as a broken link would (used by `drop`). */
  breakLink(): void {
    this.closing = true;
    queueMicrotask(() => this.emitClose({ code: 1006, reason: '', local: false }));
  }

  private deliver(frame: string, hops: number): void {
    const peer = this.peer;
    if (this.link.stalled) this.bufferedAmount += Buffer.byteLength(frame);
    afterHops(hops, () => {
      if (this.link.dropped || this.link.stalled || peer === null) return;
      peer.receive(frame);
    });
  }

  private receive(frame: string): void {
    this.emitMessage(frame);
  }
}

/** Creates two transports connected to each other. */
export function createMemoryPair(opts: MemoryPairOptions = {}): MemoryPair {
  const link: Link = { dropped: false, stalled: false };
  const random = opts.random ?? Math.random;
  const drop = (): void => {
    if (link.dropped) return;
    link.dropped = true;
    a.breakLink();
    b.breakLink();
  };
  const a = new MemoryTransport(link, opts.aToB ?? {}, random, drop);
  const b = new MemoryTransport(link, opts.bToA ?? {}, random, drop);
  a.peer = b;
  b.peer = a;
  return {
    a,
    b,
    drop,
    stall: () => {
      link.stalled = true;
    },
  };
}
