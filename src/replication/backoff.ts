/**
 * Reconnect delays: exponential from `minMs` to `maxMs`, with "equal jitter"
 * (half fixed, half random), so a mesh that lost a peer does not redial it in
 * lockstep, yet no delay is ever shorter than half the nominal one.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt (ms); each call grows the next one. */
  next(): number {
    const nominal = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(nominal / 2 + (this.random() * nominal) / 2);
  }

  /** After a connection that worked: start again from the shortest delay. */
  reset(): void {
    this.attempt = 0;
  }

  /** Largest delay (for waits while another link to the same peer is up). */
  get max(): number {
    return this.maxMs;
  }
}
