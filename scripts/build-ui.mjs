// Bundles the Lit dashboard (src/ui) into dist/ui with esbuild at build time, so the
// daemon serves static files and nothing is built at run time.
import { existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { build } from 'esbuild';

const entry = 'src/ui/main.ts';
if (!existsSync(entry)) {
  console.log('build-ui: no dashboard sources yet, skipping');
  process.exit(0);
}
mkdirSync('dist/ui', { recursive: true });
await build({
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outfile: 'dist/ui/app.js',
  tsconfig: 'src/ui/tsconfig.json',
  logLevel: 'warning',
});
if (existsSync('src/ui/index.html')) copyFileSync('src/ui/index.html', 'dist/ui/index.html');
console.log('build-ui: dist/ui/app.js');
