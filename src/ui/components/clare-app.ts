/**
 * The dashboard shell: owns the live stream, routes between the views (#/fleet,
 * #/board, #/activity, #/mesh, #/broadcast), keeps each view's search and filters
 * in the URL (`#/board?priority=1`), passes the state down as properties, runs
 * the actions the views send up as events, handles the keyboard shortcuts
 * (clare-shortcut-sheet.ts), and notifies when a session starts waiting (opt-in).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { ActionEvent, runAction } from '../actions.js';
import { counts, hostViews } from '../derive.js';
import { filtersFromHash, hashFor, type Filters } from '../filters.js';
import { ClockController } from '../live/clock-controller.js';
import { WaitingNotifier, type NotifyState } from '../live/waiting-notifier.js';
import { contextKey } from '../live/fleet-state.js';
import { LiveController } from '../live/live-controller.js';
import { fetchColumn, fetchList } from '../live/pager.js';
import type { Task, TaskStatus } from '../../protocol/models.js';
import type { Page } from '../../protocol/page.js';
import { LoadEvent, type LoadRequest } from '../load.js';
import { memo } from '../memo.js';
import { controls } from '../styles/controls.js';
import { theme } from '../styles/theme.js';
import './clare-activity-view.js';
import './clare-board-view.js';
import './clare-broadcast-view.js';
import './clare-connection-badge.js';
import './clare-fleet-view.js';
import './clare-mesh-view.js';
import './clare-shortcut-sheet.js';
import './clare-summary-bar.js';
import './clare-toast-region.js';
import type { Notice } from './clare-toast-region.js';

const VIEWS = [
  { id: 'fleet', label: 'Fleet' },
  { id: 'board', label: 'Board' },
  { id: 'activity', label: 'Activity' },
  { id: 'mesh', label: 'Mesh' },
  { id: 'broadcast', label: 'Broadcast' },
] as const;
type View = (typeof VIEWS)[number]['id'];

function viewFromHash(): View {
  const id = window.location.hash.replace(/^#\/?/, '').split('?')[0];
  return VIEWS.find((v) => v.id === id)?.id ?? 'fleet';
}

@customElement('clare-app')
export class ClareApp extends LitElement {
  static override styles = [theme, controls, css`
    :host {
      display: block;
      min-height: 100vh;
      background: var(--bg);
      color: var(--text);
      font-family: var(--font);
      line-height: 1.4;
    }
    header {
      position: sticky;
      top: 0;
      z-index: 5;
      background: var(--surface);
      border-bottom: 1px solid var(--border);
      box-shadow: var(--shadow);
    }
    .bar {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.5rem 1rem;
      padding: 0.5rem 1rem;
      max-width: 100rem;
      margin: 0 auto;
    }
    h1 {
      font-size: 1.1rem;
      margin: 0;
      display: flex;
      align-items: baseline;
      gap: 0.5rem;
    }
    h1 .machine {
      font-weight: 400;
      color: var(--muted);
      font-size: 0.9rem;
    }
    nav {
      display: flex;
      gap: 0.25rem;
      overflow-x: auto;
      padding: 0 1rem;
      max-width: 100rem;
      margin: 0 auto;
      scrollbar-width: thin;
    }
    nav a {
      color: var(--muted);
      text-decoration: none;
      padding: 0.5rem 0.75rem;
      border-bottom: 3px solid transparent;
      font-weight: 600;
      white-space: nowrap;
    }
    nav a:hover {
      color: var(--text);
    }
    nav a[aria-current='page'] {
      color: var(--accent);
      border-bottom-color: var(--accent);
    }
    .spacer {
      flex: 1;
    }
    main {
      padding: 1rem;
      max-width: 100rem;
      margin: 0 auto;
    }
    .banner {
      background: var(--warn-soft);
      color: var(--warn);
      padding: 0.5rem 1rem;
      text-align: center;
    }
    .loading {
      padding: 3rem 1rem;
      text-align: center;
      color: var(--muted);
    }
    @media (max-width: 640px) {
      main {
        padding: 0.75rem 0.5rem;
      }
      .bar {
        padding: 0.5rem;
      }
      nav {
        padding: 0 0.25rem;
      }
      nav a {
        padding: 0.5rem 0.45rem;
        font-size: 0.92rem;
      }
      clare-summary-bar {
        order: 3;
        width: 100%;
      }
    }
  `];

  private readonly live = new LiveController(this);
  private readonly clock = new ClockController(this, 5000);

  @state() private view: View = viewFromHash();
  @state() private filters: Filters = filtersFromHash(window.location.hash);
  @state() private keysOpen = false;
  @state() private notifyState: NotifyState = 'off';
  private readonly notifier = new WaitingNotifier();
  /** The first key of a two-key shortcut (`g f`), while it waits for the second. */
  private pendingG = false;
  @state() private notices: readonly Notice[] = [];
  private noticeSeq = 0;

  // Derived views are recomputed only when their inputs change identity (fleet-state.ts).
  private readonly hosts = memo(hostViews);
  private readonly counts = memo(counts);

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    window.addEventListener('keydown', this.onKey);
    this.notifyState = this.notifier.state;
    this.addEventListener(ActionEvent.eventName, this.onAction);
    this.addEventListener(LoadEvent.eventName, this.onLoad);
  }

  override disconnectedCallback(): void {
    window.removeEventListener('hashchange', this.onHash);
    window.removeEventListener('keydown', this.onKey);
    this.removeEventListener(ActionEvent.eventName, this.onAction);
    this.removeEventListener(LoadEvent.eventName, this.onLoad);
    super.disconnectedCallback();
  }

  private readonly onHash = (): void => {
    this.view = viewFromHash();
    this.filters = filtersFromHash(window.location.hash);
  };

  /** A view changed its filters: they go into the URL (replacing, so Back leaves the view, not each keystroke). */
  private readonly onFilters = (e: CustomEvent<Filters>): void => {
    e.stopPropagation();
    this.filters = e.detail;
    history.replaceState(null, '', hashFor(this.view, e.detail));
  };

  private readonly onNotifyToggle = (): void => {
    if (this.notifier.state === 'on') {
      this.notifier.disable();
      this.notifyState = this.notifier.state;
      return;
    }
    void this.notifier.enable().then((st) => {
      this.notifyState = st;
    });
  };

  /** Keyboard shortcuts: never while typing in a field, with a modifier, or over an open dialog. */
  private readonly onKey = (e: KeyboardEvent): void => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const path = e.composedPath();
    if (path.some((n) => n instanceof HTMLElement && (n.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(n.tagName)))) return;
    if (path.some((n) => n instanceof HTMLDialogElement && n.open)) return;
    const view = this.renderRoot.querySelector('main')?.firstElementChild as (HTMLElement & { focusSearch?: () => void; shortcut?: (k: string) => boolean }) | null;
    if (this.pendingG) {
      this.pendingG = false;
      const to = ({ f: 'fleet', b: 'board', a: 'activity', m: 'mesh' } as const)[e.key as 'f' | 'b' | 'a' | 'm'];
      if (to !== undefined) {
        e.preventDefault();
        window.location.hash = `#/${to}`;
      }
      return;
    }
    if (e.key === '?') {
      e.preventDefault();
      this.keysOpen = true;
    } else if (e.key === '/' && view?.focusSearch !== undefined) {
      e.preventDefault();
      view.focusSearch();
    } else if (e.key === 'g') {
      this.pendingG = true;
    } else if (view?.shortcut?.(e.key) === true) {
      e.preventDefault();
    }
  };

  /** Runs a view's action through the API; failures become a notice unless the view shows them itself. */
  private readonly onAction = (e: ActionEvent): void => {
    e.stopPropagation();
    const p = runAction(e.action);
    e.result = p;
    p.catch((err: unknown) => {
      if (!e.quiet) this.notify('bad', err instanceof Error ? err.message : String(err));
    });
  };

  /** Loads in flight, by what they load: a second request for the same page waits for the first. */
  private readonly loading = new Set<string>();

  private readonly onLoad = (e: LoadEvent): void => {
    e.stopPropagation();
    const key = JSON.stringify(e.request);
    if (this.loading.has(key)) return;
    this.loading.add(key);
    this.load(e.request).catch((err: unknown) => {
      this.notify('bad', `could not load more: ${err instanceof Error ? err.message : String(err)}`);
    }).finally(() => this.loading.delete(key));
  };

  /** Fetches the page a view asked for and merges it into the live state (which checks it still fits). */
  private async load(r: LoadRequest): Promise<void> {
    const s = this.live.state;
    if (s === null) return;
    switch (r.kind) {
      case 'columns': {
        const key = contextKey(r.context);
        const held = s.columns.get(key);
        // The first pages of a context not loaded yet, or the next page of one of its columns.
        let statuses: TaskStatus[];
        const after: Partial<Record<TaskStatus, string>> = {};
        if (r.status === undefined) {
          if (held !== undefined) return;
          statuses = ['open', 'in_progress', 'blocked', 'done'];
        } else {
          const next = held?.[r.status].next;
          if (next === undefined || next === null) return;
          statuses = [r.status];
          after[r.status] = next;
        }
        const pages: Partial<Record<TaskStatus, Page<Task>>> = {};
        await Promise.all(statuses.map(async (st) => { pages[st] = await fetchColumn(r.context, st, after[st]); }));
        this.live.mergeColumns(s.epoch, key, pages, after);
        return;
      }
      case 'list': {
        const list = r.list;
        const after = s.lists[list].next;
        if (after === null) return;
        this.live.mergeList(s.epoch, list, after, await fetchList(list, after));
        return;
      }
    }
  }

  private notify(tone: Notice['tone'], text: string): void {
    this.notices = [...this.notices.slice(-3), { id: ++this.noticeSeq, tone, text }];
  }

  private dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  override updated(): void {
    const sessions = this.live.state?.sessions;
    if (sessions !== undefined) this.notifier.observe(sessions);
    const name = this.live.state?.status.machine.name;
    document.title = name === undefined ? 'Clare' : `Clare · ${name}`;
  }

  private renderView(): TemplateResult {
    const s = this.live.state;
    if (s === null) {
      return html`<p class="loading" role="status">${this.live.connection === 'reconnecting' ? `Cannot reach the daemon${this.live.problem === null ? '' : ` (${this.live.problem})`}; retrying…` : 'Connecting to the daemon…'}</p>`;
    }
    const now = this.clock.now;
    switch (this.view) {
      case 'fleet':
        return html`<clare-fleet-view .hosts=${this.hosts(s.sessions, s.machines, s.peers, s.status.machine, now, s.status.liveness.silent_after_s * 1000)} .tasks=${s.tasks} .fleet=${s.fleet}
          .moreSessions=${s.lists.sessions.next !== null} .now=${now} .filters=${this.filters} .notify=${this.notifyState}
          @filters-change=${this.onFilters} @notify-toggle=${this.onNotifyToggle}></clare-fleet-view>`;
      case 'board':
        return html`<clare-board-view .filters=${this.filters} @filters-change=${this.onFilters} .tasks=${s.tasks} .columns=${s.columns} .counts=${s.counts} .projects=${s.projects}
          .moreProjects=${s.lists.projects.next !== null} .sessions=${s.sessions}></clare-board-view>`;
      case 'activity':
        return html`<clare-activity-view .filters=${this.filters} @filters-change=${this.onFilters} .cursor=${s.cursor} .conflicts=${s.conflicts}
          .moreConflicts=${s.lists.conflicts.next !== null} .assignments=${s.assignments} .updates=${s.updates} .tasks=${s.tasks} .machines=${s.machines} .now=${now}></clare-activity-view>`;
      case 'mesh':
        return html`<clare-mesh-view .peers=${s.peers} .machines=${s.machines} .self=${s.status.machine} .now=${now}></clare-mesh-view>`;
      case 'broadcast':
        return html`<clare-broadcast-view .groups=${s.groups} .moreGroups=${s.lists.groups.next !== null} .updates=${s.updates} .moreUpdates=${s.lists.updates.next !== null} .sessions=${s.sessions} .now=${now}></clare-broadcast-view>`;
    }
  }

  override render(): TemplateResult {
    const s = this.live.state;
    const c = s === null ? null : this.counts(s.counts, s.peers);
    return html`
      <header>
        <div class="bar">
          <h1>Clare ${s === null ? nothing : html`<span class="machine">${s.status.machine.name}</span>`}</h1>
          ${c === null ? nothing : html`<clare-summary-bar .counts=${c}></clare-summary-bar>`}
          <span class="spacer"></span>
          <clare-connection-badge .connection=${this.live.connection} .problem=${this.live.problem} .cursor=${s?.cursor ?? null}></clare-connection-badge>
        </div>
        <nav aria-label="Views">
          ${VIEWS.map((v) => html`<a href="#/${v.id}" aria-current=${this.view === v.id ? 'page' : 'false'}>${v.label}</a>`)}
        </nav>
      </header>
      ${this.live.outdated ? html`<div class="banner" role="alert">The daemon was upgraded; reload the page to get the matching dashboard.</div>` : nothing}
      <main id="main">${this.renderView()}</main>
      <clare-shortcut-sheet .open=${this.keysOpen} @close=${() => { this.keysOpen = false; }}></clare-shortcut-sheet>
      <clare-toast-region .notices=${this.notices} @dismiss=${(e: CustomEvent<number>) => this.dismiss(e.detail)}></clare-toast-region>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-app': ClareApp;
  }
}
