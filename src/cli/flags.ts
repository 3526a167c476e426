/**
 * Numeric flags with the message a person can act on: `--priority high` answers
 * "--priority is a whole number from 0 (most urgent) to 4; got "high"" (exit 2,
 * through yargs' fail handler) instead of a schema error from the daemon.
 */

interface NumberRule {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** What the flag takes, in words: "a whole number from 0 (most urgent) to 4". */
  readonly says: string;
}

/** A yargs `coerce` for a numeric flag given as a string: the number, or a plain error naming the flag. */
export function numberFlag(flag: string, rule: NumberRule): (v: unknown) => number | undefined {
  return (v: unknown) => {
    if (v === undefined) return undefined;
    const text = String(Array.isArray(v) ? v[v.length - 1] : v).trim();
    const n = Number(text);
    if (text === '' || !Number.isFinite(n) || (rule.integer && !Number.isInteger(n)) || n < rule.min || n > rule.max) {
      throw new Error(`--${flag} is ${rule.says}; got ${JSON.stringify(text)}`);
    }
    return n;
  };
}

export const PRIORITY_FLAG = { alias: 'p', type: 'string', coerce: numberFlag('priority', { min: 0, max: 4, integer: true, says: 'a whole number from 0 (most urgent) to 4' }) } as const;
export const WEIGHT_FLAG = { type: 'string', coerce: numberFlag('weight', { min: 0.1, max: 10, integer: false, says: 'a number from 0.1 to 10 (1 neutral, 2 doubles urgency)' }) } as const;
export const limitFlag = (max: number) => ({ alias: 'n', type: 'string', coerce: numberFlag('limit', { min: 1, max, integer: true, says: `a whole number from 1 to ${max}` }) } as const);
