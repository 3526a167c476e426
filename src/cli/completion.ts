/**
 * Dynamic shell completion: task ids, sessions, groups and peers, asked of the
 * local daemon while a person presses Tab. yargs' bash and zsh scripts (`clare
 * completion`) call `clare --get-yargs-completions WORDS…`; main.ts hands that
 * here. The daemon gets a short deadline and any failure (no config, no daemon,
 * slow daemon, bad answer) completes nothing extra: a shell must never hang or
 * print an error on Tab.
 */
import type { Group, Session, Task } from '../protocol/models.js';
import type { Page } from '../protocol/page.js';
import { shortIds } from '../protocol/short-id.js';
import { api, daemonTarget } from './client.js';

/** How long Tab may wait for the daemon. */
export const COMPLETE_TIMEOUT_MS = 700;

export type Kind = 'task' | 'session' | 'group' | 'peer';

/** Flags that take no value: the word after one is a positional, not the flag's value. */
const BOOLEAN_FLAGS = new Set(['--json', '--help', '--version', '--force', '--all', '--archived', '--ready', '--auto', '--remove', '--removed', '--check', '--skip-recovery', '--strict', '--mesh']);
const FLAG_KIND: Readonly<Record<string, Kind>> = { '--session': 'session', '-s': 'session', '--task': 'task', '-t': 'task', '--depends-on': 'task', '-d': 'task' };
const TASK_VERBS = new Set(['show', 'update', 'done', 'start', 'block', 'reopen', 'archive', 'depend']);

/**
 * What the word being completed is, from the words before it (`words` without the
 * program name, the last one the word being typed), or null when it is none of the kinds.
 */
export function completionKind(words: readonly string[]): Kind | null {
  const before = words.slice(0, -1);
  const flagKind = FLAG_KIND[before.at(-1) ?? ''];
  if (flagKind !== undefined) return flagKind;
  const positional: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const w = before[i] ?? '';
    if (!w.startsWith('-')) positional.push(w);
    else if (!BOOLEAN_FLAGS.has(w) && !w.includes('=')) i++; // skip the flag's value
  }
  const [verb, sub] = positional;
  const at = (n: number): boolean => positional.length === n;
  if (verb === 'task' && sub !== undefined && TASK_VERBS.has(sub)) return at(2) || (sub === 'depend' && at(3)) ? 'task' : null;
  if (verb === 'assign') return at(1) ? 'task' : at(2) ? 'session' : null;
  if (verb === 'peek' || verb === 'attach') return at(1) ? 'session' : null;
  if (verb === 'broadcast') return at(1) ? 'group' : null;
  if (verb === 'group' && (sub === 'rm' || sub === 'add')) return at(2) ? 'group' : null;
  if (verb === 'peer' && sub === 'remove') return at(2) ? 'peer' : null;
  if (verb === 'sync') return at(1) ? 'peer' : null;
  return null;
}

/** The values of `kind` the daemon knows, best first; [] on any failure. */
export async function completionValues(kind: Kind, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  try {
    const target = await daemonTarget(env);
    const get = <T>(path: string): Promise<T> => api<T>(target, 'GET', path, undefined, COMPLETE_TIMEOUT_MS);
    switch (kind) {
      case 'task': {
        const page = await get<Page<Task>>('/tasks?order=recent&limit=200');
        const open = page.items.filter((t) => t.status !== 'done');
        const short = shortIds(open.map((t) => t.id));
        return open.map((t) => short.get(t.id) ?? t.id);
      }
      case 'session':
        return (await get<Page<Session>>('/sessions?limit=500')).items.map((s) => s.key);
      case 'group':
        return (await get<Page<Group>>('/groups?limit=500')).items.map((g) => g.name);
      case 'peer':
        return (await get<{ url: string }[]>('/peers')).map((p) => p.url);
    }
  } catch {
    return [];
  }
}

/**
 * The dynamic completions for `words` (what follows `clare` on the command line,
 * the last being the word typed so far): values of the kind expected there that
 * begin with it; [] when nothing is expected or the daemon does not answer in time.
 */
export async function dynamicCompletions(words: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const kind = completionKind(words);
  if (kind === null || current.startsWith('-')) return [];
  return (await completionValues(kind, env)).filter((v) => v.startsWith(current));
}
