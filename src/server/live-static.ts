/**
 * The dashboard's static files (dist/ui, built by scripts/build-ui.mjs), served at
 * `/` by plain routes: read once at start-up, gzipped once, one route per file (no
 * path is ever built from a request, so nothing outside dist/ui can be reached).
 *
 * Caching: index.html is revalidated on every load (ETag, 304); it references
 * `app.js?v=<content hash>`, which is cached for a year as immutable, so a new
 * build is picked up by the next page load and never mixed with an old one.
 *
 * The files carry no data and no secret (the same bundle ships in the package), so
 * they are served to anyone (route access `public`; the Host check still applies);
 * the data comes through /api/v1, which keeps the token rules.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../core/log.js';
import { accessConfig } from './route-access.js';

export interface UiAsset {
  readonly body: Buffer;
  readonly gzip: Buffer | null;
  readonly type: string;
  readonly etag: string;
  /** Content hash used as `?v=`; a request carrying it may be cached forever. */
  readonly version: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Compressing tiny or already-compressed files gains nothing. */
const GZIP_MIN_BYTES = 1024;
const COMPRESSIBLE = new Set(['.html', '.js', '.map', '.css', '.svg', '.json', '.txt']);

/**
 * The page's security headers. `connect-src 'self'` covers the same-origin
 * WebSocket; no external fonts, scripts or CDNs are used. Inline styles are
 * allowed only because Lit may set `style` properties; scripts never inline.
 */
const HTML_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  // The page URL may carry ?token=; never send it anywhere in a Referer.
  'referrer-policy': 'no-referrer',
};

/** Where the built dashboard is: next to the compiled server (dist/ui), or dist/ui of the checkout when run from src. */
export function defaultUiDir(): string | null {
  const candidates = [fileURLToPath(new URL('../ui/', import.meta.url)), fileURLToPath(new URL('../../dist/ui/', import.meta.url))];
  return candidates.find((d) => existsSync(join(d, 'index.html')) && existsSync(join(d, 'app.js'))) ?? null;
}

function hashOf(b: Buffer): string {
  return createHash('sha256').update(b).digest('base64url').slice(0, 16);
}

function asset(body: Buffer, ext: string): UiAsset {
  const version = hashOf(body);
  return {
    body,
    gzip: COMPRESSIBLE.has(ext) && body.length >= GZIP_MIN_BYTES ? gzipSync(body, { level: 9 }) : null,
    type: TYPES[ext] ?? 'application/octet-stream',
    etag: `"${version}"`,
    version,
  };
}

/**
 * Reads every file of `dir` (not recursive) into memory, keyed by URL path.
 * index.html is served at `/` with its asset references pinned to content hashes.
 */
export function loadUiAssets(dir: string): Map<string, UiAsset> {
  const out = new Map<string, UiAsset>();
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name);
    if (!statSync(file).isFile() || name === 'index.html') continue;
    out.set(`/${name}`, asset(readFileSync(file), extname(name)));
  }
  let html = readFileSync(join(dir, 'index.html'), 'utf8');
  for (const [path, a] of out) {
    if (path.endsWith('.js') || path.endsWith('.css')) html = html.replaceAll(`"${path}"`, `"${path}?v=${a.version}"`);
  }
  const index = asset(Buffer.from(html, 'utf8'), '.html');
  out.set('/', index);
  out.set('/index.html', index);
  return out;
}

function serve(a: UiAsset, path: string, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const isHtml = path === '/' || path.endsWith('.html');
  const v = (req.query as Record<string, unknown> | undefined)?.['v'];
  void reply.header('etag', a.etag).header('vary', 'accept-encoding').header('x-content-type-options', 'nosniff');
  void reply.header('cache-control', !isHtml && v === a.version ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (isHtml) for (const [k, val] of Object.entries(HTML_HEADERS)) void reply.header(k, val);
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  void reply.type(a.type);
  const accepts = String(req.headers['accept-encoding'] ?? '');
  if (a.gzip !== null && /\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(a.gzip);
  return reply.send(a.body);
}

/**
 * Registers one GET route per dashboard file. Without a build (`assets` null), `/`
 * answers 503 with what to do, instead of a page that silently never loads.
 */
export function registerUiRoutes(app: FastifyInstance, assets: ReadonlyMap<string, UiAsset> | null, log: Logger): void {
  if (assets === null) {
    log.warn('dashboard not built: / answers 503 until `npm run build` writes dist/ui');
    app.get('/', { config: accessConfig('public') }, (_req, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The Clare dashboard is not built (dist/ui is missing). Run `npm run build`, then restart `clare serve`.\n'));
    return;
  }
  for (const [path, a] of assets) {
    app.get(path, { config: accessConfig('public') }, (req, reply) => serve(a, path, req, reply));
  }
}
