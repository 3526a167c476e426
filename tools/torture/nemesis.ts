/**
 * Carries out a schedule (schedule.ts) against the running mesh: kills and
 * restarts daemons, partitions and heals links, disturbs frames, steps clocks,
 * wipes and restores databases, and runs a peer on the previous release. Every
 * action is logged with its real time, so a failure can be read against it.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { TortureNode } from './node.js';
import type { Episode, FrameMode } from './schedule.js';
import type { FrameFaults, WsProxy } from './ws-proxy.js';

export interface FaultRecord {
  readonly kind: string;
  readonly nodes: readonly string[];
  readonly detail: string;
  /** Ms from the start of the writes. */
  readonly at_ms: number;
  healed_at_ms: number | null;
  error: string | null;
}

export interface NemesisDeps {
  readonly nodes: ReadonlyMap<string, TortureNode>;
  /** Proxy carrying `from`'s dial to `to`, keyed `from>to`. */
  readonly proxies: ReadonlyMap<string, WsProxy>;
  readonly legacy: TortureNode | null;
  /** The previous release's bundle (for the old-version fault). */
  readonly previousCli: string | null;
  readonly currentCli: string;
  readonly t0: number;
  readonly log: (line: string) => void;
  /** A track-A fault was healed at this time (ms since t0): start timing convergence. */
  readonly onHeal: (atMs: number, kind: string) => void;
  /** A track-A fault is being injected now. */
  readonly onInject: (kind: string) => void;
  /** A node (re)joined: its writer may run. */
  readonly onNodeUp: (n: TortureNode) => void;
  readonly onNodeDown: (n: TortureNode) => void;
}

function framesFor(mode: FrameMode, rnd: () => number): FrameFaults {
  switch (mode) {
    case 'delay':
      return { delayMs: 50 + Math.floor(rnd() * 400) };
    case 'reorder':
      return { reorderP: 0.35, reorderMs: 400 };
    case 'duplicate':
      return { duplicateP: 0.35, duplicateMs: 300 };
    case 'mixed':
      return { delayMs: 20 + Math.floor(rnd() * 100), reorderP: 0.2, reorderMs: 250, duplicateP: 0.2, duplicateMs: 200 };
  }
}

