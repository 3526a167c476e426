/**
 * Requests a session sends and the answers that settle them, matched by `id`
 * (anti-entropy's `sum_req` → `sum`, `range_req` → `range`). Anti-entropy waits
 * for each answer before it asks again, so at most a handful are open; each has a
 * deadline, and all are rejected when the session ends.
 */
import { ClareError } from '../core/errors.js';

interface Open<T> {
  readonly kind: string;
  readonly resolve: (answer: T) => void;
  readonly reject: (err: ClareError) => void;
  readonly timer: NodeJS.Timeout;
}

export class Requests<T extends { readonly type: string; readonly id: number }> {
  private nextId = 1;
  private readonly open = new Map<number, Open<T>>();

  constructor(private readonly timeoutMs: number) {}

  /**
   * Sends a request through `send` (given the id to put in it) and resolves with
   * the answer of type `answerType`. Rejects with CLARE_PEER after the deadline.
   */
  ask<A extends T>(answerType: A['type'], send: (id: number) => void): Promise<A> {
    const id = this.nextId++;
    return new Promise<A>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.open.delete(id);
        reject(new ClareError('CLARE_PEER', `no ${answerType} answer to request ${id} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      this.open.set(id, { kind: answerType, resolve: resolve as (a: T) => void, reject, timer });
      send(id);
    });
  }

  /** Settles the request the answer names; false when there is none of its kind (a protocol error). */
  answer(msg: T): boolean {
    const o = this.open.get(msg.id);
    if (o === undefined || o.kind !== msg.type) return false;
    this.open.delete(msg.id);
    clearTimeout(o.timer);
    o.resolve(msg);
    return true;
  }

  /** Rejects every open request (the session ended). */
  rejectAll(err: ClareError): void {
    for (const o of this.open.values()) {
      clearTimeout(o.timer);
      o.reject(err);
    }
    this.open.clear();
  }
}
