/**
 * How long and with which seed each door is fuzzed, and how a run is reported.
 *
 * CI runs every door with a bounded number of cases and a time limit (whichever
 * comes first), so the whole fuzz suite stays within a few minutes on a loaded
 * 2-core machine. Each run draws one seed and prints it with the door's figures;
 * the same seed replays the same cases:
 *
 *   CLARE_FUZZ_SEED=1234 npx vitest run test/fuzz            # replay a run
 *   CLARE_FUZZ_SEED=random npx vitest run test/fuzz          # new cases each run
 *   CLARE_FUZZ_SCALE=20 npx vitest run test/fuzz             # 20× the cases and the time
 *   CLARE_FUZZ_STRICT=1 npx vitest run test/fuzz             # known-open findings fail too
 *
 * A failing property prints fast-check's counterexample, seed and path; pass the
 * seed back (and `CLARE_FUZZ_PATH` for the path) to replay exactly that case.
 */
import fc from 'fast-check';
import { knownOpenSummary, surveyReport } from './known-open.js';

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name}=${raw} is not a number`);
  return n;
}

/**
 * The run's seed, printed with every door's figures: CLARE_FUZZ_SEED; or, with
 * CLARE_FUZZ_SEED=random, one drawn now; by default the UTC day number, so every
 * test file of one CI run uses the same seed, each day explores new cases, and a
 * failure is replayed from the seed (or the date) alone.
 */
export const FUZZ_SEED: number = process.env['CLARE_FUZZ_SEED'] === 'random'
  ? Math.floor(Math.random() * 2 ** 31)
  : envNumber('CLARE_FUZZ_SEED') ?? Math.floor(Date.now() / 86_400_000);
/** Multiplies every door's case count and time limit (CLARE_FUZZ_SCALE, default 1). */
export const FUZZ_SCALE: number = Math.max(0.01, envNumber('CLARE_FUZZ_SCALE') ?? 1);
/** With CLARE_FUZZ_STRICT=1, findings listed in known-open.ts fail the run like new ones. */
export const FUZZ_STRICT: boolean = process.env['CLARE_FUZZ_STRICT'] === '1';
const FUZZ_PATH: string | undefined = process.env['CLARE_FUZZ_PATH'];

export interface DoorBudget {
  /** Cases at scale 1. */
  readonly runs: number;
  /** Wall-clock limit at scale 1 (ms); the door stops early, passing, when it is reached. */
  readonly ms: number;
}

/** The seed of one door: the run's seed mixed with the door's name, so doors draw different cases. */
export function doorSeed(door: string): number {
  let h = FUZZ_SEED >>> 0;
  for (let i = 0; i < door.length; i++) h = Math.imul(h ^ door.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 1;
}

/** fast-check parameters for a door at the current scale. */
export function doorParameters<T>(door: string, budget: DoorBudget): fc.Parameters<T> {
  return {
    seed: doorSeed(door),
    numRuns: Math.max(1, Math.round(budget.runs * FUZZ_SCALE)),
    interruptAfterTimeLimit: Math.round(budget.ms * FUZZ_SCALE),
    markInterruptAsFailure: false,
    ...(FUZZ_PATH === undefined ? {} : { path: FUZZ_PATH }),
    endOnFailure: false,
  };
}

/**
 * Draws a few values of each arbitrary before the clock starts: the first draw
 * compiles the schemas' regexes into generators, which takes seconds on a loaded
 * machine and would otherwise eat a door's time budget.
 */
export function warmUp(...arbs: fc.Arbitrary<unknown>[]): void {
  for (const a of arbs) fc.sample(a, { numRuns: 20, seed: 1 });
}

/** A vitest timeout for a test that fuzzes doors with these time budgets (scaled), with room for set-up and shrinking. */
export function doorTimeout(...budgetMs: number[]): number {
  return Math.round(budgetMs.reduce((a, b) => a + b, 0) * FUZZ_SCALE) + 90_000;
}

/** One door's figures, as printed (and collected for docs/fuzzing.md). */
export interface DoorReport {
  readonly door: string;
  readonly seed: number;
  readonly cases: number;
  readonly ms: number;
  readonly interrupted: boolean;
}

/**
 * Runs `property` for `door` within its budget, prints the figures, and throws
 * fast-check's report (counterexample, seed, path) when it fails.
 */
export async function fuzzDoor<T>(door: string, budget: DoorBudget, property: fc.IAsyncProperty<T> | fc.IProperty<T>): Promise<DoorReport> {
  const params = doorParameters<T>(door, budget);
  const t0 = performance.now();
  const details = await fc.check(property as fc.IAsyncProperty<T>, params);
  const report: DoorReport = {
    door,
    seed: params.seed!,
    cases: details.numRuns,
    ms: Math.round(performance.now() - t0),
    interrupted: details.interrupted,
  };
  const known = knownOpenSummary(door);
  console.log(`[fuzz] ${door}: ${report.cases} cases in ${report.ms} ms, seed ${report.seed} (run seed ${FUZZ_SEED}, scale ${FUZZ_SCALE})${report.interrupted ? ', stopped at its time limit' : ''}${known === '' ? '' : `; known-open findings hit: ${known}`}`);
  const survey = surveyReport(door);
  if (survey !== '') console.log(`[fuzz] ${door} survey:\n${survey}`);
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`[fuzz] ${door} failed (replay with CLARE_FUZZ_SEED=${FUZZ_SEED}):\n${cause}\n\n${fc.defaultReportMessage(details) ?? ''}`);
  }
  return report;
}
