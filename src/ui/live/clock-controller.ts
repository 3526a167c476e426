/** The current time for relative times ("idle 3m"), re-rendering its host every tick while connected. */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class ClockController implements ReactiveController {
  now = Date.now();
  private timer: number | undefined;

  constructor(private readonly host: ReactiveControllerHost, private readonly everyMs = 5000) {
    host.addController(this);
  }

  hostConnected(): void {
    this.now = Date.now();
    this.timer = window.setInterval(() => {
      this.now = Date.now();
      this.host.requestUpdate();
    }, this.everyMs);
  }

  hostDisconnected(): void {
    window.clearInterval(this.timer);
  }
}
