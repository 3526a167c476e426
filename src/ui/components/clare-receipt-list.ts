/** The per-session receipts of a broadcast: delivered, failed, expired, and who is still pending. */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Receipt } from '../../protocol/models.js';
import { controls } from '../styles/controls.js';

const TONE = { delivered: 'ok', failed: 'bad', expired: 'warn' } as const;

@customElement('clare-receipt-list')
export class ClareReceiptList extends LitElement {
  static override styles = [controls, css`
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-wrap: wrap;
      gap: 0.3rem;
    }
    .summary {
      font-size: 0.8rem;
      color: var(--muted);
      margin: 0 0 0.3rem;
    }
  `];

  @property({ attribute: false }) receipts: readonly Receipt[] = [];

  override render(): TemplateResult {
    const n = (s: Receipt['status']): number => this.receipts.filter((r) => r.status === s).length;
    return html`
      <p class="summary" data-receipts=${this.receipts.length}>${this.receipts.length === 0 ? 'No receipts yet' : `${n('delivered')} delivered · ${n('failed')} failed · ${n('expired')} expired`}</p>
      ${this.receipts.length === 0 ? nothing : html`<ul aria-label="Receipts">${this.receipts.map((r) => html`<li>
        <span class="badge ${TONE[r.status]}" title=${r.detail ?? ''} data-receipt=${`${r.host}:${r.session}`}>${r.host}:${r.session} · ${r.status}</span></li>`)}</ul>`}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-receipt-list': ClareReceiptList;
  }
}
