#!/usr/bin/env node
// Runs a TypeScript entry of tools/ (torture, soak) with Node 20, which cannot run
// TypeScript itself: esbuild bundles it (dependencies stay external) into
// dist/tools/<name>.mjs — two levels below the root, like the sources, so paths
// computed from import.meta.url resolve the same — and then imports it.
// Usage: node tools/torture/run-ts.mjs tools/torture/main.ts [args…]
import { basename, dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '../..');
const entry = process.argv[2];
if (entry === undefined) {
  console.error('usage: node tools/torture/run-ts.mjs ENTRY.ts [args…]');
  process.exit(2);
}
const name = `${basename(dirname(entry))}-${basename(entry, '.ts')}`;
const outfile = resolve(root, 'dist/tools', `${name}.mjs`);
await build({
  entryPoints: [resolve(root, entry)],
  outfile,
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
});
process.argv.splice(1, 2, outfile);
await import(pathToFileURL(outfile).href);
