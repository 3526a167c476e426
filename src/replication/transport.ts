/**
 * The transport the sync engine speaks through: an ordered, reliable stream of
 * text frames between two peers (a WebSocket in production, an in-memory pair in
 * tests). The engine never imports `ws`; adapters implement this interface.
 *
 * Contract (checked by test/helpers/replication-transport-conformance.ts):
 * - `whenReady` resolves once frames can be sent, or rejects (with a ClareError)
 *   if the connection failed before it opened;
 * - frames arrive in the order sent, each exactly once, intact;
 * - `send` after close is a silent no-op, never a throw;
 * - every close (local, remote, or broken link) fires `onClose` listeners exactly once;
 * - a listener that throws does not escape into the socket's callback: the
 *   transport closes with 1011 and reports the error to `onListenerError`.
 */
import type { ClareError } from '../core/errors.js';

/** How a connection ended. `code` 1006 means it broke without a close frame. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  /** True when this side called `close()`. */
  readonly local: boolean;
  /** Set when the transport itself ended the link for a coded reason (e.g. CLARE_TOO_LARGE: a frame over its bound). */
  readonly error?: ClareError;
}

export interface Transport {
  /** Resolves when frames can be sent; rejects if the connection never opened. */
  readonly whenReady: Promise<void>;
  /** Queues one text frame; a no-op once closing or closed. */
  send(frame: string): void;
  /** Starts a clean close; `onClose` fires when it is done. Idempotent. */
  close(code: number, reason: string): void;
  /** Adds a listener for each inbound frame; returns the remover. */
  onMessage(listener: (frame: string) => void): () => void;
  /** Adds a listener for the end of the connection; returns the remover. */
  onClose(listener: (info: CloseInfo) => void): () => void;
  /** True until the connection has closed (or started closing). */
  readonly isOpen: boolean;
  /** Bytes handed to `send` and not yet written out (a peer that stops reading makes this grow). */
  readonly bufferedAmount: number;
}

/** Where an inbound connection came from, for logs and status. */
export interface RemoteInfo {
  readonly address?: string;
}

/**
 * Listener bookkeeping shared by the adapters: dispatch never throws, and close
 * listeners fire exactly once. Subclasses call `emitMessage` / `emitClose`.
 */
export abstract class TransportBase implements Transport {
  abstract readonly whenReady: Promise<void>;
  abstract readonly isOpen: boolean;
  abstract readonly bufferedAmount: number;
  abstract send(frame: string): void;
  abstract close(code: number, reason: string): void;

  private readonly messageListeners = new Set<(frame: string) => void>();
  private readonly closeListeners = new Set<(info: CloseInfo) => void>();
  private closedInfo: CloseInfo | null = null;

  /** Called when a listener throws; the default drops the error (the transport closes anyway). */
  onListenerError: (err: unknown) => void = () => undefined;

  onMessage(listener: (frame: string) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  onClose(listener: (info: CloseInfo) => void): () => void {
    if (this.closedInfo !== null) {
      // Late subscriber: still hears the end, but never synchronously inside the call.
      const info = this.closedInfo;
      queueMicrotask(() => this.safeCall(() => listener(info)));
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  protected get closed(): boolean {
    return this.closedInfo !== null;
  }

  protected emitMessage(frame: string): void {
    if (this.closedInfo !== null) return;
    for (const l of this.messageListeners) {
      if (!this.safeCall(() => l(frame))) {
        this.close(1011, 'internal error');
        return;
      }
    }
  }

  protected emitClose(info: CloseInfo): void {
    if (this.closedInfo !== null) return;
    this.closedInfo = info;
    const ls = [...this.closeListeners];
    this.closeListeners.clear();
    this.messageListeners.clear();
    for (const l of ls) this.safeCall(() => l(info));
  }

  private safeCall(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      try {
        this.onListenerError(e);
      } catch {
        // The error reporter itself failed; nothing sensible is left to do.
      }
      return false;
    }
  }
}
