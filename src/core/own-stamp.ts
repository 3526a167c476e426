/**
 * The newest event of this machine its database has committed, kept in a small file
 * beside the database (`clare.db-own`). It lets the daemon notice, when it starts, a
 * database that holds less of this machine's own events than this machine already
 * wrote: an older copy put back by hand (a file-level restore, without `clare
 * restore`, which marks the database itself). Recovery (recovery.ts) then fetches
 * this machine's later events from its peers before anything is appended under its
 * id — otherwise the daemon would deliver again what only those events recorded as
 * delivered.
 *
 * What must stay true:
 * - the file claims only committed events: it is written after the commit feed says
 *   so (at most every `intervalMs`, and when the daemon stops), never before;
 * - it only rises while the daemon runs, except when a recovery ends (`settle`):
 *   what the database holds then is all there is, and the next start must not
 *   recover again for events no peer had;
 * - a file of another machine (a data directory reused under a new id) says nothing.
 *
 * A SIGKILL loses at most the last `intervalMs` of the file's rises: a copy that much
 * older than the database it replaces goes unnoticed (and costs little: the few
 * events of that window). Losing power can do the reverse — the file survives and the
 * database's last transactions do not — and then the machine recovers once, which
 * is right: its own newest events may be on a peer.
 */
import { renameSync, writeFileSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { StoreContext } from './context.js';
import { cachedStatement as stmt, type Db } from './db.js';
import { hlcSchema } from './domain.js';
import type { Hlc } from './hlc.js';
import { trustedHlc } from './ids.js';
import type { Logger } from './log.js';
import type { Service } from './service-lifecycle.js';

/** How often, at most, the file is rewritten after commits (ms). */
const WRITE_EVERY_MS = 200;

const stampSchema = z.strictObject({ machine: z.string().max(100), hlc: hlcSchema });

/** The stamp file beside a database file. */
export function ownStampFile(dbFile: string): string {
  return `${dbFile}-own`;
}

/** The newest own HLC the file says `machine` committed, or null (no file, another machine's, or unreadable). */
export function readOwnStamp(file: string, machine: string): Hlc | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return null;
  }
  const p = stampSchema.safeParse(value);
  return p.success && p.data.machine === machine ? p.data.hlc : null;
}

/** The newest event of `machine` the database holds, or null. */
export function ownWatermark(db: Db, machine: string): Hlc | null {
  const r = stmt(db, 'SELECT hlc FROM watermarks WHERE origin = ?').get(machine) as { hlc: string } | undefined;
  return r === undefined ? null : trustedHlc(r.hlc);
}

/** Keeps the stamp file at the newest own event committed (see the file comment). */
export class OwnStamp implements Service {
  readonly name = 'own-stamp';
  private high: Hlc | null;
  private written: Hlc | null;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ctx: StoreContext,
    private readonly file: string,
    private readonly log: Logger,
    private readonly intervalMs: number = WRITE_EVERY_MS,
  ) {
    const machine = ctx.clock.machine;
    this.written = readOwnStamp(file, machine);
    this.high = max(this.written, ownWatermark(ctx.db, machine));
  }

  run(): Promise<void> {
    const machine = this.ctx.clock.machine;
    this.unsubscribe ??= this.ctx.feed.subscribe((n) => {
      for (const e of n.events) if (e.origin === machine) this.high = max(this.high, e.hlc);
      if (this.high !== this.written && this.timer === null) {
        this.timer = setTimeout(() => this.flush(), this.intervalMs);
        this.timer.unref();
      }
    });
    this.flush();
    return Promise.resolve();
  }

  /** A recovery ended: the database's own newest event is all there is from now on. */
  settle(): void {
    this.high = ownWatermark(this.ctx.db, this.ctx.clock.machine);
    this.written = null;
    this.flush();
  }

  stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.flush();
    return Promise.resolve();
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.high === null || this.high === this.written) return;
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify({ machine: this.ctx.clock.machine, hlc: this.high })}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
      this.written = this.high;
    } catch (e) {
      this.log.warn('cannot write the own-events stamp beside the database; a copy of the database put back by hand will not be noticed', { file: this.file, err: e });
    }
  }
}

function max(a: Hlc | null, b: Hlc | null): Hlc | null {
  if (a === null) return b;
  return b === null || a >= b ? a : b;
}
