/**
 * The CLI's fast path (src/cli/fast-path.ts) must hand the hot verbs exactly the
 * arguments yargs would, and leave to yargs every command line it does not fully
 * understand. Each sample is parsed by both: yargs configured from the same specs
 * (src/cli/hot-verbs.ts) the real builders use, and the fast parser.
 */
import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { matchHot, type FastArgs } from '../../src/cli/fast-path.js';
import { type HotVerb, NEXT, TASK_ADD, TASK_START, taskStatusVerb, UPDATE } from '../../src/cli/hot-verbs.js';

/** What yargs hands the handler of `spec` for `argv` (only the keys the handler reads), or the error it fails with. */
async function viaYargs(spec: HotVerb, argv: readonly string[]): Promise<FastArgs | { error: string }> {
  let got: FastArgs | { error: string } = { error: 'no handler ran' };
  const leaf = [spec.words.at(-1), ...Object.keys(spec.positionals).map((p) => `<${p}>`)].join(' ');
  const keys = ['json', ...Object.keys(spec.positionals), ...Object.keys(spec.options)].map((k) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()));
  const capture = (a: Record<string, unknown>): void => { got = Object.fromEntries(keys.filter((k) => a[k] !== undefined).map((k) => [k, a[k]])); };
  const build = (c: ReturnType<typeof yargs>): ReturnType<typeof yargs> => {
    for (const [name, p] of Object.entries(spec.positionals)) c.positional(name, p);
    return c.options(spec.options);
  };
  let y = yargs([...argv]).option('json', { type: 'boolean', default: false, global: true }).strict().exitProcess(false)
    .fail((msg, err) => { got = { error: err?.message ?? msg }; });
  y = spec.words.length === 2
    ? y.command(spec.words[0] ?? '', '', (t) => t.command(leaf, '', build, capture))
    : y.command(leaf, '', build, capture);
  await y.parseAsync();
  return got;
}

const VERBS: readonly HotVerb[] = [NEXT, UPDATE, TASK_ADD, TASK_START, taskStatusVerb('done')];

/** Plain invocations: the fast path must take every one of these. */
const PLAIN: readonly string[][] = [
  ['next'], ['next', '--json'], ['next', '-s', 'desk:api-1', '--limit', '3'], ['next', '--session=desk:api-1', '-n', '5', '--project', 'web'],
  ['update', 'halfway there'], ['update', 'done with the parser', '-t', 'a1b2c3d4', '--session', 'desk:api-2', '--json'], ['update', ''],
  ['task', 'add', 'web', 'Fix the login'], ['task', 'add', 'web', 'Fix', '-p', '0', '-d', 'aaaaaaaa', '--depends-on', 'bbbbbbbb', '--description', 'more'],
  ['task', 'add', 'web', '42', '--priority=4', '--json'], ['task', 'add', '--json', 'web', 'title with  spaces'],
  ['task', 'start', 'a1b2c3d4'], ['task', 'start', 'a1b2c3d4', '--force', '-s', 'desk:x', '--note', 'taking over'],
  ['task', 'done', 'a1b2c3d4'], ['task', 'done', 'Fix the login', '--note', 'merged', '--json'],
];

/** Command lines yargs must decide (help, errors, the forms the fast parser does not take). */
const TO_YARGS: readonly string[][] = [
  ['next', '--help'], ['next', '--version'], ['next', '--limit', '0'], ['next', '--limit', 'x'], ['next', '--bogus'], ['next', 'extra'],
  ['next', '--limit', '3', '--limit', '4'], ['next', '--no-json'], ['next', '--json=false'], ['next', '--json', 'false'], ['next', '-n'],
  ['update'], ['update', 'a', 'b'], ['update', '--', '-x'], ['update', '-x'], ['update', 'note', '--task'], ['update', 'note', '--task', '-1'],
  ['task', 'add', 'web'], ['task', 'add', 'web', 'x', '--priority', 'high'], ['task', 'add', 'web', 'x', '-p', '5'], ['task', 'add', 'web', 'x', '--dependsOn', 'a'],
  ['task', 'start', 'x', '--force', 'true'], ['task', 'start', 'x', '--force=true'], ['task', 'start'], ['task', 'done'], ['task', 'done', 'x', '-h'],
  ['task', 'list'], ['task'], ['--json', 'next'],
];

describe('the CLI fast path', () => {
  it('takes every plain hot-verb command line, with the arguments yargs gives the same handler', async () => {
    for (const argv of PLAIN) {
      const hit = matchHot(argv);
      expect(hit, argv.join(' ')).not.toBeNull();
      const spec = VERBS.find((v) => v.words.every((w, i) => argv[i] === w));
      if (hit === null || spec === undefined) continue;
      expect(hit.args, argv.join(' ')).toEqual(await viaYargs(spec, argv));
    }
  });

  it('leaves help, usage errors, bad values and unusual forms to yargs', () => {
    for (const argv of TO_YARGS) expect(matchHot(argv), argv.join(' ')).toBeNull();
  });

  it('a value yargs refuses is refused by yargs, not passed on by the fast path', async () => {
    const r = await viaYargs(NEXT, ['next', '--limit', '0']);
    expect(r).toEqual({ error: '--limit is a whole number from 1 to 1000; got "0"' });
  });
});
