/**
 * What a person can do on the page, as data. Views never call the API: they
 * dispatch an ActionEvent (bubbling, composed) and await `result`, which the app
 * shell fills in synchronously while the event is dispatched. Every action is one
 * call of the JSON API the CLI uses.
 */
import { apiRequest, seg } from './api/api-client.js';
import type { TaskStatus } from '../protocol/models.js';

export interface TaskFields {
  readonly title?: string;
  readonly description?: string;
  readonly priority?: number;
  readonly status?: TaskStatus;
}

export type Action =
  | { readonly kind: 'create-project'; readonly name: string }
  | { readonly kind: 'create-task'; readonly project: string; readonly title: string; readonly description: string; readonly priority: number; readonly depends_on: readonly string[] }
  | { readonly kind: 'update-task'; readonly id: string; readonly fields: TaskFields }
  | { readonly kind: 'dependency'; readonly id: string; readonly depends_on: string; readonly remove: boolean }
  | { readonly kind: 'assign'; readonly task: string; readonly session: string }
  | { readonly kind: 'unassign'; readonly assignment: string }
  | { readonly kind: 'broadcast'; readonly group: string; readonly message: string; readonly ttl_s: number | null }
  | { readonly kind: 'screen'; readonly host: string; readonly session: string; readonly lines: number };

/** Runs an action against the API. */
export function runAction(a: Action): Promise<unknown> {
  switch (a.kind) {
    case 'create-project':
      return apiRequest('POST', '/projects', { name: a.name });
    case 'create-task':
      return apiRequest('POST', '/tasks', {
        project: a.project, title: a.title, priority: a.priority,
        ...(a.description === '' ? {} : { description: a.description }),
        ...(a.depends_on.length === 0 ? {} : { depends_on: a.depends_on }),
      });
    case 'update-task':
      return apiRequest('PATCH', `/tasks/${seg(a.id)}`, a.fields);
    case 'dependency':
      return apiRequest('POST', `/tasks/${seg(a.id)}/dependencies`, { depends_on: a.depends_on, remove: a.remove });
    case 'assign':
      return apiRequest('POST', '/assignments', { task: a.task, session: a.session });
    case 'unassign':
      return apiRequest('DELETE', `/assignments/${seg(a.assignment)}`);
    case 'broadcast':
      return apiRequest('POST', '/broadcast', { group: a.group, message: a.message, ...(a.ttl_s === null ? {} : { ttl_s: a.ttl_s }) });
    case 'screen':
      return apiRequest('GET', `/sessions/${seg(a.host)}/${seg(a.session)}/screen?lines=${a.lines}`);
  }
}

/** The event a view dispatches to have an action run. */
export class ActionEvent extends Event {
  static readonly eventName = 'clare-action';
  /** Set by the handler during dispatch; null if nothing handled the event. */
  result: Promise<unknown> | null = null;

  /** `quiet`: the requesting view shows failures itself, so the shell raises no notice. */
  constructor(readonly action: Action, readonly quiet = false) {
    super(ActionEvent.eventName, { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'clare-action': ActionEvent;
  }
}

/** Dispatches `action` from `el` and resolves with the API's answer. */
export function requestAction(el: EventTarget, action: Action, opts: { quiet?: boolean } = {}): Promise<unknown> {
  const ev = new ActionEvent(action, opts.quiet === true);
  el.dispatchEvent(ev);
  return ev.result ?? Promise.reject(new Error('nothing on the page handles actions'));
}

/** The screen text from the screen route's answer (plain text, or JSON with the text in a field). */
export function screenText(r: unknown): string {
  if (typeof r === 'string') return r;
  if (typeof r === 'object' && r !== null) {
    const o = r as Record<string, unknown>;
    for (const k of ['screen', 'text', 'content', 'output']) {
      const v = o[k];
      if (typeof v === 'string') return v;
    }
    const lines = o['lines'];
    if (Array.isArray(lines) && lines.every((l) => typeof l === 'string')) return lines.join('\n');
  }
  return JSON.stringify(r, null, 2);
}