export class Nemesis {
  readonly log: FaultRecord[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly wakers: (() => void)[] = [];
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  private scheduleDone: Promise<void> = Promise.resolve();
  /** Backups taken for restore episodes, by the episode's offset. */
  private readonly backups = new Map<number, string>();

  constructor(private readonly d: NemesisDeps, private readonly rnd: () => number) {}

  private now(): number {
    return Date.now() - this.d.t0;
  }

  /**
   * Schedules every episode relative to t0. Track-A episodes (everything but frame
   * faults) run one after another: on a loaded machine a restart can outlast its
   * slot, and the next episode then starts when it is done (the log has the real
   * times), so a fault never lands on a daemon still coming up from the last one.
   */
  start(episodes: readonly Episode[]): void {
    const trackA = episodes.filter((e) => e.kind !== 'frames');
    for (const e of episodes) if (e.kind === 'frames') this.at(e.at_ms, () => this.run(e));
    const p: Promise<void> = (async () => {
      for (const e of trackA) {
        // A restore's backup is taken its lead time before the restore itself.
        const lead = e.kind === 'restore' ? e.at_ms - (e.backup_at_ms ?? e.at_ms) : 0;
        const wait = this.d.t0 + e.at_ms - lead - Date.now();
        if (wait > 0) await this.sleepUnlessStopped(wait);
        if (this.stopped) return;
        await this.run(e).catch((err: unknown) => this.d.log(`nemesis: ${String(err)}`));
      }
    })().finally(() => this.running.delete(p));
    this.running.add(p);
    this.scheduleDone = p;
  }

  /**
   * Resolves when every track-A episode has run (or the nemesis was cancelled), or
   * after `ms`, saying which. On a loaded machine the episodes run late; the campaign
   * waits for them so every scheduled fault kind is injected.
   */
  async scheduleRun(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([this.scheduleDone.then(() => true), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private at(ms: number, fn: () => Promise<void>): void {
    const t = setTimeout(() => {
      if (this.stopped) return;
      const p = fn().catch((err: unknown) => this.d.log(`nemesis: ${String(err)}`)).finally(() => this.running.delete(p));
      this.running.add(p);
    }, Math.max(0, this.d.t0 + ms - Date.now()));
    this.timers.push(t);
  }

  private sleepUnlessStopped(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wakers.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** No episode starts from now on (those in progress go on to their heal). */
  cancel(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const w of this.wakers.splice(0)) w();
  }

  /** Cancels what has not started and waits for episodes in progress to heal. */
  async stop(): Promise<void> {
    this.cancel();
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private node(name: string): TortureNode {
    const n = this.d.nodes.get(name) ?? (this.d.legacy?.name === name ? this.d.legacy : undefined);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  private record(kind: string, nodes: readonly string[], detail: string): FaultRecord {
    const r: FaultRecord = { kind, nodes, detail, at_ms: this.now(), healed_at_ms: null, error: null };
    this.log.push(r);
    if (kind !== 'frames') this.d.onInject(kind);
    this.d.log(`nemesis t+${(r.at_ms / 1000).toFixed(1)}s ${kind} ${nodes.join(',')} ${detail}`);
    return r;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }

  private async run(e: Episode): Promise<void> {
    switch (e.kind) {
      case 'kill':
        return this.restartAfter(e, 'kill', '', async (n) => n.kill());
      case 'wipe':
        return this.restartAfter(e, 'wipe', 'database deleted, `clare init` with the old config', async (n) => {
          await n.kill();
          n.wipeDb();
          const r = n.cli(['init', '--name', n.name, '--json'], this.d.currentCli);
          if (r.code !== 0) throw new Error(`clare init after wipe failed: ${r.stderr}`);
        });
      case 'restore': {
        await this.backup(e);
        await this.sleep(e.at_ms - (e.backup_at_ms ?? e.at_ms));
        const backup = this.backups.get(e.at_ms);
        if (backup === undefined) {
          const r = this.record('restore-skipped', e.nodes, 'no backup could be taken (the database was missing at the backup time)');
          r.healed_at_ms = r.at_ms;
          return;
        }
        return this.restartAfter(e, 'restore', `from the backup taken ${((e.at_ms - (e.backup_at_ms ?? e.at_ms)) / 1000).toFixed(1)} s before`, async (n) => {
          await n.kill();
          n.wipeDb();
          copyFileSync(backup, n.dbFile);
        });
      }
      case 'partition':
        return this.partition(e);
      case 'frames':
        return this.frames(e);
      case 'clock-within':
      case 'clock-beyond':
        return this.clock(e);
      case 'old-version':
        return this.oldVersion(e);
    }
  }

  /** Takes the fault's node down with `down`, holds, and starts it again. */
  private async restartAfter(e: Episode, kind: string, detail: string, down: (n: TortureNode) => Promise<void>): Promise<void> {
    const n = this.node(e.nodes[0]!);
    const r = this.record(kind, e.nodes, detail);
    this.d.onNodeDown(n);
    try {
      await down(n);
      await this.sleep(e.hold_ms);
      await n.start(n.binary);
      this.d.onNodeUp(n);
    } catch (err) {
      r.error = String(err);
    }
    r.healed_at_ms = this.now();
    this.d.onHeal(r.healed_at_ms, kind);
  }

  /** Online backup (SQLite's backup API) of a running daemon's database. */
  private async backup(e: Episode): Promise<void> {
    const n = this.node(e.nodes[0]!);
    if (!existsSync(n.dbFile)) return;
    const dest = join(n.dir, `backup-${e.at_ms}.db`);
    const db = new Database(n.dbFile, { readonly: true, fileMustExist: true });
    try {
      await db.backup(dest);
      this.backups.set(e.at_ms, dest);
      this.d.log(`nemesis t+${(this.now() / 1000).toFixed(1)}s backup of ${n.name} taken for the restore at t+${(e.at_ms / 1000).toFixed(1)}s`);
    } finally {
      db.close();
    }
  }

  private pairs(a: readonly string[], b: readonly string[]): WsProxy[] {
    const out: WsProxy[] = [];
    for (const x of a) {
      for (const y of b) {
        const p1 = this.d.proxies.get(`${x}>${y}`);
        const p2 = this.d.proxies.get(`${y}>${x}`);
        if (p1 !== undefined) out.push(p1);
        if (p2 !== undefined) out.push(p2);
      }
    }
    return out;
  }

  private async partition(e: Episode): Promise<void> {
    // The legacy node, when up, sits on the second side.
    const other = [...(e.other ?? [])];
    if (this.d.legacy !== null) other.push(this.d.legacy.name);
    const ps = this.pairs(e.nodes, other);
    const r = this.record('partition', e.nodes, `${e.partition_mode} from [${other.join(',')}]`);
    for (const p of ps) p.setPartition(e.partition_mode ?? 'reset');
    await this.sleep(e.hold_ms);
    for (const p of ps) p.setPartition('none');
    r.healed_at_ms = this.now();
    this.d.onHeal(r.healed_at_ms, 'partition');
  }

  private async frames(e: Episode): Promise<void> {
    const ps: WsProxy[] = [];
    for (const l of e.other ?? []) {
      const [a, b] = l.split('~') as [string, string];
      ps.push(...this.pairs([a], [b]));
    }
    const f = framesFor(e.frame_mode ?? 'mixed', this.rnd);
    const r = this.record('frames', [], `${e.frame_mode} ${JSON.stringify(f)} on ${(e.other ?? []).join(' ')}`);
    for (const p of ps) p.setFaults(f);
    await this.sleep(e.hold_ms);
    for (const p of ps) p.setFaults({});
    r.healed_at_ms = this.now();
  }

  private async clock(e: Episode): Promise<void> {
    const n = this.node(e.nodes[0]!);
    const r = this.record(e.kind, e.nodes, `stepped ${e.offset_ms! > 0 ? '+' : ''}${e.offset_ms} ms`);
    n.setClockOffset(e.offset_ms ?? 0);
    await this.sleep(e.hold_ms);
    n.setClockOffset(0);
    r.healed_at_ms = this.now();
    this.d.onHeal(r.healed_at_ms, e.kind);
  }

  /** The legacy node joins on the previous release, writes, then is upgraded in place. */
  private async oldVersion(e: Episode): Promise<void> {
    const n = this.d.legacy;
    const prev = this.d.previousCli;
    if (n === null || prev === null) return;
    const r = this.record('old-version', [n.name], 'started on the previous release');
    try {
      await n.start(prev);
      this.d.onNodeUp(n);
      await this.sleep(e.hold_ms);
      this.d.onNodeDown(n);
      await n.stop();
      await n.start(this.d.currentCli);
      this.d.onNodeUp(n);
      this.d.log(`nemesis t+${(this.now() / 1000).toFixed(1)}s ${n.name} upgraded to the current build`);
    } catch (err) {
      r.error = String(err);
    }
    r.healed_at_ms = this.now();
    this.d.onHeal(r.healed_at_ms, 'old-version');
  }

  /** Heals everything: all links clean, clocks real, every node running the current build. */
  async healAll(nodes: readonly TortureNode[]): Promise<void> {
    for (const p of this.d.proxies.values()) {
      p.setPartition('none');
      p.setFaults({});
    }
    for (const n of nodes) {
      n.setClockOffset(0);
      if (!n.running()) {
        await n.start(this.d.currentCli);
        this.d.onNodeUp(n);
      }
    }
  }
}
