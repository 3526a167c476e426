/**
 * Notices (mostly failed actions), announced politely to screen readers.
 *
 * @fires dismiss - CustomEvent<number>: the id of the notice the person closed.
 */
import { LitElement, css, html, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { controls } from '../styles/controls.js';

export interface Notice {
  readonly id: number;
  readonly tone: 'ok' | 'bad' | 'info';
  readonly text: string;
}

@customElement('clare-toast-region')
export class ClareToastRegion extends LitElement {
  static override styles = [controls, css`
    :host {
      position: fixed;
      right: 1rem;
      bottom: 1rem;
      z-index: 20;
      max-width: min(28rem, calc(100vw - 2rem));
    }
    .list {
      display: flex;
      flex-direction: column;
      gap: 0.5rem;
    }
    .toast {
      display: flex;
      gap: 0.75rem;
      align-items: flex-start;
      padding: 0.6rem 0.75rem;
      border-radius: var(--radius);
      border: 1px solid var(--border);
      background: var(--surface);
      box-shadow: 0 4px 16px rgb(0 0 0 / 0.2);
    }
    .toast p {
      margin: 0;
      flex: 1;
      overflow-wrap: anywhere;
    }
    .toast.bad {
      border-left: 4px solid var(--bad);
    }
    .toast.ok {
      border-left: 4px solid var(--ok);
    }
  `];

  @property({ attribute: false }) notices: readonly Notice[] = [];

  override render(): TemplateResult {
    return html`<div class="list" role="status" aria-live="polite">
      ${repeat(this.notices, (n) => n.id, (n) => html`<div class="toast ${n.tone}">
        <p>${n.text}</p>
        <button type="button" aria-label="Dismiss" @click=${() => this.dispatchEvent(new CustomEvent('dismiss', { detail: n.id }))}>✕</button>
      </div>`)}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-toast-region': ClareToastRegion;
  }
}
