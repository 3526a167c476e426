/**
 * One status column of the board. A task dropped on it moves to this status.
 * The done column shows the newest few until asked for all.
 *
 * @fires clare-action - ActionEvent `update-task` when a task is dropped here.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { requestAction } from '../actions.js';
import { acceptTaskDrag, droppedTask } from '../drag.js';
import { STATUS_LABELS } from '../format.js';
import type { Project, Task, TaskStatus } from '../live/wire-types.js';
import { controls } from '../styles/controls.js';
import './clare-task-card.js';

const NO_TASKS: ReadonlyMap<string, Task> = new Map();

/** Done tasks shown before "show all". */
export const DONE_SHOWN = 30;

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
    .empty {
      color: var(--muted);
      font-size: 0.85rem;
      padding: 0.25rem;
      margin: 0;
    }
  `];

  @property({ attribute: false }) status: TaskStatus = 'open';
  @property({ attribute: false }) tasks: readonly Task[] = [];
  @property({ attribute: false }) projects: ReadonlyMap<string, Project> = new Map();
  @property({ attribute: false }) tasksById: ReadonlyMap<string, Task> = new Map();
  @property({ attribute: false }) sessionKeys: readonly string[] = [];
  @state() private over = false;
  @state() private showAll = false;

  private readonly onDrop = (e: DragEvent): void => {
    this.over = false;
    const id = droppedTask(e);
    if (id === null || this.tasksById.get(id)?.status === this.status) return;
    void requestAction(this, { kind: 'update-task', id, fields: { status: this.status } }).catch(() => undefined);
  };

  override render(): TemplateResult {
    // Only cards with dependencies get the task map (for their titles): the others keep
    // their inputs, so they skip re-rendering when some other task changes.
    const shown = this.status === 'done' && !this.showAll ? this.tasks.slice(0, DONE_SHOWN) : this.tasks;
    return html`<section class=${this.over ? 'over' : ''} aria-labelledby="h" data-status=${this.status}
        @dragover=${(e: DragEvent) => { if (acceptTaskDrag(e)) this.over = true; }}
        @dragleave=${() => { this.over = false; }} @drop=${this.onDrop}>
      <h3 id="h"><span>${STATUS_LABELS[this.status]}</span><span>${this.tasks.length}</span></h3>
      ${this.tasks.length === 0 ? html`<p class="empty">No tasks.</p>` : nothing}
      <ol>
        ${repeat(shown, (t) => t.id, (t) => html`<li><clare-task-card .task=${t} .projectName=${this.projects.get(t.project_id)?.name ?? t.project}
          .tasksById=${t.depends_on.length === 0 ? NO_TASKS : this.tasksById} .sessionKeys=${this.sessionKeys}></clare-task-card></li>`)}
      </ol>
      ${shown.length < this.tasks.length ? html`<button type="button" class="more" @click=${() => { this.showAll = true; }}>Show all ${this.tasks.length}</button>` : nothing}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-board-column': ClareBoardColumn;
  }
}
