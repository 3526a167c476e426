/** The fleet: every host with its sessions, silent hosts marked, and the session poller's state. */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { HostView } from '../derive.js';
import { ago, stamp } from '../format.js';
import type { Task } from '../../protocol/models.js';
import type { FleetStatus } from '../../protocol/status.js';
import { requestLoad } from '../load.js';
import { controls } from '../styles/controls.js';
import './clare-host-card.js';
import './clare-screen-dialog.js';
import type { PeekDetail } from './clare-session-row.js';

@customElement('clare-fleet-view')
export class ClareFleetView extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
    }
    .top {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 0.5rem 1rem;
      margin-bottom: 0.75rem;
    }
    h2 {
      font-size: 1.2rem;
    }
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(min(100%, 26rem), 1fr));
      gap: 0.75rem;
    }
    .empty {
      color: var(--muted);
    }
  `];

  @property({ attribute: false }) hosts: readonly HostView[] = [];
  @property({ attribute: false }) tasks: ReadonlyMap<string, Task> = new Map();
  @property({ attribute: false }) fleet: FleetStatus | null = null;
  /** More sessions exist than the page holds (a fleet past the snapshot's bound). */
  @property({ attribute: false }) moreSessions = false;
  @property({ attribute: false }) now = Date.now();
  @state() private peek: PeekDetail | null = null;

  private renderPoller(): TemplateResult | typeof nothing {
    const f = this.fleet;
    if (f === null) return nothing;
    return html`<span class="muted" title=${stamp(f.last_pull?.at ?? null)}>
      ${f.last_pull === null ? 'no pull yet' : `last pull ${ago(f.last_pull.at, this.now)} · ${f.last_pull.sessions} sessions`}
    </span>
    ${f.last_error === null ? nothing : html`<span class="badge bad" title=${f.last_error.message}>pull failed: ${f.last_error.code}</span>`}`;
  }

  override render(): TemplateResult {
    const sessions = this.hosts.reduce((n, h) => n + h.sessions.length, 0);
    return html`
      <div class="top">
        <h2>Fleet</h2>
        <span class="muted">${this.hosts.length} hosts · ${sessions} sessions</span>
        ${this.renderPoller()}
        ${this.moreSessions ? html`<button type="button" @click=${() => requestLoad(this, { kind: 'list', list: 'sessions' })}>More sessions</button>` : nothing}
      </div>
      ${this.hosts.length === 0
        ? html`<p class="empty">No hosts known yet. Sessions appear after a pull (<code>clare pull</code>) on each machine.</p>`
        : html`<div class="grid" @peek=${(e: CustomEvent<PeekDetail>) => { this.peek = e.detail; }}>
            ${repeat(this.hosts, (h) => h.name, (h) => html`<clare-host-card .host=${h} .tasks=${this.tasks} .now=${this.now}></clare-host-card>`)}
          </div>`}
      <clare-screen-dialog .target=${this.peek} @close=${() => { this.peek = null; }}></clare-screen-dialog>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-fleet-view': ClareFleetView;
  }
}
