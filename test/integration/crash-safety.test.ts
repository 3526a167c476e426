// Crash safety: a process SIGKILLed while ingesting large batches into a real SQLite
// file (WAL, as openDb sets it) leaves a store that holds whole batches only, whose
// projections equal its rebuild, and that a rerun completes to exactly the state of
// a run that never crashed. Also a kill in the middle of rebuild (one transaction)
// leaves the old projections.
//
// The child (test/fixtures/crash-ingest.mjs) runs the built store in dist/ and
// reports progress on stdout; the test kills it on a progress line, never on a
// timer. For "mid-batch" kills the child blocks inside the open transaction right
// after reporting, so the kill lands there for certain; one kill hits a free-running
// child wherever it is.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/core/db.js';
import { digest } from '../../src/core/digest.js';
import { rebuild } from '../../src/core/rebuild.js';
import { eventCount } from '../../src/core/store.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.resolve(HERE, '../fixtures/crash-ingest.mjs');
const DIST_STORE = path.resolve(HERE, '../../dist/core/store.js');

const BATCHES = 12;
const BATCH = 2000;
const SEED = 20250106;
const TOTAL = BATCHES * BATCH;

interface ChildOptions { db: string; mode: 'ingest' | 'rebuild'; pauseInBatch?: number }
interface ChildRun { lines: string[]; killed: boolean; code: number | null; signal: NodeJS.Signals | null; stderr: string }

/** Runs the child; SIGKILLs it on the first stdout line for which `killOn` is true. */
function runChild(opts: ChildOptions, killOn: (line: string) => boolean = () => false): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify({ seed: SEED, batches: BATCHES, batchSize: BATCH, ...opts })], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let killed = false;
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (!killed && killOn(line)) {
        killed = child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ lines, killed, code, signal, stderr }));
  });
}

function expectClean(run: ChildRun): void {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.lines.at(-1)).toBe('done');
}

function expectKilled(run: ChildRun): void {
  expect(run.killed).toBe(true);
  expect(run.signal).toBe('SIGKILL');
  expect(run.lines).not.toContain('done');
}

interface Reopened { events: number; digest: string; rebuiltDigest: string }

/** Opens a file as the daemon would after a crash and checks it; returns the counts and digests. */
function reopenAndCheck(file: string): Reopened {
  const db = openDb(file);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const events = db.prepare('SELECT count(*) FROM events').pluck().get() as number;
    // No partial batch: the store holds whole batches only, and the watermarks agree.
    expect(events % BATCH).toBe(0);
    expect(eventCount(db)).toBe(events);
    const before = digest(db);
    rebuild(db);
    const rebuiltDigest = digest(db);
    expect(rebuiltDigest).toBe(before);
    return { events, digest: before, rebuiltDigest };
  } finally {
    db.close();
  }
}

describe('crash safety', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clare-crash-'));
  let cleanDigest = '';
  const file = (name: string) => path.join(dir, `${name}.db`);

  beforeAll(async () => {
    if (!existsSync(DIST_STORE)) throw new Error(`${DIST_STORE} is missing: build first (npx tsc -p tsconfig.json; npm test does it)`);
    // The reference: the same history ingested by a run nobody killed.
    const run = await runChild({ db: file('clean'), mode: 'ingest' });
    expectClean(run);
    const r = reopenAndCheck(file('clean'));
    expect(r.events).toBe(TOTAL);
    cleanDigest = r.digest;
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    { name: 'mid first batch', pauseInBatch: 0 },
    { name: 'mid batch 5', pauseInBatch: 5 },
    { name: 'mid last batch', pauseInBatch: BATCHES - 1 },
  ])('killed $name: holds exactly the batches committed before, equals its rebuild, and a rerun completes it', async ({ name, pauseInBatch }) => {
    const f = file(name.replace(/ /g, '-'));
    const run = await runChild({ db: f, mode: 'ingest', pauseInBatch }, (line) => line.startsWith(`inside ${pauseInBatch} `));
    expectKilled(run);
    const committed = run.lines.filter((l) => l.startsWith('committed '));
    expect(committed).toEqual(Array.from({ length: pauseInBatch }, (_, k) => `committed ${k} ${BATCH}`));
    const r = reopenAndCheck(f);
    expect(r.events).toBe(pauseInBatch * BATCH);

    // Restart and re-send everything: the held batches are duplicates, the rest lands.
    // (After a kill in batch 0 nothing is held, so that rerun would be the clean run again.)
    if (pauseInBatch === 0) return;
    const rerun = await runChild({ db: f, mode: 'ingest' });
    expectClean(rerun);
    const lines = rerun.lines.filter((l) => l.startsWith('committed '));
    expect(lines.slice(0, pauseInBatch)).toEqual(Array.from({ length: pauseInBatch }, (_, k) => `committed ${k} 0`));
    const done = reopenAndCheck(f);
    expect(done.events).toBe(TOTAL);
    expect(done.digest).toBe(cleanDigest);
  }, 120_000);

  it('killed while running free after batch 6 committed: whole batches only, equal to its rebuild', async () => {
    const f = file('free-running');
    const run = await runChild({ db: f, mode: 'ingest' }, (line) => line === `committed 6 ${BATCH}`);
    expectKilled(run);
    const r = reopenAndCheck(f);
    expect(r.events).toBeGreaterThanOrEqual(7 * BATCH);
    const rerun = await runChild({ db: f, mode: 'ingest' });
    expectClean(rerun);
    expect(reopenAndCheck(f).digest).toBe(cleanDigest);
  }, 120_000);

  it('killed in the middle of rebuild: the old projections stand, equal to a fresh rebuild', async () => {
    const run = await runChild({ db: file('clean'), mode: 'rebuild' }, (line) => line.startsWith('rebuilding '));
    expectKilled(run);
    expect(run.lines[0]).toBe(`digest ${cleanDigest}`);
    const r = reopenAndCheck(file('clean'));
    expect(r.events).toBe(TOTAL);
    expect(r.digest).toBe(cleanDigest);
  }, 120_000);
});
