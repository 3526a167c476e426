#!/usr/bin/env node
// A small coverage-guided fuzzer for Clare's text parsers (clare.toml, rclaude's
// listing), for longer runs than CI's; not part of the test suite.
//
// jazzer.js would be the usual tool, but its 4.0.0 prebuilt addon needs GLIBC 2.38
// (Debian 12 has 2.36) and 2.x downloads its binary from outside the npm registry.
// So this uses V8's own block coverage (node:inspector, Profiler.takePreciseCoverage)
// as the feedback: an input that runs a block of the parser (or of smol-toml, zod)
// no earlier input ran joins the corpus, and new inputs are mutations and splices
// of corpus entries — libFuzzer's loop, in-process, on the built code in dist/.
//
//   npm run fuzz:coverage -- --target config --seconds 60 [--seed 7]
//   npm run fuzz:coverage -- --target listing --seconds 60
//
// Every input must either parse or throw the parser's coded error (CLARE_CONFIG,
// CLARE_RCLAUDE_OUTPUT). Anything else is a finding: printed with the input (as
// JSON) and written to test-output/fuzz-findings/. Exits 1 if there was one.
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const target = opt('target', 'config');
const seconds = Number(opt('seconds', '30'));
const seed = Number(opt('seed', String(Date.now() % 2 ** 31)));

// Block coverage must be on before the code under test is compiled: functions
// compiled earlier carry no block counters.
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: false, detailed: true });
const { parseConfig } = await import(join(ROOT, 'dist/core/config.js'));
const { parseSessionListing } = await import(join(ROOT, 'dist/core/fleet/rclaude.js'));

// Seeded, so a run is replayed from its seed.
const { prng } = await import(join(ROOT, 'bench/event-mix.mjs'));
const rand = prng(seed);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const int = (n) => Math.floor(rand() * n);

const TARGETS = {
  config: {
    code: 'CLARE_CONFIG',
    run: (text) => parseConfig(text, '/fuzz/clare.toml'),
    seeds: [
      'machine_id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"\nname = "desk"\npeers = ["http://198.18.0.2:8765"]\n\n[server]\nhost = "127.0.0.1"\nport = 8765\n\n[mesh]\ntoken = "0123456789abcdef0123"\nmax_clock_skew_ms = 60000\n\n[rclaude]\ntimeout_ms = 10000\npoll_interval_s = 10\n\n[groups]\nall = ["desk:*"]\n',
      'machine_id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"\n',
    ],
    dictionary: ['[', ']', '[[', ']]', '{', '}', '=', '"', "'", '"""', "'''", '\\u0000', '\\U0010FFFF', '\\uD800', '\n', '\r\n', '#', '.', ',', 'true', 'false', 'inf', 'nan', '-0', '0x1F', '0o7', '0b1', '1e400', '1979-05-27T07:32:00Z', '07:32:00', '__proto__', 'constructor', 'prototype', 'machine_id', 'name', 'peers', 'server', 'host', 'port', 'mesh', 'token', 'rclaude', 'groups', 'a.b.c', '"quoted.key"', '\u0000', '\ufeff', '\ud800'],
  },
  listing: {
    code: 'CLARE_RCLAUDE_OUTPUT',
    run: (text) => parseSessionListing(text, 'desk'),
    seeds: [
      'host\tsession\tcwd\tstate\tlast_activity\ndesk\tapi\t/srv/api\tidle\t2025-01-01T00:00:00Z\ndesk\tweb\t/srv/web\tworking\t2025-01-01T10:00:00.123+02:00\n',
      'host\tsession\tcwd\tstate\tlast_activity\n',
    ],
    dictionary: ['\t', '\n', '\r', 'desk', 'host', 'session', 'cwd', 'state', 'last_activity', 'idle', 'working', 'waiting', 'exited', 'Z', '+02:00', '-00:00', 'T', '2025-02-29', '9999-12-31T23:59:59.999999999Z', '__proto__', 'constructor', '\u0000', '\ufeff', '\ud800', '\u001b['],
  },
};
const t = TARGETS[target];
if (t === undefined) throw new Error(`--target is one of ${Object.keys(TARGETS).join(', ')}`);

