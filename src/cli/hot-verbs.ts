/**
 * The arguments of the verbs agents run on every step — `clare next`, `clare task
 * add|start|done`, `clare update` — as data. The yargs builders (task-commands.ts,
 * fleet-commands.ts) and the fast path (fast-path.ts) both read them, so the two
 * parsers cannot disagree on a flag's name, alias, type, default or check.
 */
import { limitFlag, PRIORITY_FLAG, textFlag, textsFlag } from './flags.js';

/** A positional as yargs takes it; every positional of a hot verb is a required string. */
export interface PositionalSpec {
  readonly type: 'string';
  readonly demandOption: true;
  readonly describe?: string;
}

/** The subset of yargs' option keys the hot verbs use (and the fast path understands). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly alias?: string;
  readonly array?: boolean;
  readonly default?: unknown;
  readonly describe?: string;
  readonly coerce?: (v: unknown) => unknown;
}

export interface HotVerb {
  /** The words before the positionals: ['task', 'add']. */
  readonly words: readonly string[];
  readonly positionals: Readonly<Record<string, PositionalSpec>>;
  readonly options: Readonly<Record<string, OptionSpec>>;
}

const TASK_REF = { type: 'string', demandOption: true, describe: 'task id, short id or title' } as const;
const NOTE = { type: 'string', describe: 'why (kept with the event)' } as const;

export const TASK_ADD = {
  words: ['task', 'add'],
  positionals: { project: { type: 'string', demandOption: true, describe: 'project name or id' }, title: { type: 'string', demandOption: true } },
  options: {
    priority: { ...PRIORITY_FLAG, describe: '0 most urgent … 4 (default 2)' },
    'depends-on': { alias: 'd', type: 'string', array: true, coerce: textsFlag('depends-on'), describe: 'task that must be done first (repeatable)' },
    description: { type: 'string' },
  },
} as const satisfies HotVerb;

export const TASK_START = {
  words: ['task', 'start'],
  positionals: { task: TASK_REF },
  options: {
    session: { alias: 's', type: 'string', describe: 'host:session taking the task; default $CLARE_SESSION' },
    force: { type: 'boolean', default: false, describe: 'take the task over from the session holding it' },
    note: NOTE,
  },
} as const satisfies HotVerb;

/** `task done|block|reopen <task> [--note]`. */
export const taskStatusVerb = (name: string) => ({ words: ['task', name], positionals: { task: TASK_REF }, options: { note: NOTE } }) as const satisfies HotVerb;

export const NEXT = {
  words: ['next'],
  positionals: {},
  options: {
    session: { alias: 's', type: 'string', describe: 'host:session asking (its held task first, then its project\'s); default $CLARE_SESSION' },
    project: { type: 'string', coerce: textFlag('project') },
    limit: { ...limitFlag(1000), default: 10 },
  },
} as const satisfies HotVerb;

export const UPDATE = {
  words: ['update'],
  positionals: { text: { type: 'string', demandOption: true } },
  options: {
    task: { alias: 't', type: 'string', describe: 'the task it is about; default $CLARE_TASK' },
    session: { alias: 's', type: 'string', describe: 'host:session posting it; default $CLARE_SESSION' },
  },
} as const satisfies HotVerb;
