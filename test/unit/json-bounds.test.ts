import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClareError } from '../../src/core/errors.js';
import { jsonTextDepth, MAX_JSON_DEPTH, parseJsonBounded, valueDepth } from '../../src/core/json-bounds.js';

const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n);

describe('JSON nesting bounds', () => {
  it('counts containers, not scalars, and ignores brackets inside strings', () => {
    expect(jsonTextDepth('1')).toBe(0);
    expect(jsonTextDepth('{}')).toBe(1);
    expect(jsonTextDepth('{"a":[{}]}')).toBe(3);
    expect(jsonTextDepth('["[[[[", "\\"[[["]')).toBe(1);
    expect(valueDepth({ a: [{}] })).toBe(3);
    expect(valueDepth('x')).toBe(0);
  });

  it('agrees with the depth of the parsed value for any JSON', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 8 }), (v) => {
      const text = JSON.stringify(v);
      expect(jsonTextDepth(text)).toBe(valueDepth(JSON.parse(text)));
    }), { numRuns: 500 });
  });

  it('accepts the limit and refuses one more, without recursion even 100k deep', () => {
    expect(parseJsonBounded(nested(MAX_JSON_DEPTH), 'body')).toBeInstanceOf(Array);
    const deep = (): unknown => parseJsonBounded(nested(MAX_JSON_DEPTH + 1), 'body');
    expect(deep).toThrow(ClareError);
    expect(() => parseJsonBounded(nested(100_000), 'body')).toThrow(/nested more than 64/);
    let v: unknown = [];
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(valueDepth(v)).toBe(MAX_JSON_DEPTH + 1);
  });

  it('reports text that is not JSON as a bad request', () => {
    try {
      parseJsonBounded('{"a":', 'body');
      expect.unreachable();
    } catch (e) {
      expect((e as ClareError).code).toBe('CLARE_BAD_REQUEST');
    }
  });
});