function mutate(input, corpus) {
  let s = input;
  const n = 1 + int(4);
  for (let i = 0; i < n; i++) {
    const at = int(s.length + 1);
    switch (int(8)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1 + int(8)); break; // delete a run
      case 1: s = s.slice(0, at) + pick(t.dictionary) + s.slice(at); break; // insert a token
      case 2: s = s.slice(0, at) + String.fromCharCode(int(0x80)) + s.slice(at + 1); break; // replace a char
      case 3: { // duplicate a chunk
        const len = 1 + int(16);
        s = s.slice(0, at) + s.slice(at, at + len).repeat(1 + int(50)) + s.slice(at);
        break;
      }
      case 4: { // splice another corpus entry in
        const o = pick(corpus);
        const from = int(o.length + 1);
        s = s.slice(0, at) + o.slice(from, from + 1 + int(64)) + s.slice(at);
        break;
      }
      case 5: s = s.slice(0, at); break; // cut short
      case 6: s = s.slice(0, at) + String.fromCharCode(int(0x10000)) + s.slice(at); break; // any UTF-16 unit
      default: { // swap two lines
        const lines = s.split('\n');
        const a = int(lines.length);
        const b = int(lines.length);
        [lines[a], lines[b]] = [lines[b], lines[a]];
        s = lines.join('\n');
      }
    }
  }
  return s.length > 200_000 ? s.slice(0, 200_000) : s;
}

/**
 * V8 lists, per function run, its range and the sub-ranges whose count differs
 * from their parent's — with binary coverage, the blocks that did not run. So a
 * block is covered in a run when its function ran and no zero range encloses it.
 * Every range ever listed is a known block; `seen` holds the ones some input ran.
 */
const known = new Map();
const seen = new Set();
/** Blocks the last input ran that no input ran before (only in the code under test). */
async function newBlocks() {
  const { result } = await session.post('Profiler.takePreciseCoverage');
  let fresh = 0;
  for (const script of result) {
    if (!script.url.includes('/dist/core/') && !script.url.includes('smol-toml') && !script.url.includes('/zod/')) continue;
    for (const fn of script.functions) {
      const [whole, ...blocks] = fn.ranges;
      if (whole === undefined || whole.count === 0) continue;
      const fnKey = `${script.url}:${whole.startOffset}`;
      const list = known.get(fnKey) ?? new Map();
      known.set(fnKey, list);
      list.set(`${whole.startOffset}:${whole.endOffset}`, whole);
      for (const b of blocks) list.set(`${b.startOffset}:${b.endOffset}`, b);
      const zero = blocks.filter((b) => b.count === 0);
      for (const [k, r] of list) {
        if (zero.some((z) => z.startOffset <= r.startOffset && r.endOffset <= z.endOffset)) continue;
        const key = `${fnKey}/${k}`;
        if (!seen.has(key)) {
          seen.add(key);
          fresh++;
        }
      }
    }
  }
  return fresh;
}

const findings = [];
const PROTO = Object.getOwnPropertyNames(Object.prototype).join(',');
function report(error, input) {
  const f = { target, seed, input, error: error.slice(0, 500) };
  if (findings.some((x) => x.error === f.error)) return;
  findings.push(f);
  console.log(`FINDING ${target}: ${f.error}\n  input ${JSON.stringify(input).slice(0, 400)}`);
}
function check(input) {
  try {
    t.run(input);
    if (Object.getOwnPropertyNames(Object.prototype).join(',') !== PROTO || {}.polluted !== undefined) report('Object.prototype was polluted', input);
  } catch (e) {
    const coded = e instanceof Error && e.name === 'ClareError' && e.code === t.code;
    if (!coded) report(`${e?.name}: ${e?.message}`, input);
  }
}

const corpus = [];
for (const s of t.seeds) {
  check(s);
  await newBlocks();
  corpus.push(s);
}
const t0 = Date.now();
let execs = 0;
while (Date.now() - t0 < seconds * 1000) {
  const input = mutate(pick(corpus), corpus);
  check(input);
  execs++;
  if ((await newBlocks()) > 0) corpus.push(input);
}
await session.post('Profiler.stopPreciseCoverage');
session.disconnect();
console.log(`[coverage-guided] ${target}: ${execs} inputs in ${seconds} s, seed ${seed}, corpus ${corpus.length}, blocks ${seen.size}, findings ${findings.length}`);
if (findings.length > 0) {
  const dir = join(ROOT, 'test-output/fuzz-findings');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${target}-${seed}.json`);
  writeFileSync(file, JSON.stringify(findings, null, 2));
  console.log(`findings written to ${file}`);
  process.exitCode = 1;
}
