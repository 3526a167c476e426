// `npm run bench` entry: runs every bench/*.bench.mjs in turn (each in its own
// process, so one benchmark's heap and page cache do not count against the next),
// or only those named on argv: `node --expose-gc bench/run.mjs core-store`.
// Benchmarks import the built code from dist/; `npm run bench` builds first.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
if (!existsSync(path.join(here, '../dist/core/store.js'))) {
  console.error('dist/ is missing: build first (`npm run build`; `npm run bench` does it)');
  process.exit(2);
}

const available = readdirSync(here).filter((f) => f.endsWith('.bench.mjs')).map((f) => f.slice(0, -'.bench.mjs'.length)).sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`no such benchmark: ${unknown.join(', ')} (available: ${available.join(', ')})`);
  process.exit(2);
}

let failed = 0;
for (const name of wanted.length > 0 ? wanted : available) {
  console.log(`\n## ${name}  (BENCH_SCALE=${process.env.BENCH_SCALE ?? '1'}, node ${process.version}, pid ${process.pid})\n`);
  // execArgv carries --expose-gc through to the benchmark.
  const r = spawnSync(process.execPath, [...process.execArgv, path.join(here, `${name}.bench.mjs`)], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    failed++;
    console.error(`benchmark ${name} failed (${r.signal ?? `exit ${r.status}`})`);
  }
}
process.exit(failed === 0 ? 0 : 1);
