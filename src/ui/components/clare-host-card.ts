/** One host of the fleet: its sessions, whether a link reaches it, and when it was last heard from. */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { HostView } from '../derive.js';
import { ago, stamp } from '../format.js';
import type { Task } from '../../protocol/models.js';
import { controls } from '../styles/controls.js';
import './clare-session-row.js';

@customElement('clare-host-card')
export class ClareHostCard extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
    }
    section {
      background: var(--surface);
      border: 1px solid var(--border);
      border-radius: var(--radius);
      box-shadow: var(--shadow);
      height: 100%;
    }
    :host([silent]) section {
      border-style: dashed;
    }
    header {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 0.25rem 0.6rem;
      padding: 0.6rem 0.75rem;
      border-bottom: 1px solid var(--border);
    }
    h3 {
      font-size: 1rem;
    }
    .seen {
      font-size: 0.8rem;
      color: var(--muted);
      margin-left: auto;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0.25rem;
    }
    li + li {
      border-top: 1px solid var(--surface-2);
    }
    .empty {
      padding: 0.75rem;
      color: var(--muted);
      margin: 0;
    }
  `];

  @property({ attribute: false }) host: HostView | null = null;
  @property({ attribute: false }) tasks: ReadonlyMap<string, Task> = new Map();
  @property({ attribute: false }) now = Date.now();
  /** Reflected so the card's border shows a silent host. */
  @property({ type: Boolean, reflect: true }) silent = false;

  override willUpdate(): void {
    this.silent = this.host?.silent ?? false;
  }

  override render(): TemplateResult | typeof nothing {
    const h = this.host;
    if (h === null) return nothing;
    return html`<section aria-labelledby="h">
      <header>
        <h3 id="h">${h.name}</h3>
        ${h.self ? html`<span class="badge neutral">this machine</span>` : nothing}
        ${h.silent ? html`<span class="badge warn" data-liveness="silent">not heard from</span>` : nothing}
        ${h.reach === 'direct' ? html`<span class="badge ok" data-liveness="direct" title="a link of this daemon to it is up">linked</span>` : nothing}
        ${h.reach === 'relayed' ? html`<span class="badge ok" data-liveness="relayed" title="a peer this daemon is linked to has a link to it">linked via a peer</span>` : nothing}
        <span class="seen" title=${stamp(h.lastHeard)}>${h.self || h.reach !== null ? '' : `last heard ${ago(h.lastHeard, this.now)}`}</span>
      </header>
      ${h.sessions.length === 0
        ? html`<p class="empty">No sessions known on this host.</p>`
        : html`<ul>${repeat(h.sessions, (s) => s.key, (s) => html`<li><clare-session-row .session=${s} .task=${s.task_id === null ? undefined : this.tasks.get(s.task_id)} .now=${this.now}></clare-session-row></li>`)}</ul>`}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-host-card': ClareHostCard;
  }
}
