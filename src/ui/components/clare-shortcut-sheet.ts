/**
 * The keyboard shortcuts, in a modal sheet (opened with `?`).
 *
 * @fires close - Event: the sheet was closed.
 */
import { LitElement, css, html, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { controls, dialogFrame } from '../styles/controls.js';

export const SHORTCUTS: readonly (readonly [string, string])[] = [
  ['/', 'Search (Fleet, Board)'],
  ['j / k', 'Next / previous task card (Board)'],
  ['a', 'Assign the current task to a session'],
  ['d', 'Mark the current task done'],
  ['g f, g b, g a', 'Go to Fleet, Board, Activity'],
  ['?', 'This sheet'],
  ['Esc', 'Close a dialog'],
];

@customElement('clare-shortcut-sheet')
export class ClareShortcutSheet extends LitElement {
  static override styles = [controls, dialogFrame, css`
    dialog {
      width: min(28rem, calc(100vw - 1rem));
      padding: 0.75rem 1rem 1rem;
    }
    h2 {
      font-size: 1rem;
      margin-bottom: 0.5rem;
    }
    dl {
      display: grid;
      grid-template-columns: auto 1fr;
      gap: 0.35rem 1rem;
      margin: 0 0 0.75rem;
    }
    dt {
      font-family: var(--mono);
      font-weight: 600;
    }
    dd {
      margin: 0;
    }
  `];

  @property({ type: Boolean }) open = false;
  @query('dialog') private dialog!: HTMLDialogElement;

  override updated(changed: PropertyValues<this>): void {
    if (!changed.has('open')) return;
    if (this.open && !this.dialog.open) this.dialog.showModal();
    if (!this.open && this.dialog.open) this.dialog.close();
  }

  override render(): TemplateResult {
    return html`<dialog aria-labelledby="keys-h" @close=${() => this.dispatchEvent(new Event('close'))}>
      <h2 id="keys-h">Keyboard shortcuts</h2>
      <dl>${SHORTCUTS.map(([k, what]) => html`<dt>${k}</dt><dd>${what}</dd>`)}</dl>
      <button type="button" @click=${() => this.dialog.close()}>Close</button>
    </dialog>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-shortcut-sheet': ClareShortcutSheet;
  }
}
