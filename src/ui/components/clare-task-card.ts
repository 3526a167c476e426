/**
 * A task on the board: priority, status marks (waiting for dependencies, ready,
 * blocked), dependencies, assignment. Draggable onto a session (assign) or a
 * column (status). Every action also has a button, for the keyboard; the buttons
 * show on hover and focus, over the card, and take no room while hidden.
 *
 * @fires edit-task - CustomEvent<string>: the task id, to open the edit dialog.
 * @fires clare-action - ActionEvent `update-task`, `assign` or `unassign`.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { requestAction } from '../actions.js';
import { startTaskDrag } from '../drag.js';
import { shortId } from '../../protocol/short-id.js';
import type { Task } from '../../protocol/models.js';
import { controls } from '../styles/controls.js';

const PRIORITY_TONE = ['bad', 'warn', 'neutral', 'neutral', 'neutral'] as const;

@customElement('clare-task-card')
export class ClareTaskCard extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
      /* Off-screen cards skip layout and paint: a board of a thousand tasks stays fast. */
      content-visibility: auto;
      contain-intrinsic-size: auto 7rem;
    }
    article {
      background: var(--surface);
      border: 1px solid var(--border);
      border-radius: var(--radius);
      box-shadow: var(--shadow);
      padding: 0.55rem 0.65rem;
      display: flex;
      flex-direction: column;
      gap: 0.35rem;
      cursor: grab;
    }
    article.waiting {
      border-left: 4px solid var(--warn);
    }
    article.blocked {
      border-left: 4px solid var(--bad);
    }
    article.done h4 {
      text-decoration: line-through;
      color: var(--muted);
    }
    .marks {
      display: flex;
      flex-wrap: wrap;
      gap: 0.3rem;
      align-items: center;
    }
    .project {
      font-size: 0.78rem;
      color: var(--muted);
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      max-width: 12rem;
    }
    h4 {
      font-size: 1rem;
      line-height: 1.3;
      font-weight: 600;
      overflow-wrap: anywhere;
    }
    .deps {
      font-size: 0.8rem;
      color: var(--muted);
      margin: 0;
      padding: 0;
      list-style: none;
      display: flex;
      flex-wrap: wrap;
      gap: 0.2rem 0.5rem;
    }
    .deps .settled {
      text-decoration: line-through;
    }
    .who {
      font-size: 0.82rem;
      display: flex;
      flex-wrap: wrap;
      gap: 0.3rem;
      align-items: center;
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      gap: 0.3rem;
    }
    /*
     * Compact cards: on a device that hovers, the actions float over the card's top
     * right corner on hover and keyboard focus, and take no room while hidden (the
     * card is as tall as its content). Touch screens show them in the flow, always.
     */
    @media (hover: hover) {
      article {
        position: relative;
      }
      .actions {
        position: absolute;
        top: 0.3rem;
        right: 0.35rem;
        flex-wrap: nowrap;
        padding: 0.2rem;
        background: var(--surface);
        border: 1px solid var(--border);
        border-radius: var(--radius);
        box-shadow: var(--shadow);
        opacity: 0;
        transition: opacity 0.12s;
      }
      article:hover .actions, article:focus-within .actions, article.current .actions {
        opacity: 1;
      }
    }
    article:focus-visible, article.current {
      outline: 2px solid var(--accent);
      outline-offset: 1px;
    }

    .actions button {
      min-height: 1.8rem;
      padding: 0.15rem 0.5rem;
      font-size: 0.85rem;
    }
    .assign {
      display: flex;
      gap: 0.3rem;
      flex-wrap: wrap;
    }
    .assign select {
      flex: 1;
      min-width: 8rem;
    }
  `];

  @property({ attribute: false }) task: Task | null = null;
  @property({ attribute: false }) projectName: string | null = null;
  /** Every task by id, for the titles of dependencies. */
  @property({ attribute: false }) tasksById: ReadonlyMap<string, Task> = new Map();
  /** Session keys (`host:session`) for the assign picker. */
  @property({ attribute: false }) sessionKeys: readonly string[] = [];
  /** The card the keyboard shortcuts act on (j/k). */
  @property({ type: Boolean }) current = false;
  @state() private picking = false;
  @state() private busy = false;

  override updated(changed: PropertyValues): void {
    // Opening the picker moves the focus into it, so keyboard users land where they chose to go.
    if (changed.has('picking') && this.picking) this.renderRoot.querySelector('select')?.focus();
  }

  /** Moves the keyboard focus to the card (j/k). */
  focusCard(): void {
    this.renderRoot.querySelector('article')?.focus();
  }

  /** Opens the session picker (the `a` shortcut), if the task can be assigned. */
  startAssign(): void {
    const t = this.task;
    if (t !== null && t.status !== 'done' && t.assignment === null && this.sessionKeys.length > 0) this.picking = true;
  }

  /** Marks the task done (the `d` shortcut). */
  complete(): void {
    if (this.task !== null && this.task.status !== 'done') this.setStatus('done');
  }

  private async act(run: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    try {
      await run();
    } catch {
      // The shell shows the failure as a notice.
    } finally {
      this.busy = false;
    }
  }

  private setStatus(status: Task['status']): void {
    const t = this.task;
    if (t !== null) void this.act(() => requestAction(this, { kind: 'update-task', id: t.id, fields: { status } }));
  }

  private readonly assign = (e: SubmitEvent): void => {
    e.preventDefault();
    const t = this.task;
    const select = (e.currentTarget as HTMLFormElement).elements.namedItem('session');
    if (t === null || !(select instanceof HTMLSelectElement) || select.value === '') return;
    this.picking = false;
    void this.act(() => requestAction(this, { kind: 'assign', task: t.id, session: select.value }));
  };

  private renderDeps(t: Task): TemplateResult | typeof nothing {
    if (t.depends_on.length === 0) return nothing;
    const open = new Set(t.blocked_by);
    return html`<ul class="deps" aria-label="Depends on">${t.depends_on.map((id) => {
      const d = this.tasksById.get(id);
      return html`<li class=${open.has(id) ? '' : 'settled'} title=${open.has(id) ? 'not done yet' : 'done'}>after ${d === undefined ? shortId(id) : d.title}</li>`;
    })}</ul>`;
  }

  override render(): TemplateResult | typeof nothing {
    const t = this.task;
    if (t === null) return nothing;
    const waiting = t.status === 'open' && t.blocked_by.length > 0;
    const cls = t.status === 'blocked' ? 'blocked' : waiting ? 'waiting' : t.status === 'done' ? 'done' : '';
    const a = t.assignment;
    return html`<article class="${cls} ${this.current ? 'current' : ''}" tabindex="0" draggable="true" data-task=${t.id} aria-label=${t.title}
        @dragstart=${(e: DragEvent) => startTaskDrag(e, t.id)}>
      <div class="marks">
        <span class="badge ${PRIORITY_TONE[t.priority] ?? 'neutral'}" title="priority ${t.priority} (0 most urgent)">P${t.priority}</span>
        ${waiting ? html`<span class="badge warn">waiting for ${t.blocked_by.length}</span>` : nothing}
        ${t.status === 'blocked' ? html`<span class="badge bad">blocked</span>` : nothing}
        ${t.ready ? html`<span class="badge ok">ready</span>` : nothing}
        <span class="project">${this.projectName ?? 'unknown project'}</span>
      </div>
      <h4>${t.title}</h4>
      ${this.renderDeps(t)}
      ${a === null ? nothing : html`<div class="who">
        <span>→ <span class="mono">${a.host}:${a.session}</span></span>
        <span class="badge ${a.delivery === 'delivered' ? 'ok' : a.delivery === 'failed' ? 'bad' : 'neutral'}" title=${a.error ?? ''}>${a.delivery}</span>
        <button type="button" class="link" ?disabled=${this.busy} @click=${() => { void this.act(() => requestAction(this, { kind: 'unassign', assignment: a.id })); }}>unassign</button>
      </div>`}
      ${this.picking ? html`<form class="assign" @submit=${this.assign}>
          <label class="visually-hidden" for="session">Session for ${t.title}</label>
          <select id="session" name="session" required>
            <option value="">Pick a session…</option>
            ${this.sessionKeys.map((k) => html`<option value=${k}>${k}</option>`)}
          </select>
          <button type="submit" class="primary">Assign</button>
          <button type="button" @click=${() => { this.picking = false; }}>Cancel</button>
        </form>` : nothing}
      <div class="actions">
        <button type="button" ?disabled=${this.busy} @click=${() => this.dispatchEvent(new CustomEvent('edit-task', { detail: t.id, bubbles: true, composed: true }))}>Edit</button>
        ${t.status === 'done'
          ? html`<button type="button" ?disabled=${this.busy} @click=${() => this.setStatus('open')}>Reopen</button>`
          : html`<button type="button" ?disabled=${this.busy} @click=${() => this.setStatus('done')}>Complete</button>
                 ${a === null && !this.picking ? html`<button type="button" ?disabled=${this.busy || this.sessionKeys.length === 0} @click=${() => { this.picking = true; }}>Assign…</button>` : nothing}`}
      </div>
    </article>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-task-card': ClareTaskCard;
  }
}
