/**
 * A live peek at a session's screen (its last 40 lines), in a modal dialog. The
 * text comes from GET /api/v1/sessions/:host/:session/screen — another host's
 * through its daemon, over the mesh — and refreshes every PEEK_REFRESH_MS while
 * the dialog is open (never two requests at once; nothing once it is closed).
 * Errors (a host out of reach, a route this daemon does not have) are shown, not
 * thrown, and polling goes on: the host may come back.
 *
 * @fires clare-action - ActionEvent `screen`.
 * @fires close - Event: the dialog was closed.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { requestAction, screenText } from '../actions.js';
import { ApiError } from '../api/api-client.js';
import { PollController } from '../live/poll-controller.js';
import { controls, dialogFrame } from '../styles/controls.js';

export const PEEK_LINES = 40;

/** How often an open peek refreshes (ms): live enough to follow an agent, light on a remote host. */
export const PEEK_REFRESH_MS = 2000;

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
    .live {
      font-size: 0.75rem;
      color: var(--muted);
    }
  `];

  /** The session to show (`host`, `session`); null closes the dialog. */
  @property({ attribute: false }) target: { readonly host: string; readonly session: string } | null = null;
  @state() private text: string | null = null;
  @state() private error: string | null = null;
  @state() private loading = false;
  @state() private paused = false;
  /** Wall-clock ms of the last good answer, shown as "updated …". */
  @state() private updatedAt: number | null = null;
  @query('dialog') private dialog!: HTMLDialogElement;
  private readonly poll = new PollController(this, () => this.load(), () => this.target !== null && !this.paused && this.dialog?.open === true, PEEK_REFRESH_MS);

  override updated(changed: PropertyValues<this>): void {
    if (!changed.has('target')) return;
    if (this.target === null) {
      this.poll.stop();
      if (this.dialog.open) this.dialog.close();
      return;
    }
    if (!this.dialog.open) this.dialog.showModal();
    this.text = null;
    this.error = null;
    this.updatedAt = null;
    this.paused = false;
    this.poll.restart();
  }

  private async load(): Promise<void> {
    const t = this.target;
    if (t === null) return;
    this.loading = true;
    try {
      const r = await requestAction(this, { kind: 'screen', host: t.host, session: t.session, lines: PEEK_LINES }, { quiet: true });
      if (this.target !== t) return;
      const pre = this.renderRoot.querySelector('pre');
      // Follow the bottom of the screen unless the person scrolled up to read.
      const atBottom = pre === null || pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      this.text = screenText(r);
      this.error = null;
      this.updatedAt = Date.now();
      if (atBottom) {
        await this.updateComplete;
        const p = this.renderRoot.querySelector('pre');
        if (p !== null) p.scrollTop = p.scrollHeight;
      }
    } catch (e) {
      if (this.target !== t) return;
      // The last screen stays under the error: the host may only be out of reach for a moment.
      this.error = e instanceof ApiError && e.status === 404 && e.code === 'CLARE_NOT_FOUND' && e.message.startsWith('no route')
        ? 'This daemon cannot show session screens yet (no screen route).'
        : e instanceof Error ? e.message : String(e);
    } finally {
      if (this.target === t) this.loading = false;
    }
  }

  override render(): TemplateResult {
    const t = this.target;
    return html`<dialog aria-labelledby="title" @close=${() => { this.poll.stop(); this.dispatchEvent(new Event('close')); }}>
      <header>
        <h2 id="title">${t === null ? '' : `${t.host}:${t.session}`}</h2>
        <span class="live" aria-live="off">${this.paused ? 'paused' : 'live'}${this.updatedAt === null ? '' : ` · updated ${new Date(this.updatedAt).toLocaleTimeString()}`}</span>
        <button type="button" aria-pressed=${this.paused ? 'true' : 'false'} @click=${() => this.togglePause()}>${this.paused ? 'Resume' : 'Pause'}</button>
        <button type="button" @click=${() => this.dialog.close()}>Close</button>
      </header>
      ${this.error !== null ? html`<p class="msg error-text" role="alert">${this.error}</p>` : nothing}
      ${this.text === null ? (this.error === null ? html`<p class="msg muted">${this.loading ? 'Loading…' : ''}</p>` : nothing)
        : html`<pre tabindex="0" aria-label="Screen">${this.text}</pre>`}
    </dialog>`;
  }

  private togglePause(): void {
    this.paused = !this.paused;
    if (this.paused) this.poll.stop();
    else this.poll.restart();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-screen-dialog': ClareScreenDialog;
  }
}
