/**
 * The activity stream, newest first: progress notes, broadcasts with their
 * receipts, assignments with their delivery, and conflicts the merge recorded.
 * Older activity loads page by page as you scroll to the end (or press the button).
 *
 * @fires clare-load - LoadEvent `activity` for older items.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { machineName, type ActivityItem } from '../derive.js';
import { shortId } from '../../protocol/short-id.js';
import { ago, stamp } from '../format.js';
import type { Machine } from '../../protocol/models.js';
import { requestLoad } from '../load.js';
import { controls } from '../styles/controls.js';
import './clare-receipt-list.js';

type Filter = 'all' | 'update' | 'broadcast' | 'assignment' | 'conflict';

const FILTERS: readonly { readonly id: Filter; readonly label: string }[] = [
  { id: 'all', label: 'All' }, { id: 'update', label: 'Notes' }, { id: 'broadcast', label: 'Broadcasts' },
  { id: 'assignment', label: 'Assignments' }, { id: 'conflict', label: 'Conflicts' },
];

function matches(f: Filter, i: ActivityItem): boolean {
  if (f === 'all') return true;
  if (i.kind === 'update') return f === (i.update.kind === 'broadcast' ? 'broadcast' : 'update');
  return f === i.kind;
}

@customElement('clare-activity-view')
export class ClareActivityView extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
    }
    .top {
      display: flex;
      flex-wrap: wrap;
      gap: 0.5rem 1rem;
      align-items: center;
      margin-bottom: 0.75rem;
    }
    h2 {
      font-size: 1.2rem;
    }
    .filters {
      display: flex;
      flex-wrap: wrap;
      gap: 0.3rem;
    }
    .filters button[aria-pressed='true'] {
      background: var(--accent-soft);
      border-color: var(--accent);
      color: var(--text);
    }
    ol {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-direction: column;
      gap: 0.5rem;
      max-width: 60rem;
    }
    li {
      background: var(--surface);
      border: 1px solid var(--border);
      border-radius: var(--radius);
      padding: 0.55rem 0.75rem;
      display: grid;
      grid-template-columns: 9rem minmax(0, 1fr);
      gap: 0.2rem 0.75rem;
      content-visibility: auto;
      contain-intrinsic-size: auto 4rem;
    }
    .kind {
      display: flex;
      flex-direction: column;
      gap: 0.2rem;
      align-items: flex-start;
      font-size: 0.8rem;
      color: var(--muted);
    }
    .body p {
      margin: 0 0 0.3rem;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .by {
      font-size: 0.8rem;
      color: var(--muted);
    }
    .value {
      font-family: var(--mono);
      font-size: 0.8rem;
    }
    .empty {
      color: var(--muted);
    }
    .older {
      margin-top: 0.75rem;
    }
    .sentinel {
      height: 1px;
    }
    @media (max-width: 520px) {
      li {
        grid-template-columns: 1fr;
      }
      .kind {
        flex-direction: row;
        flex-wrap: wrap;
        gap: 0.5rem;
      }
    }
  `];

  @property({ attribute: false }) items: readonly ActivityItem[] = [];
  /** Older activity exists than is loaded. */
  @property({ attribute: false }) older = false;
  @property({ attribute: false }) machines: ReadonlyMap<string, Machine> = new Map();
  @property({ attribute: false }) now = Date.now();
  @state() private filter: Filter = 'all';
  @query('.sentinel') private sentinel!: HTMLElement | null;
  private observer: IntersectionObserver | null = null;
  private observed: Element | null = null;

  override disconnectedCallback(): void {
    this.observer?.disconnect();
    this.observer = null;
    this.observed = null;
    super.disconnectedCallback();
  }

  /**
   * Watches the sentinel at the end of the list: coming into view loads older items.
   * Only a change of view does (items are filtered here, so a page may show nothing new).
   */
  override updated(): void {
    if (this.sentinel === this.observed) return;
    this.observer ??= typeof IntersectionObserver === 'undefined' ? null : new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadOlder();
    });
    this.observer?.disconnect();
    this.observed = this.sentinel;
    if (this.sentinel !== null) this.observer?.observe(this.sentinel);
  }

  private loadOlder(): void {
    if (this.older) requestLoad(this, { kind: 'activity' });
  }

  private when(at: number): TemplateResult {
    const iso = new Date(at).toISOString();
    return html`<time datetime=${iso} title=${stamp(iso)}>${ago(iso, this.now)}</time>`;
  }

  private renderItem(i: ActivityItem): TemplateResult {
    switch (i.kind) {
      case 'update': {
        const u = i.update;
        const where = u.host === null ? '' : ` · ${u.host}${u.session === null ? '' : `:${u.session}`}`;
        return html`<li data-kind=${u.kind} data-id=${u.id}>
          <div class="kind"><span class="badge ${u.kind === 'broadcast' ? 'info' : 'neutral'}">${u.kind}</span>${this.when(i.at)}</div>
          <div class="body">
            <p>${u.text}</p>
            <div class="by">from ${machineName(this.machines, u.origin)}${where}${u.group === null ? '' : ` · to group ${u.group}`}${u.task_id === null ? '' : ` · task ${shortId(u.task_id)}`}${u.expires_at === null ? '' : ` · expires ${stamp(u.expires_at)}`}</div>
            ${u.kind === 'broadcast' ? html`<clare-receipt-list .receipts=${u.receipts}></clare-receipt-list>` : nothing}
          </div>
        </li>`;
      }
      case 'assignment': {
        const a = i.assignment;
        return html`<li data-kind="assignment" data-id=${a.id}>
          <div class="kind"><span class="badge neutral">assignment</span><span class="badge ${a.delivery === 'delivered' ? 'ok' : a.delivery === 'failed' ? 'bad' : 'neutral'}" data-delivery=${a.delivery}>${a.delivery}</span>${this.when(i.at)}</div>
          <div class="body">
            <p>${i.task?.title ?? `task ${shortId(a.task_id)}`} → <span class="mono">${a.host}:${a.session}</span></p>
            ${a.error === null ? nothing : html`<div class="by error-text">${a.error}</div>`}
          </div>
        </li>`;
      }
      case 'conflict': {
        const c = i.conflict;
        return html`<li data-kind="conflict" data-id=${c.id}>
          <div class="kind"><span class="badge warn">conflict</span>${this.when(i.at)}</div>
          <div class="body">
            <p>Concurrent edits of ${c.entity} ${shortId(c.entity_id)} · field <b>${c.field}</b></p>
            <div class="by">kept <span class="value">${JSON.stringify(c.winner.value)}</span>, over <span class="value">${JSON.stringify(c.loser.value)}</span></div>
          </div>
        </li>`;
      }
    }
  }

  override render(): TemplateResult {
    const shown = this.items.filter((i) => matches(this.filter, i));
    return html`
      <div class="top">
        <h2>Activity</h2>
        <div class="filters" role="group" aria-label="Show">
          ${FILTERS.map((f) => html`<button type="button" aria-pressed=${this.filter === f.id ? 'true' : 'false'} @click=${() => { this.filter = f.id; }}>${f.label}</button>`)}
        </div>
      </div>
      ${shown.length === 0 && !this.older ? html`<p class="empty">Nothing yet.</p>` : html`<ol>${repeat(shown, (i) => i.key, (i) => this.renderItem(i))}</ol>`}
      ${this.older ? html`<div class="sentinel"></div><button type="button" class="older" @click=${() => this.loadOlder()}>Load older</button>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-activity-view': ClareActivityView;
  }
}
