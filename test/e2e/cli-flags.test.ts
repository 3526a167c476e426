/**
 * Every flag that takes a value, of every verb, given a bad value answers a message
 * a person can act on — never a raw schema (zod) or yargs validation text. The verbs
 * and flags are read from the built CLI's own --help, so a flag added later is
 * walked too. Typed flags (numbers, choices, durations, text) answer
 * "--flag is …; got …" with CLARE_VALIDATION (exit 2, the coded body with --json)
 * before any request; the rest (ids, names, session refs) go to a real daemon,
 * whose answer must be as plain.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliResult, machinePool, type TestMachine } from '../helpers/daemon.js';

const pool = machinePool();
let m: TestMachine;

/** Verbs that act outside the daemon (files, systemd, the terminal, a new daemon): not walked. */
const SKIP = new Set(['init', 'serve', 'service', 'restore', 'attach', 'backup', 'export', 'import', 'rebuild', 'spawn', 'completion']);
/** Flags whose values the CLI checks itself: each must answer "--flag is …". */
const TYPED = new Set(['limit', 'lines', 'wait', 'ttl', 'priority', 'weight', 'status', 'order', 'kind', 'search', 'path']);
/** What raw schema or yargs validation messages look like. */
const RAW = /Invalid input|expected \w+, received|Too (small|big)|Invalid values|Invalid option|Argument: /;
const POSITIONAL: Readonly<Record<string, string>> = { session: 'out:s1', url: 'http://127.0.0.1:1', host: 'out', project: 'web', task: 'Fix it', title: 'Fix it', text: 'hi', group: 'g', name: 'g', patterns: 'out:*' };

interface Verb { readonly words: readonly string[]; readonly positionals: readonly string[]; readonly flags: readonly string[] }

function help(words: readonly string[]): string {
  const r = m.cli([...words, '--help'], { COLUMNS: undefined });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** Every leaf verb with its required positionals and its value-taking flags, from --help. */
function walk(words: readonly string[], usage: string, out: Verb[]): void {
  const text = help(words);
  const subs = [...text.matchAll(/^ {2}clare ((?:[a-z][a-z-]* ?)+)/gm)].map((x) => (x[1] ?? '').trim().split(' ')).filter((p) => p.length === words.length + 1 && p.slice(0, -1).join(' ') === words.join(' ')).map((p) => p.at(-1) ?? '');
  if (subs.length > 0) {
    for (const s of subs) if (!SKIP.has(s)) walk([...words, s], text.split('\n').find((l) => l.startsWith(`  clare ${[...words, s].join(' ')}`)) ?? '', out);
    return;
  }
  const positionals = [...usage.matchAll(/<([a-z-]+)(?:\.\.)?>/g)].map((x) => x[1] ?? '');
  const flags: string[] = [];
  const options = text.slice(text.indexOf('Options:'));
  for (const block of options.split(/\n(?= +(?:-\w, )?--)/)) {
    const name = /^ +(?:-\w, )?--([a-z][a-z-]*)/.exec(block)?.[1];
    if (name !== undefined && name !== 'json' && /\[(string|number|array)\]/.test(block)) flags.push(name);
  }
  out.push({ words, positionals, flags });
}

/** The CLI, asynchronously (the walk runs a few at a time: it is a few hundred processes). */
function clare(argv: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...argv], { env: m.env, encoding: 'utf8', timeout: 60_000 }, (e, stdout, stderr) => {
      resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : -1, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  m = await pool.machine({ name: 'out' });
  await m.start();
  expect(m.cli(['project', 'add', 'web']).code).toBe(0);
  expect(m.cli(['task', 'add', 'web', 'Fix it']).code).toBe(0);
}, 60_000);
afterAll(() => pool.release());

describe('bad flag values', () => {
  it('every verb\'s value-taking flags answer a plain message, typed ones "--flag is …" with CLARE_VALIDATION', async () => {
    const verbs: Verb[] = [];
    walk([], '', verbs);
    const cases = verbs.flatMap((v) => v.flags.flatMap((flag) => ['zz-bogus', ''].map((bad) => ({ flag, bad, argv: [...v.words, ...v.positionals.map((p) => POSITIONAL[p] ?? 'x'), `--${flag}`, bad] }))));
    const walked = new Set<string>();
    const check = async ({ flag, bad, argv }: (typeof cases)[number]): Promise<void> => {
      const r = await clare(argv);
      const what = `clare ${argv.join(' ')} → ${r.code}: ${r.stderr}`;
      expect.soft(r.stderr, what).not.toMatch(RAW);
      if (r.code !== 0) expect.soft(r.stderr, what).toMatch(/^clare: \S/);
      if (TYPED.has(flag) && !(flag === 'search' && bad !== '')) {
        walked.add(flag);
        expect.soft(r.code, what).toBe(2);
        expect.soft(r.stderr, what).toContain(`clare: --${flag} is `);
        const j = await clare([...argv, '--json']);
        expect.soft(JSON.parse(j.stdout), what).toMatchObject({ error: { code: 'CLARE_VALIDATION', details: { flag: `--${flag}`, value: bad } } });
      }
    };
    const queue = [...cases];
    await Promise.all(Array.from({ length: 3 }, async () => {
      for (let c = queue.shift(); c !== undefined; c = queue.shift()) await check(c);
    }));
    // The walk reached every typed flag (a help-format change cannot make it vacuous).
    expect(cases.length).toBeGreaterThan(40);
    expect([...walked].sort()).toEqual([...TYPED].sort());
  }, 600_000);
});
