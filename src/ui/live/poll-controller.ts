/**
 * Runs `tick` again and again while its host is connected and `active()` holds:
 * the next run starts `everyMs` after the previous one finished, so runs never
 * overlap and a slow answer (a remote host's screen) slows the rate instead of
 * piling requests up. `restart()` runs at once (a new target, a manual refresh).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class PollController implements ReactiveController {
  private timer: number | undefined;
  private running = false;
  private connected = false;
  /** Bumped on restart/stop: a run that finishes after that schedules nothing. */
  private generation = 0;

  constructor(
    host: ReactiveControllerHost,
    private readonly tick: () => Promise<void>,
    private readonly active: () => boolean,
    private readonly everyMs: number,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.connected = true;
  }

  hostDisconnected(): void {
    this.connected = false;
    this.stop();
  }

  /** Runs now, then every `everyMs` while active. */
  restart(): void {
    this.stop();
    if (this.connected && this.active()) void this.run(this.generation);
  }

  stop(): void {
    this.generation += 1;
    window.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(gen: number): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.tick();
    } finally {
      this.running = false;
    }
    if (gen !== this.generation || !this.connected || !this.active()) return;
    this.timer = window.setTimeout(() => { void this.run(gen); }, this.everyMs);
  }
}
