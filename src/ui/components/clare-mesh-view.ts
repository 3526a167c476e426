/** The mesh: every peer, connected or not, its lag, clock offset and last error; and every machine heard from. */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { shortId } from '../../protocol/short-id.js';
import { ago, stamp } from '../format.js';
import type { Machine } from '../../protocol/models.js';
import type { PeerStatus } from '../../protocol/status.js';
import { controls } from '../styles/controls.js';

@customElement('clare-mesh-view')
export class ClareMeshView extends LitElement {
  static override styles = [controls, css`
    :host {
      display: block;
    }
    h2 {
      font-size: 1.2rem;
      margin-bottom: 0.75rem;
    }
    h3 {
      font-size: 1rem;
      margin: 1.25rem 0 0.5rem;
    }
    .table {
      overflow-x: auto;
      background: var(--surface);
      border: 1px solid var(--border);
      border-radius: var(--radius);
    }
    table {
      border-collapse: collapse;
      width: 100%;
      font-size: 0.9rem;
    }
    th, td {
      text-align: left;
      padding: 0.45rem 0.65rem;
      border-bottom: 1px solid var(--surface-2);
      vertical-align: top;
    }
    th {
      color: var(--muted);
      font-weight: 600;
      font-size: 0.8rem;
      white-space: nowrap;
    }
    td.num {
      font-variant-numeric: tabular-nums;
      white-space: nowrap;
    }
    .err {
      color: var(--bad);
      max-width: 28rem;
      overflow-wrap: anywhere;
    }
    .empty {
      color: var(--muted);
    }
  `];

  @property({ attribute: false }) peers: readonly PeerStatus[] = [];
  @property({ attribute: false }) machines: ReadonlyMap<string, Machine> = new Map();
  @property({ attribute: false }) self: { readonly id: string; readonly name: string; readonly version: string; readonly started_at: string } | null = null;
  @property({ attribute: false }) now = Date.now();

  private renderPeer(p: PeerStatus): TemplateResult {
    const state = p.faulty ? html`<span class="badge bad">faulty</span>` : p.connected ? html`<span class="badge ok">connected</span>` : html`<span class="badge warn">disconnected</span>`;
    return html`<tr data-peer=${p.url ?? p.machine_id ?? ''}>
      <td>${p.name ?? '—'}<div class="muted mono">${p.url ?? '(dialled us)'}</div></td>
      <td>${state}<div class="muted" title=${stamp(p.since)}>${p.since === null ? '' : `${p.connected ? 'since' : 'down'} ${ago(p.since, this.now)}`}</div></td>
      <td class="num">${p.lag === null ? '—' : html`they lack ${p.lag.they_lack}<br>we lack ${p.lag.we_lack}`}</td>
      <td class="num">${p.clock_offset_ms === null ? '—' : `${p.clock_offset_ms > 0 ? '+' : ''}${Math.round(p.clock_offset_ms)} ms`}</td>
      <td class="num">${p.events_sent} / ${p.events_received}${p.duplicates_received > 0 ? html`<div class="muted">${p.duplicates_received} dup</div>` : nothing}</td>
      <td class=${p.last_error === null ? 'muted' : 'err'}>${p.last_error === null ? '—' : html`<b>${p.last_error.code}</b> ${p.last_error.message}<div class="muted">${ago(p.last_error.at, this.now)}</div>`}</td>
    </tr>`;
  }

  override render(): TemplateResult {
    const machines = [...this.machines.values()].sort((a, b) => (a.name ?? a.machine_id).localeCompare(b.name ?? b.machine_id));
    return html`
      <h2>Mesh</h2>
      ${this.peers.length === 0
        ? html`<p class="empty">No peers. Add one with <code>clare peer add http://HOST:8765</code>.</p>`
        : html`<div class="table"><table>
            <caption class="visually-hidden">Peers</caption>
            <thead><tr><th scope="col">Peer</th><th scope="col">State</th><th scope="col">Lag (events)</th><th scope="col">Clock offset</th><th scope="col">Sent / received</th><th scope="col">Last error</th></tr></thead>
            <tbody>${this.peers.map((p) => this.renderPeer(p))}</tbody>
          </table></div>`}
      <h3>Machines heard from</h3>
      <div class="table"><table>
        <caption class="visually-hidden">Machines</caption>
        <thead><tr><th scope="col">Machine</th><th scope="col">Id</th><th scope="col">Events held</th><th scope="col">Newest event</th></tr></thead>
        <tbody>${machines.map((m) => html`<tr>
          <td>${m.name ?? '—'}${m.machine_id === this.self?.id ? html` <span class="badge neutral">this machine</span>` : nothing}</td>
          <td class="mono" title=${m.machine_id}>${shortId(m.machine_id)}</td>
          <td class="num">${m.events}</td>
          <td title=${stamp(m.last_event_at)}>${ago(m.last_event_at, this.now)}</td>
        </tr>`)}</tbody>
      </table></div>
      ${this.self === null ? nothing : html`<p class="muted">This daemon: ${this.self.name} · clare ${this.self.version} · up since ${stamp(this.self.started_at)}</p>`}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'clare-mesh-view': ClareMeshView;
  }
}
