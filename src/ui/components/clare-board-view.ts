/**
 * The board: tasks of a project (or all), optionally only those whose title holds a
 * search, in columns by status, with the sessions beside it as drop targets. The
 * project, search and the other filters (priority, state, host, session) come from
 * the URL; j/k move between cards, `a` assigns and `d` completes the current one. Each
 * column shows what is loaded of it and pages on as you scroll; a project or a search
 * the snapshot does not cover loads its first pages from the API. Create, edit,
 * complete and assign go through the API.
 *
 * @fires clare-action - ActionEvent `create-project` (and those of its children).
 * @fires filters-change - CustomEvent<Filters> (from its filter bar).
 * @fires clare-load - LoadEvent for a context's columns, the next page of one, or more projects.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { requestAction } from '../actions.js';
import { COLUMN_ORDER, columns, type ColumnView } from '../derive.js';
import { NO_FILTERS, taskMatches, type Filters } from '../filters.js';
import { ALL_TASKS, contextKey, type Columns, type TaskContext } from '../live/fleet-state.js';
import type { LiveCounts } from '../../protocol/live.js';
import type { Project, Session, Task, TaskStatus } from '../../protocol/models.js';
import { requestLoad } from '../load.js';
import { memo } from '../memo.js';
import { controls } from '../styles/controls.js';
import './clare-board-column.js';
import './clare-filter-bar.js';
import type { ClareFilterBar } from './clare-filter-bar.js';
import type { ClareTaskCard } from './clare-task-card.js';
import './clare-session-row.js';
import './clare-task-dialog.js';
import type { TaskDialogTarget } from './clare-task-dialog.js';

@customElement('clare-board-view')
export class ClareBoardView extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
    }
    .toolbar {
      display: flex;
      flex-wrap: wrap;
      align-items: flex-end;
      gap: 0.5rem 1rem;
      margin-bottom: 0.75rem;
    }
    h2 {
      font-size: 1.2rem;
      align-self: center;
    }
    .toolbar form {
      display: flex;
      gap: 0.4rem;
      align-items: flex-end;
    }
    input[type='search'] {
      width: 14rem;
    }
    .layout {
      display: grid;
      grid-template-columns: minmax(0, 1fr) 16rem;
      gap: 0.75rem;
      align-items: start;
    }
    .columns {
      display: grid;
      grid-template-columns: repeat(4, minmax(0, 1fr));
      gap: 0.6rem;
      align-items: stretch;
    }
    aside {
      position: sticky;
      top: 7rem;
      background: var(--surface);
      border: 1px solid var(--border);
      border-radius: var(--radius);
      padding: 0.5rem;
      max-height: calc(100vh - 8rem);
      overflow: auto;
    }
    aside h3 {
      font-size: 0.9rem;
      padding: 0.2rem 0.3rem;
    }
    aside p {
      font-size: 0.8rem;
      color: var(--muted);
      margin: 0.2rem 0.3rem 0.5rem;
    }
    aside ul {
      list-style: none;
      margin: 0;
      padding: 0;
    }
    .empty {
      color: var(--muted);
    }
    @media (max-width: 1100px) {
      .layout {
        grid-template-columns: 1fr;
      }
      aside {
        position: static;
        max-height: none;
        order: -1;
      }
      aside ul {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
      }
    }
    @media (max-width: 800px) {
      .columns {
        grid-template-columns: repeat(2, minmax(0, 1fr));
      }
    }
    @media (max-width: 520px) {
      .columns {
        grid-template-columns: 1fr;
      }
    }
  `];

  @property({ attribute: false }) tasks: ReadonlyMap<string, Task> = new Map();
  /** What is loaded of the columns, per context (fleet-state.ts). */
  @property({ attribute: false }) columns: ReadonlyMap<string, Columns> = new Map();
  /** The daemon's counts: the whole board's column totals. */
  @property({ attribute: false }) counts: LiveCounts | null = null;
  @property({ attribute: false }) projects: ReadonlyMap<string, Project> = new Map();
  /** More projects exist than the page holds. */
  @property({ attribute: false }) moreProjects = false;
  @property({ attribute: false }) sessions: ReadonlyMap<string, Session> = new Map();
  /** Project, search and filters, from the URL. */
  @property({ attribute: false }) filters: Filters = NO_FILTERS;
  /** The card the shortcuts act on (its task id). */
  @state() private current: string | null = null;
  @state() private dialog: TaskDialogTarget | null = null;
  @state() private projectError: string | null = null;
  private readonly columnViews = memo(columns);
  /** The columns as shown: what is loaded, less what the filters the daemon does not apply leave out. */
  private readonly filtered = memo((cols: Record<TaskStatus, ColumnView>, f: Filters): Record<TaskStatus, ColumnView> => {
    if (f.priority === '' && f.state === '' && f.host === '' && f.session === '') return cols;
    const out = { ...cols };
    for (const st of COLUMN_ORDER) out[st] = { ...cols[st], tasks: cols[st].tasks.filter((t) => taskMatches(t, { ...f, q: '', project: '' })) };
    return out;
  });
  private readonly sessionKeys = memo((sessions: ReadonlyMap<string, Session>) => [...sessions.values()].filter((s) => s.state !== 'exited').map((s) => s.key));
  private readonly sessionList = memo((sessions: ReadonlyMap<string, Session>) => [...sessions.values()]);

  /** What the board shows now: the chosen project (if still known) and the search. */
  private context(): TaskContext {
    const project = this.filters.project !== '' && this.projects.has(this.filters.project) ? this.filters.project : null;
    return { project, q: this.filters.q };
  }

  /** When each context's first pages were last asked for: a failed load is retried, but not on every render. */
  private readonly asked = new Map<string, number>();

  /** A context the live state has no columns for yet: ask for its first pages. */
  override updated(_changed: PropertyValues<this>): void {
    const c = this.context();
    const key = contextKey(c);
    if (this.columns.has(key) || Date.now() - (this.asked.get(key) ?? 0) < 5000) return;
    if (this.asked.size > 50) this.asked.clear();
    this.asked.set(key, Date.now());
    requestLoad(this, { kind: 'columns', context: c });
  }

  /** The `/` shortcut. */
  focusSearch(): void {
    this.renderRoot.querySelector<ClareFilterBar>('clare-filter-bar')?.focusSearch();
  }

  /** Every task card shown, in reading order (column by column). */
  private cards(): ClareTaskCard[] {
    return [...this.renderRoot.querySelectorAll('clare-board-column')].flatMap((c) => [...c.renderRoot.querySelectorAll('clare-task-card')]);
  }

  /** j/k/a/d on the board; true when the key was used. */
  shortcut(key: string): boolean {
    const cards = this.cards();
    if (cards.length === 0) return false;
    const i = cards.findIndex((c) => c.task?.id === this.current);
    if (key === 'j' || key === 'k') {
      const next = cards[i < 0 ? 0 : Math.min(cards.length - 1, Math.max(0, i + (key === 'j' ? 1 : -1)))];
      if (next === undefined) return false;
      this.current = next.task?.id ?? null;
      next.focusCard();
      return true;
    }
    const card = i < 0 ? undefined : cards[i];
    if (card === undefined) return false;
    if (key === 'a') card.startAssign();
    else if (key === 'd') card.complete();
    else return false;
    return true;
  }

  private async createProject(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem('name');
    if (!(input instanceof HTMLInputElement) || input.value.trim() === '') return;
    this.projectError = null;
    try {
      await requestAction(this, { kind: 'create-project', name: input.value.trim() }, { quiet: true });
      input.value = '';
    } catch (err) {
      this.projectError = err instanceof Error ? err.message : String(err);
    }
  }

  override render(): TemplateResult {
    const context = this.context();
    const project = context.project;
    const key = contextKey(context);
    const cols = this.filtered(this.columnViews(this.tasks, context, this.columns.get(key)), this.filters);
    // Totals are the daemon's counts for the whole board; a project or a search shows what is loaded.
    const total = (st: TaskStatus): number | null => (key === ALL_TASKS && this.counts !== null ? this.counts.counts.tasks[st] ?? 0 : null);
    const keys = this.sessionKeys(this.sessions);
    const sessions = this.sessionList(this.sessions);
    return html`
      <div class="toolbar">
        <h2>Board</h2>
        <clare-filter-bar .filters=${this.filters} .fields=${['project', 'priority', 'state', 'host', 'session'] as const} searchHint="task titles"
          .names=${{ q: 'Search task titles', project: 'Project shown' }}
          .choices=${{ project: [...this.projects.values()].map((p) => ({ value: p.id, label: p.name })), state: COLUMN_ORDER, host: [...new Set(sessions.map((s) => s.host))].sort(), session: keys }}></clare-filter-bar>
        ${this.moreProjects ? html`<button type="button" @click=${() => requestLoad(this, { kind: 'list', list: 'projects' })}>More projects</button>` : nothing}
        <button type="button" class="primary" ?disabled=${this.projects.size === 0} @click=${() => { this.dialog = { mode: 'create', project }; }}>New task</button>
        <form @submit=${(e: SubmitEvent) => { void this.createProject(e); }}>
          <label>New project <input name="name" required maxlength="200" autocomplete="off" placeholder="name"></label>
          <button type="submit">Add project</button>
        </form>
        ${this.projectError === null ? nothing : html`<span class="error-text" role="alert">${this.projectError}</span>`}
      </div>
      ${this.projects.size === 0 ? html`<p class="empty">No projects yet: add one above (or <code>clare project add NAME</code>).</p>` : nothing}
      <div class="layout" @edit-task=${(e: CustomEvent<string>) => { this.dialog = { mode: 'edit', id: e.detail }; }}
          @load-more=${(e: CustomEvent<TaskStatus>) => requestLoad(this, { kind: 'columns', context, status: e.detail })}>
        <div class="columns">
          ${COLUMN_ORDER.map((status) => html`<clare-board-column .status=${status} .tasks=${cols[status].tasks} .total=${total(status)}
            .more=${cols[status].more} .loading=${cols[status].loading} .projects=${this.projects}
            .tasksById=${this.tasks} .sessionKeys=${keys}></clare-board-column>`)}
        </div>
        <aside aria-labelledby="sessions-h">
          <h3 id="sessions-h">Sessions</h3>
          <p>Drag a task onto a session to assign it.</p>
          ${sessions.length === 0 ? html`<p>No sessions known.</p>` : html`<ul>
            ${repeat(sessions, (s) => s.key, (s) => html`<li><clare-session-row compact .session=${s}></clare-session-row></li>`)}
          </ul>`}
        </aside>
      </div>
      <clare-task-dialog .target=${this.dialog} .projects=${this.projects} .tasks=${this.tasks} @close=${() => { this.dialog = null; }}></clare-task-dialog>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-board-view': ClareBoardView;
  }
}
