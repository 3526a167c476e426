/** Whether the page is live: connected and receiving, or reconnecting (with why). */
import { LitElement, css, html, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ConnectionState } from '../live/live-controller.js';
import { controls } from '../styles/controls.js';

@customElement('clare-connection-badge')
export class ClareConnectionBadge extends LitElement {
  static override styles = [controls, css`
    :host {
      display: inline-flex;
    }
    .dot {
      width: 0.55rem;
      height: 0.55rem;
      border-radius: 50%;
      background: currentColor;
    }
  `];

  @property({ attribute: false }) connection: ConnectionState = 'connecting';
  @property({ attribute: false }) problem: string | null = null;
  /** Cursor of the newest change applied, shown on hover. */
  @property({ attribute: false }) cursor: number | null = null;

  override render(): TemplateResult {
    const [tone, label] = this.connection === 'live' ? ['ok', 'Live'] : this.connection === 'connecting' ? ['neutral', 'Connecting…'] : ['warn', 'Reconnecting…'];
    const title = this.connection === 'live' ? `receiving changes (cursor ${this.cursor ?? '-'})` : this.problem ?? '';
    return html`<span class="badge ${tone}" role="status" title=${title} data-state=${this.connection}><span class="dot" aria-hidden="true"></span>${label}</span>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-connection-badge': ClareConnectionBadge;
  }
}
