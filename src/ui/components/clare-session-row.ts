/**
 * One agent session: state, idle time, assigned task, last activity. A task card
 * dropped on it is assigned to it.
 *
 * @fires peek - CustomEvent<{host: string, session: string}>: show this session's screen.
 * @fires clare-action - ActionEvent `assign` when a task is dropped on the row.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { requestAction } from '../actions.js';
import { acceptTaskDrag, droppedTask } from '../drag.js';
import { duration, secondsSince, stamp } from '../format.js';
import type { Session, SessionState, Task } from '../../protocol/models.js';
import { controls } from '../styles/controls.js';
import { shortId } from '../../protocol/short-id.js';

export interface PeekDetail {
  readonly host: string;
  readonly session: string;
}

const TONE: Readonly<Record<SessionState, string>> = { working: 'info', waiting: 'warn', idle: 'ok', exited: 'bad' };

@customElement('clare-session-row')
export class ClareSessionRow extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
    }
    .row {
      display: grid;
      grid-template-columns: minmax(7rem, 1.2fr) auto minmax(0, 2fr) auto;
      align-items: center;
      gap: 0.35rem 0.75rem;
      padding: 0.45rem 0.6rem;
      border-radius: 6px;
      border: 1px dashed transparent;
    }
    .row.waiting {
      background: var(--warn-soft);
      box-shadow: inset 3px 0 0 var(--warn);
    }
    .row.over {
      border-color: var(--accent);
      background: var(--accent-soft);
    }
    .name {
      font-weight: 600;
      overflow-wrap: anywhere;
    }
    .task {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      min-width: 0;
    }
    .meta {
      font-size: 0.8rem;
      color: var(--muted);
      grid-column: 1 / -1;
      display: flex;
      flex-wrap: wrap;
      gap: 0.2rem 0.9rem;
    }
    :host([compact]) .row {
      grid-template-columns: minmax(0, 1fr) auto;
      grid-template-areas: 'name state';
      padding: 0.35rem 0.5rem;
    }
    :host([compact]) .task, :host([compact]) .meta, :host([compact]) button {
      display: none;
    }
    @media (max-width: 640px) {
      .row {
        grid-template-columns: minmax(0, 1fr) auto;
        grid-template-areas: 'name state' 'task task' 'meta peek';
      }
      .name { grid-area: name; }
      .badge { grid-area: state; justify-self: end; }
      .task { grid-area: task; }
      .meta { grid-area: meta; grid-column: auto; }
      .row > button { grid-area: peek; align-self: end; justify-self: end; }
    }
  `];

  @property({ attribute: false }) session: Session | null = null;
  @property({ attribute: false }) task: Task | undefined = undefined;
  @property({ attribute: false }) now = Date.now();
  /** Name, state and drop target only (the board's session list). */
  @property({ type: Boolean, reflect: true }) compact = false;
  /** Name the host too (a list across hosts). */
  @property({ type: Boolean }) withHost = false;
  @state() private over = false;

  private readonly onDragOver = (e: DragEvent): void => {
    if (acceptTaskDrag(e)) this.over = true;
  };

  private readonly onDrop = (e: DragEvent): void => {
    this.over = false;
    const id = droppedTask(e);
    const s = this.session;
    if (id === null || s === null) return;
    void requestAction(this, { kind: 'assign', task: id, session: s.key }).catch(() => undefined);
  };

  override render(): TemplateResult | typeof nothing {
    const s = this.session;
    if (s === null) return nothing;
    const idle = s.state === 'working' ? null : secondsSince(s.last_activity, this.now);
    const label = this.compact || this.withHost ? `${s.host}:${s.session}` : s.session;
    return html`<div class="row ${this.over ? 'over' : ''} ${s.state === 'waiting' && !s.gone ? 'waiting' : ''}" data-session=${s.key}
        @dragover=${this.onDragOver} @dragenter=${this.onDragOver} @dragleave=${() => { this.over = false; }} @drop=${this.onDrop}>
      <span class="name">${label}</span>
      <span class="badge ${s.state === null ? 'neutral' : TONE[s.state]}" data-state=${s.state ?? 'unknown'}>${s.state ?? 'unknown'}${idle !== null && !this.compact && s.state !== 'exited' ? html` · ${duration(idle)}` : nothing}</span>
      <span class="task" title=${this.task?.title ?? ''}>${s.task_id === null ? html`<span class="muted">no task</span>` : this.task === undefined ? html`<span class="muted">task ${shortId(s.task_id)}</span>` : this.task.title}</span>
      <button type="button" @click=${() => this.dispatchEvent(new CustomEvent<PeekDetail>('peek', { detail: { host: s.host, session: s.session }, bubbles: true, composed: true }))}
        aria-label="Show the screen of ${s.key}">Peek</button>
      <span class="meta">
        <span title=${stamp(s.last_activity)}>last activity ${s.last_activity === null ? 'unknown' : `${duration(secondsSince(s.last_activity, this.now) ?? 0)} ago`}</span>
        ${s.cwd === null ? nothing : html`<span class="mono" title=${s.cwd}>${s.cwd}</span>`}
      </span>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-session-row': ClareSessionRow;
  }
}
