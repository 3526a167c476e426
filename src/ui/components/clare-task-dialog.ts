/**
 * Create or edit a task in a modal dialog: project, title, description, priority,
 * status (when editing) and dependencies. Saves through the API; API errors
 * (validation, dependency cycles) are shown in the dialog. Editing, it shows the
 * task's history (GET /api/v1/tasks/:id/history), the next page read as you scroll.
 *
 * @fires clare-action - ActionEvent `create-task`, `update-task`, `dependency`.
 * @fires close - Event: the dialog was closed.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import { repeat } from 'lit/directives/repeat.js';
import { renderEntry } from '../activity-entry.js';
import { ActivityFeed } from '../live/activity-feed.js';
import { SentinelWatch } from '../live/sentinel-watch.js';
import { requestAction, type TaskFields } from '../actions.js';
import { STATUS_LABELS } from '../format.js';
import type { Project, Task, TaskStatus } from '../../protocol/models.js';
import { controls, dialogFrame } from '../styles/controls.js';
import { shortId } from '../../protocol/short-id.js';

/** What the dialog edits: a new task (in a project, if one is chosen) or an existing one. */
export type TaskDialogTarget = { readonly mode: 'create'; readonly project: string | null } | { readonly mode: 'edit'; readonly id: string };

const STATUSES: readonly TaskStatus[] = ['open', 'in_progress', 'blocked', 'done'];
/** Candidate dependencies offered in the picker (not done, same project), at most this many. */
const MAX_DEP_CHOICES = 300;

@customElement('clare-task-dialog')
export class ClareTaskDialog extends LitElement {
  static override styles = [controls, dialogFrame, css`
    dialog {
      width: min(36rem, calc(100vw - 1rem));
    }
    form {
      display: flex;
      flex-direction: column;
      gap: 0.75rem;
      padding: 1rem;
    }
    h2 {
      font-size: 1.1rem;
    }
    .row {
      display: grid;
      grid-template-columns: 1fr 1fr;
      gap: 0.75rem;
    }
    .deps {
      list-style: none;
      padding: 0;
      margin: 0;
      display: flex;
      flex-direction: column;
      gap: 0.3rem;
    }
    .deps li {
      display: flex;
      justify-content: space-between;
      gap: 0.5rem;
      align-items: center;
    }
    .buttons {
      display: flex;
      justify-content: flex-end;
      gap: 0.5rem;
    }
    fieldset {
      border: 1px solid var(--border);
      border-radius: 6px;
      margin: 0;
      padding: 0.5rem 0.75rem 0.75rem;
      display: flex;
      flex-direction: column;
      gap: 0.5rem;
    }
    legend {
      font-size: 0.85rem;
      color: var(--muted);
    }
    select[multiple] {
      min-height: 6rem;
    }
    .history {
      border-top: 1px solid var(--border);
      padding: 0.75rem 1rem 1rem;
    }
    .history header {
      display: flex;
      justify-content: space-between;
      align-items: baseline;
      margin-bottom: 0.5rem;
    }
    .history h3 {
      font-size: 0.95rem;
    }
    .history ol {
      list-style: none;
      margin: 0;
      padding: 0;
      max-height: 16rem;
      overflow-y: auto;
      display: flex;
      flex-direction: column;
      gap: 0.35rem;
    }
    .history li {
      display: grid;
      grid-template-columns: 7rem minmax(0, 1fr);
      gap: 0.5rem;
      font-size: 0.85rem;
      padding: 0.3rem 0;
      border-bottom: 1px solid var(--surface-2);
    }
    .history .kind {
      display: flex;
      flex-direction: column;
      gap: 0.15rem;
      align-items: flex-start;
      color: var(--muted);
      font-size: 0.78rem;
    }
    .history p {
      margin: 0;
      overflow-wrap: anywhere;
    }
    .history .text {
      white-space: pre-wrap;
    }
    .history .by {
      color: var(--muted);
      font-size: 0.78rem;
    }
    .history .sentinel {
      min-height: 1px;
    }
    @media (max-width: 480px) {
      .row {
        grid-template-columns: 1fr;
      }
    }
  `];

