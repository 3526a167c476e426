/**
 * The fleet: sessions waiting for a person first (a strip across hosts, and first
 * in each host), then every host with its sessions, silent hosts marked, and the
 * session poller's state; search and filters from the URL.
 *
 * @fires notify-toggle - Event: the person asked to turn waiting notifications on or off.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { HostView } from '../derive.js';
import { activeFilters, byUrgency, NO_FILTERS, sessionMatches, type Filters } from '../filters.js';
import type { NotifyState } from '../live/waiting-notifier.js';
import { memo } from '../memo.js';
import './clare-filter-bar.js';
import type { ClareFilterBar } from './clare-filter-bar.js';
import './clare-session-row.js';
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
    clare-filter-bar {
      margin-bottom: 0.75rem;
    }
    .waiting {
      border: 1px solid var(--warn);
      background: var(--surface);
      border-radius: var(--radius);
      padding: 0.5rem 0.6rem;
      margin-bottom: 0.75rem;
    }
    .waiting h3 {
      font-size: 1rem;
      color: var(--warn);
      margin: 0 0 0.25rem;
    }
    .waiting ul {
      list-style: none;
      margin: 0;
      padding: 0;
    }
  `];

  @property({ attribute: false }) hosts: readonly HostView[] = [];
  @property({ attribute: false }) tasks: ReadonlyMap<string, Task> = new Map();
  @property({ attribute: false }) fleet: FleetStatus | null = null;
  /** More sessions exist than the page holds (a fleet past the snapshot's bound). */
  @property({ attribute: false }) moreSessions = false;
  @property({ attribute: false }) now = Date.now();
  @property({ attribute: false }) filters: Filters = NO_FILTERS;
  @property({ attribute: false }) notify: NotifyState = 'off';
  @state() private peek: PeekDetail | null = null;

  /** The hosts as shown: sessions filtered and most urgent first; hosts with someone waiting first. */
  private readonly shown = memo((hosts: readonly HostView[], tasks: ReadonlyMap<string, Task>, f: Filters) => {
    const title = (id: string | null): string | undefined => (id === null ? undefined : tasks.get(id)?.title);
    const out = hosts.map((h) => ({ ...h, sessions: h.sessions.filter((s) => sessionMatches(s, f, title(s.task_id))).sort(byUrgency) }))
      .filter((h) => activeFilters(f) === 0 || h.sessions.length > 0);
    const waits = (h: HostView): number => h.sessions.filter((s) => s.state === 'waiting' && !s.gone).length;
    return { hosts: out.sort((a, b) => (waits(b) > 0 ? 1 : 0) - (waits(a) > 0 ? 1 : 0) || a.name.localeCompare(b.name)), waiting: out.flatMap((h) => h.sessions.filter((s) => s.state === 'waiting' && !s.gone)) };
  });

  /** The `/` shortcut. */
  focusSearch(): void {
    this.renderRoot.querySelector<ClareFilterBar>('clare-filter-bar')?.focusSearch();
  }

  private renderNotify(): TemplateResult | typeof nothing {
    if (this.notify === 'unsupported') return nothing;
    if (this.notify === 'denied') return html`<span class="muted" title="Allow notifications for this page in the browser's site settings">notifications blocked</span>`;
    return html`<button type="button" aria-pressed=${this.notify === 'on' ? 'true' : 'false'} @click=${() => this.dispatchEvent(new Event('notify-toggle', { bubbles: true, composed: true }))}>
      ${this.notify === 'on' ? 'Notifying when a session waits' : 'Notify me when a session waits'}</button>`;
  }

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
    const shown = this.shown(this.hosts, this.tasks, this.filters);
    const hostNames = this.hosts.map((h) => h.name);
    return html`
      <div class="top">
        <h2>Fleet</h2>
        <span class="muted">${this.hosts.length} hosts · ${sessions} sessions</span>
        ${this.renderPoller()}
        ${this.moreSessions ? html`<button type="button" @click=${() => requestLoad(this, { kind: 'list', list: 'sessions' })}>More sessions</button>` : nothing}
        ${this.renderNotify()}
      </div>
      <clare-filter-bar .filters=${this.filters} .fields=${['host', 'state'] as const} searchHint="sessions, folders, tasks"
        .choices=${{ host: hostNames, state: ['waiting', 'working', 'idle', 'exited'] }}></clare-filter-bar>
      <div @peek=${(e: CustomEvent<PeekDetail>) => { this.peek = e.detail; }}>
      ${shown.waiting.length === 0 ? nothing : html`<section class="waiting" aria-labelledby="waiting-h">
          <h3 id="waiting-h">Waiting for input (${shown.waiting.length})</h3>
          <ul>${repeat(shown.waiting, (s) => s.key, (s) => html`<li><clare-session-row withHost .session=${s} .task=${s.task_id === null ? undefined : this.tasks.get(s.task_id)} .now=${this.now}></clare-session-row></li>`)}</ul>
        </section>`}
      ${this.hosts.length === 0
        ? html`<p class="empty">No hosts known yet. Sessions appear after a pull (<code>clare pull</code>) on each machine.</p>`
        : shown.hosts.length === 0 ? html`<p class="empty">No session matches these filters.</p>`
        : html`<div class="grid">
            ${repeat(shown.hosts, (h) => h.name, (h) => html`<clare-host-card .host=${h} .tasks=${this.tasks} .now=${this.now}></clare-host-card>`)}
          </div>`}
      </div>
      <clare-screen-dialog .target=${this.peek} @close=${() => { this.peek = null; }}></clare-screen-dialog>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-fleet-view': ClareFleetView;
  }
}
