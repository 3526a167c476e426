/**
 * The activity stream, newest first: every step of a task's lifecycle (created, started,
 * blocked, done, reopened, edited, claimed, claim conflicts, assigned), notes and
 * broadcasts — read from the event log a page at a time (live/activity-feed.ts) —
 * with the conflicts the merge recorded. Filter by kind and by task (a task title links
 * to its history); both live in the URL (`#/activity?kind=claims&task=1a2b3c4d`).
 * Older items load as you scroll to the end (or press the button); the newest page is
 * re-read when the live stream moves.
 *
 * @fires filters-change - CustomEvent<Filters>: the kind or task filter changed.
 * @fires clare-load - LoadEvent `list` conflicts, for older conflicts.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { renderEntry, when, type EntryContext } from '../activity-entry.js';
import { ACTIVITY_FILTERS, type Filters, NO_FILTERS } from '../filters.js';
import { ActivityFeed } from '../live/activity-feed.js';
import { SentinelWatch } from '../live/sentinel-watch.js';
import { shortId } from '../../protocol/short-id.js';
import type { ActivityEntry } from '../../protocol/activity.js';
import type { LiveConflict as Conflict } from '../../protocol/live.js';
import type { Assignment, Machine, Task, Update } from '../../protocol/models.js';
import { requestLoad } from '../load.js';
import { controls } from '../styles/controls.js';

type Row = { readonly key: string; readonly at: number; readonly entry: ActivityEntry } | { readonly key: string; readonly at: number; readonly conflict: Conflict };

/** How long after the live stream moves the newest page is re-read (a burst of commits: one read). */
const REFRESH_DELAY_MS = 300;

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
      overflow-wrap: anywhere;
    }
    .body p.text {
      white-space: pre-wrap;
    }
    a.task {
      color: inherit;
      font-weight: 600;
    }
    .scope {
      display: flex;
      gap: 0.5rem;
      align-items: center;
      font-size: 0.9rem;
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

  @property({ attribute: false }) filters: Filters = NO_FILTERS;
  /** The live stream's cursor: a change re-reads the newest page. */
  @property({ attribute: false }) cursor = 0;
  @property({ attribute: false }) conflicts: ReadonlyMap<string, Conflict> = new Map();
  /** Older conflicts exist than the live state holds. */
  @property({ attribute: false }) moreConflicts = false;
  @property({ attribute: false }) assignments: ReadonlyMap<string, Assignment> = new Map();
  @property({ attribute: false }) updates: ReadonlyMap<string, Update> = new Map();
  @property({ attribute: false }) tasks: ReadonlyMap<string, Task> = new Map();
  @property({ attribute: false }) machines: ReadonlyMap<string, Machine> = new Map();
  @property({ attribute: false }) now = Date.now();
  private readonly feed = new ActivityFeed(this);
  private refreshTimer: number | undefined;
  @query('.sentinel') private sentinel!: HTMLElement | null;
  private readonly end = new SentinelWatch(() => this.loadOlder());

  override disconnectedCallback(): void {
    this.end.stop();
    window.clearTimeout(this.refreshTimer);
    super.disconnectedCallback();
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('filters')) {
      const f = ACTIVITY_FILTERS.find((x) => x.id === this.filters.kind);
      this.feed.setQuery({ task: this.filters.task === '' ? null : this.filters.task, kinds: this.filters.task !== '' || f === undefined ? null : [...f.kinds] });
    } else if (changed.has('cursor') && changed.get('cursor') !== undefined) {
      window.clearTimeout(this.refreshTimer);
      this.refreshTimer = window.setTimeout(() => this.feed.refresh(), REFRESH_DELAY_MS);
    }
  }

  /**
   * Watches the sentinel at the end of the list: coming into view loads older items.
   * Only a change of view does (items are filtered here, so a page may show nothing new).
   */
  /** Older items load when the sentinel at the end of the list comes into view. */
  override updated(): void {
    this.end.watch(this.sentinel);
  }

  private get showsConflicts(): boolean {
    return this.filters.task === '' && (this.filters.kind === '' || this.filters.kind === 'conflicts');
  }

  private loadOlder(): void {
    if (this.feed.hasOlder) this.feed.loadOlder();
    else if (this.showsConflicts && this.moreConflicts) requestLoad(this, { kind: 'list', list: 'conflicts' });
  }

  private setFilter(change: Partial<Filters>): void {
    this.dispatchEvent(new CustomEvent<Filters>('filters-change', { detail: { ...this.filters, ...change }, bubbles: true, composed: true }));
  }

  /**
   * The feed's items with the merge's conflicts among them, newest first: conflicts no
   * older than the oldest item loaded (while older items exist), so none is shown out of order.
   */
  private rows(): Row[] {
    const entries = this.feed.items;
    // A task's history comes whole from the daemon: its kind filter is applied here.
    const kinds: readonly string[] | undefined = this.filters.task === '' ? undefined : ACTIVITY_FILTERS.find((x) => x.id === this.filters.kind)?.kinds;
    const rows: Row[] = entries.filter((e) => kinds === undefined || kinds.includes(e.kind)).map((e) => ({ key: e.id, at: Date.parse(e.at), entry: e }));
    if (this.showsConflicts) {
      const horizon = this.feed.next === null ? -Infinity : Date.parse(entries.at(-1)?.at ?? new Date(8.64e15).toISOString());
      for (const c of this.conflicts.values()) {
        const at = Number(c.loser.hlc.slice(0, 15));
        if (at >= horizon) rows.push({ key: `c:${c.id}`, at, conflict: c });
      }
      rows.sort((a, b) => b.at - a.at || a.key.localeCompare(b.key));
    }
    return rows;
  }

  private renderConflict(c: Conflict, at: number): TemplateResult {
    return html`<li data-kind="conflict" data-id=${c.id}>
      <div class="kind"><span class="badge warn">conflict</span>${when(new Date(at).toISOString(), this.now)}</div>
      <div class="body">
        <p>Concurrent edits of ${c.entity} ${shortId(c.entity_id)} · field <b>${c.field}</b></p>
        <div class="by">kept <span class="value">${JSON.stringify(c.winner.value)}</span>, over <span class="value">${JSON.stringify(c.loser.value)}</span></div>
      </div>
    </li>`;
  }

  override render(): TemplateResult {
    const f = this.filters;
    const ctx: EntryContext = { machines: this.machines, assignments: this.assignments, updates: this.updates, now: this.now, linkTasks: f.task === '' };
    const rows = this.rows();
    const loading = this.feed.next === undefined;
    const older = this.feed.hasOlder || (this.showsConflicts && this.moreConflicts);
    const task = f.task === '' ? undefined : [...this.tasks.values()].find((t) => t.id === f.task || t.id.endsWith(f.task));
    return html`
      <div class="top">
        <h2>Activity</h2>
        <div class="filters" role="group" aria-label="Show">
          <button type="button" aria-pressed=${f.kind === '' ? 'true' : 'false'} @click=${() => this.setFilter({ kind: '' })}>All</button>
          ${ACTIVITY_FILTERS.map((x) => html`<button type="button" data-filter=${x.id} aria-pressed=${f.kind === x.id ? 'true' : 'false'} @click=${() => this.setFilter({ kind: x.id })}>${x.label}</button>`)}
        </div>
        ${f.task === '' ? nothing : html`<div class="scope" data-task=${f.task}>History of <b>${task?.title ?? `task ${f.task}`}</b>
          <button type="button" @click=${() => this.setFilter({ task: '' })}>Show all tasks</button></div>`}
      </div>
      ${this.feed.error === null ? nothing : html`<p class="error-text" role="alert">Could not load activity: ${this.feed.error}</p>`}
      ${rows.length === 0
        ? html`<p class="empty">${loading ? 'Loading…' : 'Nothing yet.'}</p>`
        : html`<ol>${repeat(rows, (r) => r.key, (r) => ('entry' in r ? renderEntry(r.entry, ctx) : this.renderConflict(r.conflict, r.at)))}</ol>`}
      ${this.feed.capped ? html`<p class="muted">Showing the newest ${this.feed.items.length}; pick a kind or a task to see older ones.</p>` : nothing}
      ${older ? html`<div class="sentinel"></div><button type="button" class="older" @click=${() => this.loadOlder()}>Load older</button>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-activity-view': ClareActivityView;
  }
}
