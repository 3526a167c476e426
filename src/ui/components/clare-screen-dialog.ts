/**
 * A peek at a session's screen (its last 40 lines), in a modal dialog. The text
 * comes from GET /api/v1/sessions/:host/:session/screen; errors (a host this
 * daemon cannot reach, a route this daemon does not have) are shown, not thrown.
 *
 * @fires clare-action - ActionEvent `screen`.
 * @fires close - Event: the dialog was closed.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { requestAction, screenText } from '../actions.js';
import { ApiError } from '../api/api-client.js';
import { controls, dialogFrame } from '../styles/controls.js';

export const PEEK_LINES = 40;

@customElement('clare-screen-dialog')
export class ClareScreenDialog extends LitElement {
  static override styles = [controls, dialogFrame, css`
    dialog {
      width: min(60rem, calc(100vw - 1rem));
      max-height: calc(100vh - 2rem);
    }
    header {
      display: flex;
      align-items: center;
      gap: 0.75rem;
      padding: 0.6rem 0.9rem;
      border-bottom: 1px solid var(--border);
    }
    h2 {
      font-size: 1rem;
      flex: 1;
    }
    pre {
      margin: 0;
      padding: 0.75rem 0.9rem;
      overflow: auto;
      max-height: 70vh;
      font-family: var(--mono);
      font-size: 0.8rem;
      line-height: 1.35;
      background: var(--surface-2);
      white-space: pre;
    }
    .msg {
      padding: 1rem;
      margin: 0;
    }
  `];

  /** The session to show (`host`, `session`); null closes the dialog. */
  @property({ attribute: false }) target: { readonly host: string; readonly session: string } | null = null;
  @state() private text: string | null = null;
  @state() private error: string | null = null;
  @state() private loading = false;
  @query('dialog') private dialog!: HTMLDialogElement;

  override updated(changed: PropertyValues<this>): void {
    if (!changed.has('target')) return;
    if (this.target === null) {
      if (this.dialog.open) this.dialog.close();
      return;
    }
    if (!this.dialog.open) this.dialog.showModal();
    void this.load();
  }

  private async load(): Promise<void> {
    const t = this.target;
    if (t === null) return;
    this.loading = true;
    this.error = null;
    try {
      const r = await requestAction(this, { kind: 'screen', host: t.host, session: t.session, lines: PEEK_LINES }, { quiet: true });
      if (this.target === t) this.text = screenText(r);
    } catch (e) {
      if (this.target !== t) return;
      this.text = null;
      this.error = e instanceof ApiError && e.status === 404 && e.code === 'CLARE_NOT_FOUND' && e.message.startsWith('no route')
        ? 'This daemon cannot show session screens yet (no screen route).'
        : e instanceof Error ? e.message : String(e);
    } finally {
      if (this.target === t) this.loading = false;
    }
  }

  override render(): TemplateResult {
    const t = this.target;
    return html`<dialog aria-labelledby="title" @close=${() => this.dispatchEvent(new Event('close'))}>
      <header>
        <h2 id="title">${t === null ? '' : `${t.host}:${t.session}`}</h2>
        <button type="button" @click=${() => { void this.load(); }} ?disabled=${this.loading}>Refresh</button>
        <button type="button" @click=${() => this.dialog.close()}>Close</button>
      </header>
      ${this.error !== null ? html`<p class="msg error-text" role="alert">${this.error}</p>`
        : this.text === null ? html`<p class="msg muted">${this.loading ? 'Loading…' : ''}</p>`
        : html`<pre tabindex="0" aria-label="Screen">${this.text}</pre>`}
      ${nothing}
    </dialog>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-screen-dialog': ClareScreenDialog;
  }
}
