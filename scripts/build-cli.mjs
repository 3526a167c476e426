// Bundles the CLI entry (yargs, zod, smol-toml and the thin-client modules) into one
// file, dist/cli/clare.js, the package's `bin`. One file instead of a few hundred
// modules cuts start-up, which agents pay on every `clare next` / `clare update`.
// Lazily imported modules (the daemon, init, rebuild) stay the tsc output in dist/,
// so the bundle rewrites those dynamic imports to point there.
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const outfile = resolve(root, 'dist/cli/clare.js');

const lazyToDist = {
  name: 'lazy-to-dist',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const src = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      const dist = resolve(root, 'dist', relative(resolve(root, 'src'), src)).replace(/\.ts$/, '.js');
      let rel = relative(dirname(outfile), dist);
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return { path: rel, external: true };
    });
  },
};

await build({
  entryPoints: [resolve(root, 'src/cli/main.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: true,
  plugins: [lazyToDist],
  // yargs' ESM build uses createRequire/import.meta; give bundled CJS deps a require.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __clareRequire } from 'node:module'; const require = __clareRequire(import.meta.url);" },
  logLevel: 'warning',
  // The version is part of the build: `clare --version` answers it wherever the bundle is run from.
  define: { CLARE_BUILD_VERSION: JSON.stringify(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).version) },
});
chmodSync(outfile, 0o755);
console.log('build-cli: dist/cli/clare.js');
