/**
 * Search and filters for a view, shown from and written to the URL by the shell.
 * Only the fields a view names are shown; choices come from what the view knows.
 *
 * @fires filters-change - CustomEvent<Filters>: the person changed a filter (the search after a short pause).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { activeFilters, NO_FILTERS, type Filters } from '../filters.js';
import { controls } from '../styles/controls.js';

export type FilterField = 'project' | 'host' | 'session' | 'priority' | 'state';

export interface FilterChoices {
  readonly project?: readonly { readonly value: string; readonly label: string }[];
  readonly host?: readonly string[];
  readonly session?: readonly string[];
  readonly state?: readonly string[];
}

const LABEL: Readonly<Record<FilterField, string>> = { project: 'Project', host: 'Host', session: 'Session', priority: 'Priority', state: 'State' };

@customElement('clare-filter-bar')
export class ClareFilterBar extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
    }
    form {
      display: flex;
      flex-wrap: wrap;
      align-items: flex-end;
      gap: 0.4rem 0.75rem;
    }
    input[type='search'] {
      width: min(18rem, 70vw);
    }
    select {
      max-width: 12rem;
    }
  `];

  @property({ attribute: false }) filters: Filters = NO_FILTERS;
  @property({ attribute: false }) fields: readonly FilterField[] = [];
  @property({ attribute: false }) choices: FilterChoices = {};
  /** What the search looks in, for its placeholder. */
  @property() searchHint = 'search';
  /** Accessible names, where a view's differ from the visible labels. */
  @property({ attribute: false }) names: Partial<Record<FilterField | 'q', string>> = {};
  @query('input[type="search"]') private search!: HTMLInputElement;
  private timer: number | undefined;

  /** Puts the caret in the search box (the `/` shortcut). */
  focusSearch(): void {
    this.search.focus();
    this.search.select();
  }

  override disconnectedCallback(): void {
    window.clearTimeout(this.timer);
    super.disconnectedCallback();
  }

  private emit(f: Filters): void {
    this.dispatchEvent(new CustomEvent<Filters>('filters-change', { detail: f, bubbles: true, composed: true }));
  }

  private readonly onSearch = (e: Event): void => {
    const v = (e.target as HTMLInputElement).value.trim().slice(0, 200);
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.emit({ ...this.filters, q: v }), 250);
  };

  private select(field: FilterField): TemplateResult {
    const current = this.filters[field];
    const opts: readonly { value: string; label: string }[] = field === 'priority'
      ? ['0', '1', '2', '3', '4'].map((p) => ({ value: p, label: `P${p}` }))
      : field === 'project' ? this.choices.project ?? []
        : (this.choices[field] ?? []).map((v) => ({ value: v, label: v.replace('_', ' ') }));
    // A value from the URL that is not among the choices (yet) stays shown and selected.
    const all = current !== '' && !opts.some((o) => o.value === current) ? [...opts, { value: current, label: current }] : opts;
    return html`<label>${LABEL[field]}
      <select name=${field} aria-label=${this.names[field] ?? LABEL[field]} @change=${(e: Event) => this.emit({ ...this.filters, [field]: (e.target as HTMLSelectElement).value })}>
        <option value="" ?selected=${current === ''}>${field === 'project' ? 'All projects' : 'any'}</option>
        ${all.map((o) => html`<option value=${o.value} ?selected=${o.value === current}>${o.label}</option>`)}
      </select></label>`;
  }

  override render(): TemplateResult {
    return html`<form role="search" @submit=${(e: Event) => e.preventDefault()}>
      <label>Search <input type="search" name="q" autocomplete="off" maxlength="200" placeholder=${`${this.searchHint} (/)`}
        .value=${this.filters.q} aria-label=${this.names.q ?? 'Search'} aria-keyshortcuts="/" @input=${this.onSearch}></label>
      ${this.fields.map((f) => this.select(f))}
      ${activeFilters(this.filters) > 0 ? html`<button type="button" class="link" @click=${() => { this.search.value = ''; this.emit(NO_FILTERS); }}>Clear filters</button>` : nothing}
    </form>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-filter-bar': ClareFilterBar;
  }
}
