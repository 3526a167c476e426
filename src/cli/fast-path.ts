/**
 * The hot verbs without yargs. Agents run `clare next`, `clare task add|start|done`
 * and `clare update` on every step; loading and configuring yargs is a fifth of
 * their start-up. This parser takes only plain, valid invocations of those verbs —
 * the verb words first, then positionals and the verb's own flags, each flag once
 * (an array flag may repeat), every value well formed — and runs the same handler
 * yargs would with the same arguments. Anything else (help, --version, an unknown
 * or misspelt flag, a missing or extra argument, a value a flag's check refuses,
 * `--`, `--no-…`, values that begin with `-`) returns null, and main.ts hands the
 * whole command line to yargs, which prints exactly what it always printed.
 * test/unit/cli-fast-path.test.ts checks that both parsers agree on the arguments.
 */
import type { HotVerb, OptionSpec } from './hot-verbs.js';
import { NEXT, TASK_ADD, TASK_START, taskStatusVerb, UPDATE } from './hot-verbs.js';
import type { TaskStatus } from '../protocol/models.js';

/** What the fast parser hands a handler: camelCase keys, as yargs' handlers get them. */
export type FastArgs = Readonly<Record<string, unknown>>;

const JSON_FLAG: OptionSpec = { type: 'boolean', default: false };
const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Parses `rest` (the words after the verb) against `spec`; null when yargs must
 * decide (see the module comment). Defaults and coerce checks apply as in yargs.
 */
export function parseHot(spec: HotVerb, rest: readonly string[]): FastArgs | null {
  const flags = new Map<string, [string, OptionSpec]>([['--json', ['json', JSON_FLAG]]]);
  for (const [name, o] of Object.entries(spec.options)) {
    flags.set(`--${name}`, [name, o]);
    if (o.alias !== undefined) flags.set(`-${o.alias}`, [name, o]);
  }
  const values = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    if (!arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const found = flags.get(eq < 0 ? arg : arg.slice(0, eq));
    if (found === undefined) return null;
    const [name, o] = found;
    const seen = values.get(name);
    if (o.type === 'boolean') {
      // yargs reads `--force false` as a value; leave that and `--force=…` to it.
      const next = rest[i + 1];
      if (eq >= 0 || seen !== undefined || next === 'true' || next === 'false') return null;
      values.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else value = rest[++i];
    if (value === undefined || value.startsWith('-')) return null;
    if (o.array === true) values.set(name, [...(Array.isArray(seen) ? seen : []), value]);
    else if (seen !== undefined) return null;
    else values.set(name, value);
  }
  const names = Object.keys(spec.positionals);
  if (positionals.length !== names.length) return null;
  const out: Record<string, unknown> = {};
  names.forEach((n, i) => { out[camel(n)] = positionals[i]; });
  for (const [name, o] of [['json', JSON_FLAG], ...Object.entries(spec.options)] as const) {
    let v: unknown = values.has(name) ? values.get(name) : o.default;
    if (o.coerce !== undefined && v !== undefined) {
      try {
        v = o.coerce(v);
      } catch {
        return null; // yargs prints the flag's message and exits 2
      }
    }
    if (v !== undefined) out[camel(name)] = v;
  }
  return out;
}

const str = (a: FastArgs, k: string): string => String(a[k]);
const optStr = (a: FastArgs, k: string): string | undefined => (typeof a[k] === 'string' ? a[k] : undefined);
const optNum = (a: FastArgs, k: string): number | undefined => (typeof a[k] === 'number' ? a[k] : undefined);
const strs = (a: FastArgs, k: string): string[] | undefined => (Array.isArray(a[k]) ? a[k].map(String) : undefined);

interface FastVerb {
  readonly spec: HotVerb;
  readonly run: (a: FastArgs) => Promise<void>;
}

const statusVerb = (name: string, status: TaskStatus): FastVerb => ({
  spec: taskStatusVerb(name),
  run: async (a) => (await import('./commands/task-commands.js')).setTaskStatus({ json: a['json'] === true, task: str(a, 'task'), note: optStr(a, 'note') }, status),
});

const FAST: readonly FastVerb[] = [
  {
    spec: NEXT,
    run: async (a) => (await import('./commands/fleet-commands.js')).nextTasks({ json: a['json'] === true, session: optStr(a, 'session'), project: optStr(a, 'project'), limit: optNum(a, 'limit') }),
  },
  {
    spec: UPDATE,
    run: async (a) => (await import('./commands/fleet-commands.js')).postUpdate({ json: a['json'] === true, text: str(a, 'text'), task: optStr(a, 'task'), session: optStr(a, 'session') }),
  },
  {
    spec: TASK_ADD,
    run: async (a) => (await import('./commands/task-commands.js')).addTask({
      json: a['json'] === true, project: str(a, 'project'), title: str(a, 'title'), priority: optNum(a, 'priority'), dependsOn: strs(a, 'dependsOn'), description: optStr(a, 'description'),
    }),
  },
  {
    spec: TASK_START,
    run: async (a) => (await import('./commands/task-commands.js')).startTask({ json: a['json'] === true, task: str(a, 'task'), session: optStr(a, 'session'), force: a['force'] === true, note: optStr(a, 'note') }),
  },
  statusVerb('done', 'done'),
];

/** The hot verb `args` names and its parsed arguments, or null when yargs must handle the command line. */
export function matchHot(args: readonly string[]): { readonly verb: FastVerb; readonly args: FastArgs } | null {
  for (const verb of FAST) {
    const { words } = verb.spec;
    if (!words.every((w, i) => args[i] === w)) continue;
    const parsed = parseHot(verb.spec, args.slice(words.length));
    return parsed === null ? null : { verb, args: parsed };
  }
  return null;
}

/** Runs the command when it is a plain hot-verb invocation; false when yargs must handle it. */
export async function runHot(args: readonly string[]): Promise<boolean> {
  const hit = matchHot(args);
  if (hit === null) return false;
  await hit.verb.run(hit.args);
  return true;
}
