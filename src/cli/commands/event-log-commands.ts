/**
 * `clare export FILE|-` and `clare import FILE|-`: the event log as JSON lines,
 * for archives and for moving events between Clare versions. Export reads this
 * machine's database directly (daemon running or not); import goes through the
 * daemon's sync ingest, the validated door peers' events come through, so a bad
 * line is refused with a coded error and nothing of its batch is written.
 */
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { Argv } from 'yargs';
import { ClareError, asClareError } from '../../core/errors.js';
import { api, daemonTarget } from '../client.js';
import { printJson } from '../output.js';
import { run } from '../run.js';

/** `-` means stdin/stdout (yargs hands a lone `-` positional over as ''). */
const isStdio = (f: string): boolean => f === '-' || f === '';

/** Per POST: at most this many events and bytes (the sync route's own limits are 5000 and the body limit). */
const IMPORT_BATCH = { events: 1000, bytes: 900 * 1024 } as const;

async function writeAll(out: Writable, lines: Iterable<string>): Promise<number> {
  let n = 0;
  for (const line of lines) {
    n++;
    if (!out.write(line)) await once(out, 'drain');
  }
  return n;
}

export function eventLogCommands(y: Argv<{ json: boolean }>): Argv<{ json: boolean }> {
  return y
    .command('export <file>', 'Write every event as JSON lines (HLC order) to FILE, or - for stdout', (c) => c
      .positional('file', { type: 'string', demandOption: true, describe: 'output file (written atomically), or - for stdout' }),
    (a) => run(a, async () => {
      const { clarePaths } = await import('../../core/paths.js');
      const { openDb } = await import('../../core/db.js');
      const { eventLines } = await import('../../core/event-lines.js');
      const db = openDb(clarePaths().dbFile, { readonly: true });
      try {
        if (isStdio(a.file)) {
          await writeAll(process.stdout, eventLines(db));
          return;
        }
        const target = resolve(a.file);
        const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}`);
        const out = createWriteStream(tmp, { mode: 0o600 });
        try {
          const n = await writeAll(out, eventLines(db));
          out.end();
          await once(out, 'close');
          renameSync(tmp, target);
          if (a.json) return printJson({ file: target, events: n });
          process.stderr.write(`exported ${n} events to ${target}\n`);
        } catch (e) {
          out.destroy();
          rmSync(tmp, { force: true });
          throw e;
        }
      } finally {
        db.close();
      }
    }))
    .command('import <file>', "Add the events of a JSON-lines export (FILE, or - for stdin) through the daemon's validated sync ingest; events already held are skipped", (c) => c
      .positional('file', { type: 'string', demandOption: true, describe: 'a file written by clare export, or - for stdin' }),
    (a) => run(a, async () => {
      const { lineBatches } = await import('../../core/event-lines.js');
      const target = await daemonTarget();
      if (!isStdio(a.file) && !existsSync(resolve(a.file))) throw new ClareError('CLARE_BAD_REQUEST', `no file ${resolve(a.file)}`);
      const input = isStdio(a.file) ? process.stdin : createReadStream(resolve(a.file), { encoding: 'utf8' });
      const lines = createInterface({ input, crlfDelay: Infinity });
      const source = isStdio(a.file) ? 'stdin' : a.file;
      const total = { accepted: 0, known: 0, skipped: 0, lines: 0 };
      try {
        for await (const b of lineBatches(lines, IMPORT_BATCH, source)) {
          try {
            const r = await api<{ accepted: number; known: number; skipped: number }>(target, 'POST', '/sync/events', { events: b.events });
            total.accepted += r.accepted;
            total.known += r.known;
            total.skipped += r.skipped;
            total.lines = b.lastLine;
          } catch (e) {
            const err = asClareError(e) ?? new ClareError('CLARE_INTERNAL', String(e));
            throw new ClareError(err.code, `${source} lines ${b.firstLine}–${b.lastLine} refused (nothing of them written; ${total.accepted} new events from earlier lines were imported): ${err.message}`, err.details === undefined ? undefined : { ...err.details });
          }
        }
      } finally {
        lines.close();
      }
      if (a.json) return printJson(total);
      process.stdout.write(`imported ${total.accepted} new events (${total.known} already held, ${total.skipped} stored but not applied: unknown types or newer versions)\n`);
    }));
}
