import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClareError, ERROR_CATALOG } from '../../src/core/errors.js';

describe('the error catalog', () => {
  const codes = Object.keys(ERROR_CATALOG);
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

  it('has unique, well-formed codes', () => {
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^CLARE_[A-Z0-9_]+$/);
  });

  it('documents every code with its HTTP status and exit code in docs/errors.md', () => {
    for (const [code, e] of Object.entries(ERROR_CATALOG)) {
      expect(doc).toContain(`| \`${code}\` | ${e.status} | ${e.exit} |`);
    }
    const documented = [...doc.matchAll(/\| `(CLARE_[A-Z0-9_]+)` \|/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...codes].sort());
  });

  it('gives each error a status and exit code from the catalog and a wire body', () => {
    const e = new ClareError('CLARE_NOT_FOUND', 'no task x', { ref: 'x' });
    expect([e.status, e.exitCode]).toEqual([404, 5]);
    expect(e.toBody()).toEqual({ error: { code: 'CLARE_NOT_FOUND', message: 'no task x', details: { ref: 'x' } } });
  });
});
