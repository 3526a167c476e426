// Bundles the CLI entry (yargs, smol-toml and the thin-client modules) into
// dist/cli/clare.js, the package's `bin`, plus one chunk per group of verbs beside
// it (dist/cli/clare-*.js). A bundle instead of a few hundred modules cuts start-up, which
// agents pay on every `clare next` / `clare update`; the chunks (code splitting on
// main.ts's dynamic imports of ./commands/*) mean a verb loads only its own module.
// Other lazily imported modules (the daemon, init, rebuild, the full config
// validator) stay the tsc output in dist/, so the bundle rewrites those dynamic
// imports to point there.
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const outdir = resolve(root, 'dist/cli');
const outfile = resolve(outdir, 'clare.js');
const cliSrc = resolve(root, 'src/cli') + sep;

const lazyToDist = {
  name: 'lazy-to-dist',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const src = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      // The verb modules and completion are split into chunks of the bundle. Others (doctor,
      // which opens the database through better-sqlite3, a native addon) stay tsc's output.
      if (src.startsWith(`${cliSrc}commands${sep}`) || src === `${cliSrc}completion.ts`) return { path: src };
      const dist = resolve(root, 'dist', relative(resolve(root, 'src'), src)).replace(/\.ts$/, '.js');
      // Chunks sit beside clare.js, so one relative path serves the entry and every chunk.
      let rel = relative(outdir, dist);
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return { path: rel, external: true };
    });
  },
};

// Chunk names carry a content hash: drop the previous build's so none lingers.
for (const f of readdirSync(outdir, { withFileTypes: true })) if (f.isFile() && /^clare-.*\.js(\.map)?$/.test(f.name)) rmSync(resolve(outdir, f.name));
const result = await build({
  entryPoints: { clare: resolve(root, 'src/cli/main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'clare-[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: true,
  metafile: true,
  plugins: [lazyToDist],
  // yargs' ESM build uses createRequire/import.meta; give bundled CJS deps a require.
  // (The shebang is main.ts's first line; esbuild keeps it on the entry only.)
  banner: { js: "import { createRequire as __clareRequire } from 'node:module'; const require = __clareRequire(import.meta.url);" },
  logLevel: 'warning',
  // The version is part of the build: `clare --version` answers it wherever the bundle is run from.
  define: { CLARE_BUILD_VERSION: JSON.stringify(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).version) },
});
chmodSync(outfile, 0o755);
const chunks = Object.keys(result.metafile.outputs).filter((f) => /\/clare-[^/]*\.js$/.test(f)).length;
console.log(`build-cli: dist/cli/clare.js + ${chunks} chunks`);
