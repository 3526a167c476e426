/**
 * One activity item as a list entry: the template the Activity view and a task's
 * history in its dialog share (their element styles the `li`, `.kind`, `.body`,
 * `.by` classes). Live rows (an assignment's delivery, a broadcast's receipts) are
 * looked up in the live state when the page holds them.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { ActivityEntry } from '../protocol/activity.js';
import type { Assignment, Machine, Update } from '../protocol/models.js';
import { shortId } from '../protocol/short-id.js';
import { machineName } from './derive.js';
import { ago, stamp } from './format.js';
import './components/clare-receipt-list.js';

export interface EntryContext {
  readonly machines: ReadonlyMap<string, Machine>;
  readonly assignments: ReadonlyMap<string, Assignment>;
  readonly updates: ReadonlyMap<string, Update>;
  readonly now: number;
  /** Task titles link to the task's history in the Activity view (off inside that history). */
  readonly linkTasks: boolean;
  /** One task's history (its dialog): notes need not name the task. */
  readonly oneTask?: boolean;
  /** Name the machine that wrote each item (off where the machines are not at hand). */
  readonly origins?: boolean;
}

/** The badge of an item: what happened, in a word or two. */
export function entryLabel(e: ActivityEntry): { readonly text: string; readonly tone: 'ok' | 'warn' | 'bad' | 'info' | 'neutral' } {
  switch (e.kind) {
    case 'created': return { text: 'created', tone: 'info' };
    case 'status':
      switch (e.status) {
        case 'done': return { text: 'done', tone: 'ok' };
        case 'blocked': return { text: 'blocked', tone: 'bad' };
        case 'open': return { text: 'reopened', tone: 'warn' };
        default: return { text: 'started', tone: 'info' };
      }
    case 'edited': return { text: 'edited', tone: 'neutral' };
    case 'archived': return { text: 'archived', tone: 'neutral' };
    case 'claimed': return { text: 'claimed', tone: 'info' };
    case 'claim_lost': return { text: 'claim conflict', tone: 'warn' };
    case 'assigned': return { text: 'assigned', tone: 'neutral' };
    case 'note': return { text: 'note', tone: 'neutral' };
    case 'broadcast': return { text: 'broadcast', tone: 'info' };
  }
}

export function when(iso: string, now: number): TemplateResult {
  return html`<time datetime=${iso} title=${stamp(iso)}>${ago(iso, now)}</time>`;
}

function taskRef(e: ActivityEntry, c: EntryContext): TemplateResult | string {
  if (e.task_id === null) return '';
  const label = e.task_title ?? `task ${shortId(e.task_id)}`;
  return c.linkTasks ? html`<a class="task" href=${`#/activity?task=${shortId(e.task_id)}`} title="This task's history">${label}</a>` : html`<b>${label}</b>`;
}

const who = (e: ActivityEntry): string => (e.host === null ? '' : `${e.host}${e.session === null ? '' : `:${e.session}`}`);

function body(e: ActivityEntry, c: EntryContext): TemplateResult {
  switch (e.kind) {
    case 'created': return html`<p>${taskRef(e, c)}${e.task_title !== null && e.text !== null && e.text !== e.task_title ? html` <span class="by">(created as “${e.text}”)</span>` : nothing}</p>`;
    case 'status': return html`<p>${taskRef(e, c)}</p>${e.text === null ? nothing : html`<div class="by">“${e.text}”</div>`}`;
    case 'edited': return html`<p>${taskRef(e, c)}</p><div class="by">changed ${(e.fields ?? []).join(', ')}</div>`;
    case 'archived': return html`<p>${taskRef(e, c)}</p>`;
    case 'claimed': return html`<p><span class="mono">${who(e)}</span> took ${taskRef(e, c)}</p>${e.previous === null ? nothing : html`<div class="by">from <span class="mono">${e.previous}</span></div>`}`;
    case 'claim_lost': return html`<p><span class="mono">${who(e)}</span> lost its claim of ${taskRef(e, c)} to a concurrent one</p>
      <div class="by">the session was ${e.notice === 'delivered' ? 'told' : `not told${e.text === null ? '' : `: ${e.text}`}`}</div>`;
    case 'assigned': {
      const a = e.ref === null ? undefined : c.assignments.get(e.ref);
      return html`<p>${taskRef(e, c)} → <span class="mono">${who(e)}</span>
        ${a === undefined ? nothing : html`<span class="badge ${a.delivery === 'delivered' ? 'ok' : a.delivery === 'failed' ? 'bad' : 'neutral'}" data-delivery=${a.delivery}>${a.delivery}</span>`}</p>
        ${a?.error == null ? nothing : html`<div class="by error-text">${a.error}</div>`}`;
    }
    case 'note': return html`<p class="text">${e.text}</p><div class="by">${who(e)}${who(e) !== '' && e.task_id !== null && c.oneTask !== true ? ' · ' : ''}${e.task_id === null || c.oneTask === true ? '' : html`on ${taskRef(e, c)}`}</div>`;
    case 'broadcast': {
      const u = e.ref === null ? undefined : c.updates.get(e.ref);
      return html`<p class="text">${e.text}</p><div class="by">to group ${e.group}</div>
        ${u === undefined ? nothing : html`<clare-receipt-list .receipts=${u.receipts}></clare-receipt-list>`}`;
    }
  }
}

/** The list entry of one item. */
export function renderEntry(e: ActivityEntry, c: EntryContext): TemplateResult {
  const l = entryLabel(e);
  return html`<li data-kind=${e.kind} data-id=${e.id}>
    <div class="kind"><span class="badge ${l.tone}">${l.text}</span>${when(e.at, c.now)}</div>
    <div class="body">${body(e, c)}${c.origins === false ? nothing : html`<div class="by">by ${machineName(c.machines, e.origin)}</div>`}</div>
  </li>`;
}
