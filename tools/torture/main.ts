/**
 * `npm run torture -- [--duration S] [--seed N] [--daemons N] [--report FILE]
 * [--rate W] [--no-previous] [--keep]`: one fault campaign; exits 1 when a check
 * fails (0 when all hold, 2 on bad arguments or a broken set-up).
 */
import { parseArgs } from 'node:util';
import { DEFAULTS, finishReport, runCampaign } from './campaign.js';
import { REQUIRED_KINDS, type FaultKind } from './schedule.js';
import { killEverything } from './node.js';
import { summaryLines } from './summary.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    seed: { type: 'string' },
    daemons: { type: 'string' },
    report: { type: 'string' },
    rate: { type: 'string' },
    'quiesce-timeout': { type: 'string' },
    'quiesce-cap': { type: 'string' },
    'max-rss-mb': { type: 'string' },
    'no-previous': { type: 'boolean' },
    keep: { type: 'boolean' },
    linger: { type: 'string' },
    only: { type: 'string' },
    help: { type: 'boolean' },
  },
  strict: true,
});

function num(name: string, v: string | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    console.error(`torture: --${name} must be a number ≥ ${min}, not ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

if (values.help === true) {
  console.log('npm run torture -- [--duration 60] [--seed N] [--daemons 5] [--report FILE] [--rate 3] [--quiesce-timeout 120] [--quiesce-cap 1800] [--max-rss-mb 512] [--no-previous] [--keep] [--linger S] [--only kill,partition,…]\nSee docs/fault-campaign.md.');
  process.exit(0);
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`torture: ${sig}: killing the daemons and tmux servers it started`);
    killEverything();
    process.exit(130);
  });
}
const only = values.only?.split(',').map((k) => k.trim()).filter((k) => k !== '');
for (const k of only ?? []) {
  if (!(REQUIRED_KINDS as readonly string[]).includes(k)) {
    console.error(`torture: --only takes fault kinds from ${REQUIRED_KINDS.join(', ')}, not ${JSON.stringify(k)}`);
    process.exit(2);
  }
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Math.floor(num('seed', values.seed, 0, 0));
const report = values.report ?? null;
try {
  const r = await runCampaign({
    seed,
    durationS: num('duration', values.duration, DEFAULTS.durationS, 5),
    daemons: Math.floor(num('daemons', values.daemons, DEFAULTS.daemons, 2)),
    opsPerSecond: num('rate', values.rate, DEFAULTS.opsPerSecond, 0.1),
    quiesceTimeoutS: num('quiesce-timeout', values['quiesce-timeout'], DEFAULTS.quiesceTimeoutS, 5),
    quiesceCapS: num('quiesce-cap', values['quiesce-cap'], DEFAULTS.quiesceCapS, 5),
    maxRssMb: num('max-rss-mb', values['max-rss-mb'], DEFAULTS.maxRssMb, 16),
    previous: values['no-previous'] !== true,
    keep: values.keep === true,
    lingerS: num('linger', values.linger, 0, 0),
    ...(only === undefined ? {} : { only: only as FaultKind[] }),
    log: (l) => console.log(l),
  });
  finishReport(r, report, values.keep === true);
  for (const l of summaryLines(r, report)) console.log(l);
  process.exitCode = r.ok ? 0 : 1;
} catch (e) {
  console.error(`torture: set-up failed (seed ${seed}): ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  process.exitCode = 2;
}
