import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClareError, ERROR_CATALOG, isErrorCode, type ErrorCode } from '../../src/core/errors.js';
import { errorBodySchema, parseErrorBody } from '../../src/protocol/error-body.js';
import { sourceFiles } from '../helpers/source-files.js';

const SRC = join(import.meta.dirname, '../../src');

/** The text of every source file but the catalog itself. */
const code = sourceFiles(SRC).filter((f) => !f.endsWith('/core/errors.ts')).map((f) => readFileSync(f, 'utf8')).join('\n');

describe('the error catalog', () => {
  const codes = Object.keys(ERROR_CATALOG) as ErrorCode[];
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

  it('has well-formed codes', () => {
    for (const c of codes) expect(c).toMatch(/^CLARE_[A-Z0-9_]+$/);
  });

  it('documents every code with its HTTP status and exit code in docs/errors.md, and no other', () => {
    for (const [c, e] of Object.entries(ERROR_CATALOG)) {
      expect(doc).toContain(`| \`${c}\` | ${e.status} | ${e.exit} |`);
    }
    const documented = [...doc.matchAll(/\| `(CLARE_[A-Z0-9_]+)` \|/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...codes].sort());
  });

  it('knows every CLARE_ code src/ names (the rest are environment variables it reads)', () => {
    const env = new Set([...code.matchAll(/env(?:\.|\[['"])(CLARE_[A-Z0-9_]+)/g)].map((m) => m[1]));
    const named = new Set([...code.matchAll(/['"`](CLARE_[A-Z0-9_]+)['"`]/g)].map((m) => m[1] ?? ''));
    const unknown = [...named].filter((c) => !isErrorCode(c) && !env.has(c));
    expect(unknown, 'codes used in src/ but missing from ERROR_CATALOG (or env names read some other way)').toEqual([]);
  });

  it('has no code that src/ never raises or matches', () => {
    expect(codes.filter((c) => !code.includes(c))).toEqual([]);
  });

  it('gives every code an HTTP error status and an exit code a shell keeps apart from success and signals', () => {
    for (const [c, e] of Object.entries(ERROR_CATALOG)) {
      expect(e.status, c).toBeGreaterThanOrEqual(400);
      expect(e.status, c).toBeLessThan(600);
      expect(e.exit, c).toBeGreaterThanOrEqual(1);
      expect(e.exit, c).toBeLessThan(126);
    }
    // Refusals of what the caller sent are 4xx, trouble on our side or a peer's 5xx.
    for (const c of ['CLARE_BAD_REQUEST', 'CLARE_VALIDATION', 'CLARE_NOT_FOUND', 'CLARE_CONFLICT', 'CLARE_TOO_LARGE', 'CLARE_UNAUTHORIZED'] as const) expect(ERROR_CATALOG[c].status).toBeLessThan(500);
    for (const c of ['CLARE_INTERNAL', 'CLARE_DB', 'CLARE_PEER', 'CLARE_RCLAUDE_FAILED', 'CLARE_TIMEOUT', 'CLARE_RECOVERING'] as const) expect(ERROR_CATALOG[c].status).toBeGreaterThanOrEqual(500);
  });

  it('gives each error its status and exit code, and a wire body every reader parses back', () => {
    const e = new ClareError('CLARE_NOT_FOUND', 'no task x', { ref: 'x' });
    expect([e.status, e.exitCode]).toEqual([404, 5]);
    expect(e.toBody()).toEqual({ error: { code: 'CLARE_NOT_FOUND', message: 'no task x', details: { ref: 'x' } } });
    for (const c of codes) {
      const body: unknown = JSON.parse(JSON.stringify(new ClareError(c, `message of ${c}`).toBody()));
      expect(errorBodySchema.safeParse(body).success, c).toBe(true);
      expect(parseErrorBody(body), c).toEqual({ code: c, message: `message of ${c}` });
    }
    expect(parseErrorBody({ error: { message: 'no code' } })).toBeNull();
    expect(parseErrorBody('<html>bad gateway</html>')).toBeNull();
  });
});