  @property({ attribute: false }) target: TaskDialogTarget | null = null;
  @property({ attribute: false }) projects: ReadonlyMap<string, Project> = new Map();
  @property({ attribute: false }) tasks: ReadonlyMap<string, Task> = new Map();
  @state() private error: string | null = null;
  @state() private busy = false;
  /** Project chosen in the form (create), for the dependency choices. */
  @state() private project = '';
  /** Bumped on every open: the form is re-created, so no typed-in value survives into the next open. */
  private generation = 0;
  @query('dialog') private dialog!: HTMLDialogElement;
  @query('form') private form!: HTMLFormElement;
  @query('.history .sentinel') private sentinel!: HTMLElement | null;
  private readonly history = new ActivityFeed(this);
  private readonly end = new SentinelWatch(() => this.history.loadOlder());

  override disconnectedCallback(): void {
    this.end.stop();
    super.disconnectedCallback();
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('target') && this.target !== null) {
      this.error = null;
      this.generation++;
      const t = this.target;
      this.project = t.mode === 'create' ? t.project ?? [...this.projects.keys()][0] ?? '' : this.tasks.get(t.id)?.project_id ?? '';
      // Read afresh on every open: the history may have grown while the dialog was closed.
      if (t.mode === 'edit') this.history.setQuery({ task: t.id, kinds: null }, true);
    }
  }

  override updated(changed: PropertyValues<this>): void {
    // The sentinel at the end of the history: scrolled into view, the next page is read.
    this.end.watch(this.sentinel);
    if (!changed.has('target')) return;
    if (this.target === null) {
      if (this.dialog.open) this.dialog.close();
    } else if (!this.dialog.open) {
      this.dialog.showModal();
    }
  }

  private field(name: string): string {
    const el = this.form.elements.namedItem(name);
    return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement ? el.value : '';
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const t = this.target;
    if (t === null || this.busy) return;
    this.busy = true;
    this.error = null;
    try {
      const priority = Number(this.field('priority'));
      if (t.mode === 'create') {
        const deps = this.form.elements.namedItem('depends_on');
        const dependsOn = deps instanceof HTMLSelectElement ? [...deps.selectedOptions].map((o) => o.value) : [];
        await requestAction(this, {
          kind: 'create-task', project: this.field('project'), title: this.field('title').trim(),
          description: this.field('description'), priority, depends_on: dependsOn,
        }, { quiet: true });
      } else {
        const before = this.tasks.get(t.id);
        if (before === undefined) throw new Error('this task is gone (archived elsewhere)');
        const fields: { -readonly [K in keyof TaskFields]: TaskFields[K] } = {};
        const title = this.field('title').trim();
        if (title !== before.title) fields.title = title;
        const description = this.field('description');
        if (description !== before.description) fields.description = description;
        if (priority !== before.priority) fields.priority = priority;
        const status = this.field('status') as TaskStatus;
        if (STATUSES.includes(status) && status !== before.status) fields.status = status;
        if (Object.keys(fields).length > 0) await requestAction(this, { kind: 'update-task', id: t.id, fields }, { quiet: true });
        const add = this.field('add_dependency');
        if (add !== '') await requestAction(this, { kind: 'dependency', id: t.id, depends_on: add, remove: false }, { quiet: true });
      }
      this.dialog.close();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = false;
    }
  }

  private async removeDependency(id: string, dep: string): Promise<void> {
    this.error = null;
    try {
      await requestAction(this, { kind: 'dependency', id, depends_on: dep, remove: true }, { quiet: true });
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  /** Tasks of the project that could be depended on (not done, not `self`). */
  private choices(project: string, self: string | null, exclude: readonly string[]): Task[] {
    const out: Task[] = [];
    for (const t of this.tasks.values()) {
      if (t.project_id !== project || t.id === self || t.status === 'done' || exclude.includes(t.id)) continue;
      out.push(t);
      if (out.length >= MAX_DEP_CHOICES) break;
    }
    return out.sort((a, b) => a.title.localeCompare(b.title));
  }

  private renderBody(t: TaskDialogTarget): TemplateResult {
    const task = t.mode === 'edit' ? this.tasks.get(t.id) ?? null : null;
    const projects = [...this.projects.values()];
    return html`
      <h2 id="title">${t.mode === 'create' ? 'New task' : 'Edit task'}</h2>
      ${t.mode === 'create' ? html`<label>Project
          <select name="project" required @change=${(e: Event) => { this.project = (e.target as HTMLSelectElement).value; }}>
            ${projects.map((p) => html`<option value=${p.id} ?selected=${p.id === this.project}>${p.name}</option>`)}
          </select></label>` : nothing}
      <label>Title <input name="title" required maxlength="500" autocomplete="off" .defaultValue=${task?.title ?? ''}></label>
      <label>Description <textarea name="description" rows="3" .defaultValue=${task?.description ?? ''}></textarea></label>
      <div class="row">
        <label>Priority
          <select name="priority">
            ${[0, 1, 2, 3, 4].map((p) => html`<option value=${p} ?selected=${p === (task?.priority ?? 2)}>P${p}${p === 0 ? ' (most urgent)' : p === 4 ? ' (someday)' : ''}</option>`)}
          </select></label>
        ${task === null ? nothing : html`<label>Status
          <select name="status">${STATUSES.map((s) => html`<option value=${s} ?selected=${s === task.status}>${STATUS_LABELS[s]}</option>`)}</select></label>`}
      </div>
      ${task === null
        ? html`<label>Depends on (optional; Ctrl/⌘-click for several)
            <select name="depends_on" multiple>${this.choices(this.project, null, []).map((d) => html`<option value=${d.id}>${d.title}</option>`)}</select></label>`
        : html`<fieldset><legend>Dependencies</legend>
            ${task.depends_on.length === 0 ? html`<span class="muted">None.</span>` : html`<ul class="deps">${task.depends_on.map((id) => html`<li>
              <span>${this.tasks.get(id)?.title ?? shortId(id)}${task.blocked_by.includes(id) ? '' : ' ✓'}</span>
              <button type="button" @click=${() => { void this.removeDependency(task.id, id); }}>Remove</button></li>`)}</ul>`}
            <label>Add a dependency
              <select name="add_dependency"><option value="">—</option>
                ${this.choices(task.project_id, task.id, task.depends_on).map((d) => html`<option value=${d.id}>${d.title}</option>`)}</select></label>
          </fieldset>`}
      ${this.error === null ? nothing : html`<p class="error-text" role="alert">${this.error}</p>`}
      <div class="buttons">
        <button type="button" @click=${() => this.dialog.close()}>Cancel</button>
        <button type="submit" class="primary" ?disabled=${this.busy || (t.mode === 'create' && projects.length === 0)}>${t.mode === 'create' ? 'Create task' : 'Save'}</button>
      </div>`;
  }

  private renderHistory(id: string): TemplateResult {
    const h = this.history;
    const ctx = { machines: new Map(), assignments: new Map(), updates: new Map(), now: Date.now(), linkTasks: false, oneTask: true, origins: false };
    return html`<section class="history" aria-labelledby="history-title">
      <header><h3 id="history-title">History</h3><a href=${`#/activity?task=${shortId(id)}`}>Open in Activity</a></header>
      ${h.error === null ? nothing : html`<p class="error-text" role="alert">${h.error}</p>`}
      ${h.items.length === 0
        ? html`<p class="muted">${h.next === undefined ? 'Loading…' : 'Nothing yet.'}</p>`
        : html`<ol>${repeat(h.items, (e) => e.id, (e) => renderEntry(e, ctx))}${h.hasOlder ? html`<li class="sentinel" aria-hidden="true"></li>` : nothing}</ol>`}
    </section>`;
  }

  override render(): TemplateResult {
    const t = this.target;
    return html`<dialog aria-labelledby="title" @close=${() => this.dispatchEvent(new Event('close'))}>
      ${keyed(this.generation, html`<form @submit=${(e: SubmitEvent) => { void this.submit(e); }}>${t === null ? nothing : this.renderBody(t)}</form>`)}
      ${t?.mode === 'edit' ? this.renderHistory(t.id) : nothing}
    </dialog>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-task-dialog': ClareTaskDialog;
  }
}
