/** Counts at a glance: tasks by status, sessions by state, conflicts, peers up. */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Counts } from '../derive.js';
import { controls } from '../styles/controls.js';

@customElement('clare-summary-bar')
export class ClareSummaryBar extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
      font-size: 0.85rem;
    }
    dl {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 0.9rem;
      margin: 0;
    }
    div {
      display: flex;
      gap: 0.25rem;
    }
    dt {
      color: var(--muted);
    }
    dd {
      margin: 0;
      font-weight: 600;
      font-variant-numeric: tabular-nums;
    }
  `];

  @property({ attribute: false }) counts: Counts | null = null;

  override render(): TemplateResult | typeof nothing {
    const c = this.counts;
    if (c === null) return nothing;
    const item = (label: string, n: number, tone = ''): TemplateResult => html`<div><dt>${label}</dt><dd class=${tone}>${n}</dd></div>`;
    return html`<dl aria-label="Summary">
      ${item('open', c.tasks.open)}${item('in progress', c.tasks.in_progress)}${item('blocked', c.tasks.blocked, c.tasks.blocked > 0 ? 'error-text' : '')}${item('ready', c.ready)}
      ${item('working', c.sessions['working'] ?? 0)}${item('waiting', c.sessions['waiting'] ?? 0)}
      ${c.conflicts > 0 ? item('conflicts', c.conflicts, 'error-text') : nothing}
      ${c.peers > 0 ? html`<div><dt>peers</dt><dd>${c.peersUp}/${c.peers}</dd></div>` : nothing}
    </dl>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-summary-bar': ClareSummaryBar;
  }
}
