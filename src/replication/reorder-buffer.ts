/**
 * Inbound batches that arrived ahead of a missing earlier `seq` (a reordering
 * link), held back until their turn. Held as frame text, parsed again when due:
 * their bytes are what is bounded, and a peer that keeps sending early batches is
 * refused once either bound is passed.
 */
import { ClareError } from '../core/errors.js';
import type { BatchMsg } from '../protocol/sync/batch.js';
import { parseFrame } from '../protocol/sync/frame.js';

/** Inbound batches held back while an earlier seq is missing; their bytes are bounded too. */
export const MAX_PENDING_BATCHES = 16;

export class ReorderBuffer {
  private readonly pending = new Map<number, string>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /**
   * Holds batch `seq` (its frame `text` of `bytes` bytes) until `missing` has
   * arrived. A duplicate of one already held is ignored. Returns the refusal when
   * holding it would pass a bound (nothing is held then), else null.
   */
  hold(seq: number, text: string, bytes: number, missing: number): ClareError | null {
    if (this.pending.has(seq)) return null;
    if (this.pending.size >= MAX_PENDING_BATCHES) return new ClareError('CLARE_PROTOCOL', `batch ${missing} missing while ${this.pending.size} later ones wait`);
    if (this.bytes + bytes > this.maxBytes) {
      return new ClareError('CLARE_TOO_LARGE', `batch ${missing} missing while ${this.bytes + bytes} bytes of later ones would wait (limit ${this.maxBytes})`,
        { bytes: this.bytes + bytes, limit: this.maxBytes });
    }
    this.pending.set(seq, text);
    this.bytes += bytes;
    return null;
  }

  /** The held-back batch `seq`, parsed again (it passed the same parse when it arrived), or undefined. */
  take(seq: number): BatchMsg | undefined {
    const text = this.pending.get(seq);
    if (text === undefined) return undefined;
    this.pending.delete(seq);
    this.bytes -= Buffer.byteLength(text);
    const p = parseFrame(text);
    return p.ok && p.value.type === 'batch' ? p.value : undefined;
  }

  /** Drops everything held (the link closed: nothing of the peer's stays pinned). */
  clear(): void {
    this.pending.clear();
    this.bytes = 0;
  }
}
