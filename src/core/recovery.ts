/**
 * Recovery: a machine whose database may lack some of its own events fetches them
 * from its peers before it appends anything under its id.
 *
 * Why: peers send a store what it lacks *after its watermark* per origin. A machine
 * that lost its database (wiped, re-initialised with its old config, or restored
 * from an older backup) and then appended one event under its own id would raise
 * its own watermark above all its lost events, and no peer would ever send them
 * back. So until its own events are back it appends nothing: local writes answer
 * CLARE_RECOVERING, and the daemon starts its writing services (session poller,
 * delivery) and start-up announcements only when recovery is done.
 *
 * The contract in `local_meta` (shared with `clare restore`): key `recovery` with
 * value `pending` means "this database may lack this machine's own newer events:
 * recover before appending". `clare restore` sets it; `clare init` (keeping an
 * existing config) and the daemon's start-up set it when the database holds no
 * event of this machine — a machine id older than its database — or fewer than
 * this machine committed (own-stamp.ts: an older copy put back by hand). A brand-new
 * machine (`clare init` that made the id) appends `machine.named` at once, so it
 * never waits; a laptop offline with its intact database has its own events and
 * keeps working offline.
 *
 * Done when (decided by replication, src/replication/replication-service.ts): a
 * peer that holds events of this machine has given us all it holds (our watermark
 * and count for our origin at least its), and so has every other connected peer
 * that holds some, or every configured peer has answered
 * and none holds any, or no peer is configured, or the operator skips it.
 */
import { RECOVERY_KEY, RECOVERY_PENDING, recoveryState } from './backup.js';
import { ClareError } from './errors.js';
import { cachedStatement as stmt, type Db } from './db.js';
import type { Logger } from './log.js';
import { ownWatermark, readOwnStamp } from './own-stamp.js';

/** Why the mark was set, for logs and status (`clare restore` leaves none: a default is shown). */
const REASON_KEY = 'recovery_reason';

/** True when `local_meta` says this database must recover before appending (the key and value are backup.ts's). */
export function recoveryPending(db: Db): boolean {
  return recoveryState(db) === RECOVERY_PENDING;
}

/** Marks the database as needing recovery, with the reason shown in logs and status. */
export function markRecoveryPending(db: Db, reason: string): void {
  const put = stmt(db, 'INSERT INTO local_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  db.transaction(() => {
    put.run(RECOVERY_KEY, RECOVERY_PENDING);
    put.run(REASON_KEY, reason);
  })();
}

/** Clears the mark (recovery done). */
export function clearRecoveryMark(db: Db): void {
  stmt(db, 'DELETE FROM local_meta WHERE key IN (?, ?)').run(RECOVERY_KEY, REASON_KEY);
}

/** True when the database holds at least one event stamped by `machine`. */
export function holdsOwnEvents(db: Db, machine: string): boolean {
  return stmt(db, 'SELECT 1 FROM watermarks WHERE origin = ?').get(machine) !== undefined;
}

/**
 * Whether this database must recover before `machine` appends anything, and why
 * (null: it need not). A database with no event of its machine gets the mark here,
 * so a daemon that stops mid-recovery goes on recovering when it starts again.
 */
export function detectRecovery(db: Db, machine: string, stampFile?: string): string | null {
  if (recoveryPending(db)) {
    const r = stmt(db, 'SELECT value FROM local_meta WHERE key = ?').get(REASON_KEY) as { value: string } | undefined;
    return r?.value ?? 'the database was marked for recovery (e.g. by `clare restore`)';
  }
  let reason: string | null = null;
  if (!holdsOwnEvents(db, machine)) {
    reason = `the database holds no event of this machine (${machine}), whose id is older than the database (a wiped or re-initialised machine)`;
  } else if (stampFile !== undefined) {
    // An older copy of the database put back by hand: it lacks own events this machine committed.
    const stamped = readOwnStamp(stampFile, machine);
    const held = ownWatermark(db, machine);
    if (stamped !== null && held !== null && stamped > held) {
      reason = `the database holds this machine's events up to ${held}, but it had committed events up to ${stamped} (${stampFile}): an older copy put back by hand?`;
    }
  }
  if (reason !== null) markRecoveryPending(db, reason);
  return reason;
}

/** Refuses local writes while closed. Every local append passes it (context.ts `commitLocal`). */
export class WriteGate {
  private refusal: ClareError | null = null;

  /** Throws the refusal while the gate is closed. */
  check(): void {
    if (this.refusal !== null) throw this.refusal;
  }

  close(refusal: ClareError): void {
    this.refusal = refusal;
  }

  open(): void {
    this.refusal = null;
  }

  get isOpen(): boolean {
    return this.refusal === null;
  }
}

/** What status shows about recovery. */
export interface RecoveryStatus {
  readonly state: 'recovering' | 'done';
  readonly reason: string;
  /** ISO time recovery started (this run of the daemon). */
  readonly since: string;
  /** ISO time it finished, and how; null while recovering. */
  readonly finished_at: string | null;
  readonly outcome: string | null;
}

/**
 * One recovery in a running daemon: closes the write gate at once, and opens it,
 * clears the `local_meta` mark and resolves `done` when `complete` is called.
 */
export class Recovery {
  readonly done: Promise<string>;
  private readonly startedAt: number;
  private finishedAt: number | null = null;
  private outcome: string | null = null;
  private resolveDone: (how: string) => void = () => undefined;

  constructor(
    private readonly db: Db,
    private readonly gate: WriteGate,
    readonly reason: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
    this.done = new Promise<string>((resolve) => {
      this.resolveDone = resolve;
    });
    gate.close(new ClareError('CLARE_RECOVERING',
      `this machine is fetching its own events from its peers before it writes anything (${reason}); `
      + 'writes are refused until that is done: see `clare status`, or `clare sync --skip-recovery` if no peer will ever have them',
      { reason }));
    log.warn('recovering: this database may lack events of this machine; fetching them from peers before appending anything', { reason });
  }

  get active(): boolean {
    return this.finishedAt === null;
  }

  /** Ends recovery (idempotent): writes are accepted again. `how` goes to the log and status. */
  complete(how: string): void {
    if (this.finishedAt !== null) return;
    this.finishedAt = this.now();
    this.outcome = how;
    clearRecoveryMark(this.db);
    this.gate.open();
    this.log.info('recovery done: writing again', { how, ms: this.finishedAt - this.startedAt });
    this.resolveDone(how);
  }

  status(): RecoveryStatus {
    return {
      state: this.finishedAt === null ? 'recovering' : 'done',
      reason: this.reason,
      since: new Date(this.startedAt).toISOString(),
      finished_at: this.finishedAt === null ? null : new Date(this.finishedAt).toISOString(),
      outcome: this.outcome,
    };
  }
}
