/**
 * One status column of the board: the tasks loaded of it. A task dropped on it moves
 * to this status. When more of the column exists, scrolling to its end (or the
 * "Load more" button) asks for the next page.
 *
 * @fires clare-action - ActionEvent `update-task` when a task is dropped here.
 * @fires load-more - CustomEvent: the next page of this column is wanted.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { requestAction } from '../actions.js';
import { acceptTaskDrag, droppedTask } from '../drag.js';
import { STATUS_LABELS } from '../format.js';
import type { Project, Task, TaskStatus } from '../../protocol/models.js';
import { controls } from '../styles/controls.js';
import './clare-task-card.js';

const NO_TASKS: ReadonlyMap<string, Task> = new Map();

/** Done tasks finished within this long show in the Done column; older ones fold behind a button (ms). */
export const DONE_RECENT_MS = 24 * 3600_000;

@customElement('clare-board-column')
export class ClareBoardColumn extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
      min-width: 0;
    }
    section {
      background: var(--surface-2);
      border-radius: var(--radius);
      padding: 0.5rem;
      border: 2px dashed transparent;
      min-height: 6rem;
      height: 100%;
    }
    section.over {
      border-color: var(--accent);
    }
    h3 {
      font-size: 0.9rem;
      text-transform: uppercase;
      letter-spacing: 0.04em;
      color: var(--muted);
      display: flex;
      justify-content: space-between;
      padding: 0.2rem 0.25rem 0.5rem;
    }
    ol {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-direction: column;
      gap: 0.5rem;
    }
    .more {
      margin-top: 0.5rem;
    }
    .sentinel {
      height: 1px;
    }
    .empty {
      color: var(--muted);
      font-size: 0.85rem;
      padding: 0.25rem;
      margin: 0;
    }
  `];

  @property({ attribute: false }) status: TaskStatus = 'open';
  @property({ attribute: false }) tasks: readonly Task[] = [];
  /** How many tasks the column has in all, when known (the whole board); else the loaded count is shown. */
  @property({ attribute: false }) total: number | null = null;
  /** More of the column exists than is loaded. */
  @property({ attribute: false }) more = false;
  /** Nothing of the column is loaded yet. */
  @property({ attribute: false }) loading = false;
  @property({ attribute: false }) projects: ReadonlyMap<string, Project> = new Map();
  @property({ attribute: false }) tasksById: ReadonlyMap<string, Task> = new Map();
  @property({ attribute: false }) sessionKeys: readonly string[] = [];
  @state() private over = false;
  /** Done column: show the tasks done more than DONE_RECENT_MS ago too (collapsed by default). */
  @state() private showOlder = false;
  @query('.sentinel') private sentinel!: HTMLElement | null;
  private observer: IntersectionObserver | null = null;
  private observed: Element | null = null;
  /** The end of the column is on screen: keep loading while there is more. */
  private atEnd = false;

  override disconnectedCallback(): void {
    this.observer?.disconnect();
    this.observer = null;
    this.observed = null;
    super.disconnectedCallback();
  }

  override updated(changed: PropertyValues<this>): void {
    this.watchEnd();
    // A page arrived and the end is still in view: the next one.
    if (changed.has('tasks') && this.atEnd) this.loadMore();
  }

  /** Watches the sentinel at the column's end (a new one after each render that adds it). */
  private watchEnd(): void {
    if (this.sentinel === this.observed) return;
    this.observer ??= typeof IntersectionObserver === 'undefined' ? null : new IntersectionObserver((entries) => {
      this.atEnd = entries.some((e) => e.isIntersecting);
      if (this.atEnd) this.loadMore();
    });
    this.observer?.disconnect();
    this.atEnd = false;
    this.observed = this.sentinel;
    if (this.sentinel !== null) this.observer?.observe(this.sentinel);
  }

  private loadMore(): void {
    if (this.more && !this.loading) this.dispatchEvent(new CustomEvent('load-more', { detail: this.status, bubbles: true, composed: true }));
  }

  private readonly onDrop = (e: DragEvent): void => {
    this.over = false;
    const id = droppedTask(e);
    if (id === null || this.tasksById.get(id)?.status === this.status) return;
    void requestAction(this, { kind: 'update-task', id, fields: { status: this.status } }).catch(() => undefined);
  };

  override render(): TemplateResult {
    // Done work older than a day folds away: the column stays about today's work. Done is
    // newest first, so once a loaded card is older, every later page is too: no paging then.
    const cutoff = Date.now() - DONE_RECENT_MS;
    const folding = this.status === 'done' && !this.showOlder;
    const tasks = folding ? this.tasks.filter((t) => Date.parse(t.status_at) >= cutoff) : this.tasks;
    const folded = this.tasks.length - tasks.length;
    // Only cards with dependencies get the task map (for their titles): the others keep
    // their inputs, so they skip re-rendering when some other task changes.
    const count = this.total ?? this.tasks.length;
    return html`<section class=${this.over ? 'over' : ''} aria-labelledby="h" data-status=${this.status}
        @dragover=${(e: DragEvent) => { if (acceptTaskDrag(e)) this.over = true; }}
        @dragleave=${() => { this.over = false; }} @drop=${this.onDrop}>
      <h3 id="h"><span>${STATUS_LABELS[this.status]}</span><span data-count>${count}${this.total === null && this.more ? '+' : ''}</span></h3>
      ${this.loading ? html`<p class="empty" role="status">Loading…</p>` : this.tasks.length === 0 && !this.more ? html`<p class="empty">No tasks.</p>` : nothing}
      <ol>
        ${repeat(tasks, (t) => t.id, (t) => html`<li><clare-task-card .task=${t} .projectName=${this.projects.get(t.project_id)?.name ?? t.project}
          .tasksById=${t.depends_on.length === 0 ? NO_TASKS : this.tasksById} .sessionKeys=${this.sessionKeys}></clare-task-card></li>`)}
      </ol>
      ${folding && folded > 0 ? html`<button type="button" class="more" @click=${() => { this.showOlder = true; }}>Show ${folded}${this.more ? '+' : ''} done more than a day ago</button>`
        : this.more && !this.loading ? html`<div class="sentinel"></div><button type="button" class="more" @click=${() => this.loadMore()}>Load more${this.total === null ? '' : ` (${this.tasks.length} of ${this.total})`}</button>` : nothing}
      ${this.status === 'done' && this.showOlder ? html`<button type="button" class="link" @click=${() => { this.showOlder = false; }}>Fold done work older than a day</button>` : nothing}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-board-column': ClareBoardColumn;
  }
}
