/**
 * Runs a command body and turns its outcome into output and an exit code:
 * a ClareError prints the message a person can act on (or its JSON body with
 * --json) and exits with the code from the error catalog.
 */
import { asClareError, ClareError } from '../core/errors.js';

export interface Common {
  readonly json: boolean;
}

export async function run(common: Common, body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (e) {
    const err = asClareError(e) ?? new ClareError('CLARE_INTERNAL', e instanceof Error ? e.message : String(e));
    if (common.json) process.stdout.write(`${JSON.stringify(err.toBody(), null, 2)}\n`);
    process.stderr.write(`clare: ${err.message}\n`);
    process.exitCode = err.exitCode;
  }
}

/**
 * Ends a command that already printed its answer (e.g. a --json report) with an
 * error exit: the message goes to stderr, stdout keeps exactly one JSON document.
 */
export function exitAfterOutput(err: ClareError): void {
  process.stderr.write(`clare: ${err.message}\n`);
  process.exitCode = err.exitCode;
}
