/**
 * Broadcast: pick a group, write, send; the sent message stays on top and its
 * receipts arrive live as each host's daemon delivers it.
 *
 * @fires clare-action - ActionEvent `broadcast`.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { requestAction } from '../actions.js';
import { ago, stamp } from '../format.js';
import type { Group, Session, Update } from '../../protocol/models.js';
import { requestLoad } from '../load.js';
import { memo } from '../memo.js';
import { controls } from '../styles/controls.js';
import './clare-receipt-list.js';

/** Glob match of a `host:session` pattern, as the daemon matches group members. */
export function matchesPattern(pattern: string, key: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\@-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(key);
}

const TTLS: readonly { readonly s: number | null; readonly label: string }[] = [
  { s: null, label: 'never' }, { s: 600, label: '10 minutes' }, { s: 3600, label: '1 hour' }, { s: 86_400, label: '1 day' },
];

function idOf(r: unknown): string | null {
  if (typeof r !== 'object' || r === null || !('id' in r)) return null;
  const id = r.id;
  return typeof id === 'string' ? id : null;
}

@customElement('clare-broadcast-view')
export class ClareBroadcastView extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
      max-width: 60rem;
    }
    h2 {
      font-size: 1.2rem;
      margin-bottom: 0.75rem;
    }
    h3 {
      font-size: 1rem;
      margin: 1.25rem 0 0.5rem;
    }
    form {
      background: var(--surface);
      border: 1px solid var(--border);
      border-radius: var(--radius);
      padding: 0.9rem;
      display: flex;
      flex-direction: column;
      gap: 0.75rem;
    }
    .row {
      display: flex;
      flex-wrap: wrap;
      gap: 0.75rem;
      align-items: flex-end;
    }
    .row label {
      min-width: 12rem;
    }
    .members {
      font-size: 0.85rem;
      color: var(--muted);
    }
    .buttons {
      display: flex;
      gap: 0.75rem;
      align-items: center;
    }
    ol {
      list-style: none;
      padding: 0;
      margin: 0;
      display: flex;
      flex-direction: column;
      gap: 0.5rem;
    }
    li {
      background: var(--surface);
      border: 1px solid var(--border);
      border-radius: var(--radius);
      padding: 0.6rem 0.75rem;
    }
    li.sent {
      border-color: var(--accent);
    }
    li p {
      margin: 0 0 0.3rem;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .by {
      font-size: 0.8rem;
      color: var(--muted);
      margin-bottom: 0.3rem;
    }
  `];

  @property({ attribute: false }) groups: ReadonlyMap<string, Group> = new Map();
  /** More groups exist than the page holds. */
  @property({ attribute: false }) moreGroups = false;
  @property({ attribute: false }) updates: ReadonlyMap<string, Update> = new Map();
  /** Older updates exist than the live state holds (older broadcasts may be among them). */
  @property({ attribute: false }) moreUpdates = false;
  @property({ attribute: false }) sessions: ReadonlyMap<string, Session> = new Map();
  @property({ attribute: false }) now = Date.now();
  @state() private group = '';
  @state() private sending = false;
  @state() private error: string | null = null;
  /** The broadcast sent from this page, kept on top. */
  @state() private sentId: string | null = null;

  private readonly broadcasts = memo((updates: ReadonlyMap<string, Update>) =>
    [...updates.values()].filter((u) => u.kind === 'broadcast').sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, 30));

  private async send(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const message = form.elements.namedItem('message');
    const ttl = form.elements.namedItem('ttl');
    if (!(message instanceof HTMLTextAreaElement) || !(ttl instanceof HTMLSelectElement)) return;
    const group = this.group !== '' ? this.group : [...this.groups.keys()][0] ?? '';
    if (group === '' || message.value.trim() === '') return;
    this.sending = true;
    this.error = null;
    try {
      const r = await requestAction(this, { kind: 'broadcast', group, message: message.value, ttl_s: ttl.value === '' ? null : Number(ttl.value) }, { quiet: true });
      this.sentId = idOf(r);
      message.value = '';
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.sending = false;
    }
  }

  private renderBroadcast(u: Update): TemplateResult {
    return html`<li class=${u.id === this.sentId ? 'sent' : ''} data-id=${u.id}>
      <p>${u.text}</p>
      <div class="by">to <b>${u.group ?? '?'}</b> · <span title=${stamp(u.created_at)}>${ago(u.created_at, this.now)}</span>${u.id === this.sentId ? ' · sent from this page' : ''}</div>
      <clare-receipt-list .receipts=${u.receipts}></clare-receipt-list>
    </li>`;
  }

  /** The heading only over something: the broadcasts besides the one just sent, or "None yet" when there are none at all. */
  private renderRecent(rest: readonly Update[], justSent: boolean): TemplateResult | typeof nothing {
    // Only the newest updates are held: older broadcasts are in Activity, never "none".
    const all = this.moreUpdates ? html`<p class="muted"><a href="#/activity?kind=broadcasts">All broadcasts, in Activity</a></p>` : nothing;
    if (rest.length === 0) {
      if (justSent) return all;
      return html`<h3>Recent broadcasts</h3><p class="muted">${this.moreUpdates ? 'None among the newest updates.' : 'None yet.'}</p>${all}`;
    }
    return html`<h3>Recent broadcasts</h3><ol>${repeat(rest, (u) => u.id, (u) => this.renderBroadcast(u))}</ol>${all}`;
  }

  override render(): TemplateResult {
    const groups = [...this.groups.values()];
    const chosen = this.groups.get(this.group) ?? groups[0];
    const reach = chosen === undefined ? 0 : [...this.sessions.keys()].filter((k) => chosen.members.some((m) => matchesPattern(m, k))).length;
    const list = this.broadcasts(this.updates);
    const sent = this.sentId === null ? undefined : this.updates.get(this.sentId);
    return html`
      <h2>Broadcast</h2>
      ${groups.length === 0 ? html`<p class="muted">No groups yet. Create one with <code>clare group add NAME host:*</code>.</p>` : html`
      <form @submit=${(e: SubmitEvent) => { void this.send(e); }}>
        <div class="row">
          <label>Group
            <select name="group" @change=${(e: Event) => { this.group = (e.target as HTMLSelectElement).value; }}>
              ${groups.map((g) => html`<option value=${g.name} ?selected=${g.name === chosen?.name}>${g.name}</option>`)}
            </select></label>
          ${this.moreGroups ? html`<button type="button" @click=${() => requestLoad(this, { kind: 'list', list: 'groups' })}>More groups</button>` : nothing}
          <label>Undelivered copies expire after
            <select name="ttl">${TTLS.map((t) => html`<option value=${t.s === null ? '' : String(t.s)}>${t.label}</option>`)}</select></label>
        </div>
        ${chosen === undefined ? nothing : html`<div class="members">Members: ${chosen.members.length === 0 ? 'none' : chosen.members.join(', ')} · ${reach} known session${reach === 1 ? '' : 's'} match</div>`}
        <label>Message <textarea name="message" rows="4" required maxlength="20000" placeholder="What every session in the group should read"></textarea></label>
        <div class="buttons">
          <button type="submit" class="primary" ?disabled=${this.sending}>${this.sending ? 'Sending…' : 'Send broadcast'}</button>
          ${this.error === null ? nothing : html`<span class="error-text" role="alert">${this.error}</span>`}
        </div>
      </form>`}
      ${sent === undefined ? nothing : html`<h3>Just sent</h3><ol aria-live="polite">${this.renderBroadcast(sent)}</ol>`}
      ${this.renderRecent(list.filter((u) => u.id !== this.sentId), sent !== undefined)}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-broadcast-view': ClareBroadcastView;
  }
}
