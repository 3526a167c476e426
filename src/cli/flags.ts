/**
 * Flags with the message a person can act on: `--priority high` answers
 * "--priority is a whole number from 0 (most urgent) to 4; got "high"" (CLARE_VALIDATION,
 * exit 2, through yargs' fail handler) instead of a schema error from the daemon.
 * Every typed flag of the CLI goes through one of these coerce checks;
 * test/e2e/cli-flags.test.ts walks every verb's flags with bad values.
 */
import { ClareError } from '../core/errors.js';

interface NumberRule {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** What the flag takes, in words: "a whole number from 0 (most urgent) to 4". */
  readonly says: string;
}

/** The flag's last value as typed (yargs gives an array when a flag is repeated). */
const lastText = (v: unknown): string => String(Array.isArray(v) ? v[v.length - 1] : v);

/** The refusals made in this process: yargs hands its fail handler only their message, not the coded error. */
const refusals = new Map<string, ClareError>();

function refuse(flag: string, says: string, text: string): ClareError {
  const e = new ClareError('CLARE_VALIDATION', `--${flag} is ${says}; got ${JSON.stringify(text)}`, { flag: `--${flag}`, value: text });
  refusals.set(e.message, e);
  return e;
}

/** The coded error a flag check refused a value with, by the message yargs reports; null for yargs' own usage errors. */
export function flagRefusal(message: string): ClareError | null {
  return refusals.get(message) ?? null;
}

/** A yargs `coerce` for a numeric flag given as a string: the number, or a coded error naming the flag. */
export function numberFlag(flag: string, rule: NumberRule): (v: unknown) => number | undefined {
  return (v: unknown) => {
    if (v === undefined) return undefined;
    const text = lastText(v).trim();
    const n = Number(text);
    if (text === '' || !Number.isFinite(n) || (rule.integer && !Number.isInteger(n)) || n < rule.min || n > rule.max) throw refuse(flag, rule.says, text);
    return n;
  };
}

/** A yargs `coerce` for a flag that takes one of `choices` (help still lists them through `choices`). */
export function choiceFlag<const C extends readonly string[]>(flag: string, choices: C): { readonly type: 'string'; readonly choices: C; readonly coerce: (v: unknown) => C[number] | undefined } {
  return {
    type: 'string',
    choices,
    coerce: (v: unknown) => {
      if (v === undefined) return undefined;
      const text = lastText(v);
      const hit = choices.find((c) => c === text);
      if (hit === undefined) throw refuse(flag, `one of ${choices.join(', ')}`, text);
      return hit;
    },
  };
}

/** A yargs `coerce` for a flag that takes text: it may not be empty (the daemon would refuse it with a schema message). */
export function textFlag(flag: string): (v: unknown) => string | undefined {
  return (v: unknown) => {
    if (v === undefined) return undefined;
    const text = lastText(v);
    if (text.trim() === '') throw refuse(flag, 'some text', text);
    return text;
  };
}

/** A yargs `coerce` for a repeatable text flag: no value may be empty. */
export function textsFlag(flag: string): (v: unknown) => string[] | undefined {
  return (v: unknown) => {
    if (v === undefined) return undefined;
    const texts = (Array.isArray(v) ? v : [v]).map(String);
    const empty = texts.find((t) => t.trim() === '');
    if (empty !== undefined) throw refuse(flag, 'some text', empty);
    return texts;
  };
}

/** A yargs `coerce` for a flag that takes an absolute path (the daemon runs elsewhere than this shell's folder). */
export function absolutePathFlag(flag: string): (v: unknown) => string | undefined {
  return (v: unknown) => {
    if (v === undefined) return undefined;
    const text = lastText(v);
    if (!text.startsWith('/')) throw refuse(flag, 'an absolute path (starting with /)', text);
    return text;
  };
}

export const PRIORITY_FLAG = { alias: 'p', type: 'string', coerce: numberFlag('priority', { min: 0, max: 4, integer: true, says: 'a whole number from 0 (most urgent) to 4' }) } as const;
export const WEIGHT_FLAG = { type: 'string', coerce: numberFlag('weight', { min: 0.1, max: 10, integer: false, says: 'a number from 0.1 to 10 (1 neutral, 2 doubles urgency)' }) } as const;
export const limitFlag = (max: number) => ({ alias: 'n', type: 'string', coerce: numberFlag('limit', { min: 1, max, integer: true, says: `a whole number from 1 to ${max}` }) } as const);
/** `peek --lines`: the daemon's screen route takes 1…2000. */
export const LINES_FLAG = { alias: 'n', type: 'string', default: 40, coerce: numberFlag('lines', { min: 1, max: 2000, integer: true, says: 'a whole number of lines from 1 to 2000' }) } as const;
/** `health --wait`: seconds, up to a day (a readiness check that waits longer is a mistake). */
export const WAIT_FLAG = { type: 'string', coerce: numberFlag('wait', { min: 0, max: 86_400, integer: false, says: 'a number of seconds from 0 to 86400' }) } as const;
export const TASK_STATUS_CHOICES = ['open', 'in_progress', 'blocked', 'done'] as const;

/** "1h30m", "45s", "2d" → seconds; null when `s` is not such a duration. */
export function parseDuration(s: string): number | null {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s.trim());
  if (m === null || s.trim() === '' || m.slice(1).every((g) => g === undefined)) return null;
  const [d, h, mi, se] = m.slice(1).map((g) => Number(g ?? 0)) as [number, number, number, number];
  return d * 86_400 + h * 3600 + mi * 60 + se;
}

/** A yargs `coerce` for a duration flag: seconds, or a coded error naming the flag. */
export function durationFlag(flag: string): (v: unknown) => number | undefined {
  return (v: unknown) => {
    if (v === undefined) return undefined;
    const text = lastText(v);
    const s = parseDuration(text);
    if (s === null || s === 0) throw refuse(flag, 'a duration such as 90s, 15m, 1h, 2d or 1h30m', text);
    return s;
  };
}

/** `broadcast --ttl`. */
export const TTL_FLAG = { type: 'string', coerce: durationFlag('ttl') } as const;
