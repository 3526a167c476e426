// One short id everywhere (src/protocol/short-id.ts): the last 8 characters, which
// tell apart ids minted in the same millisecond (their UUIDv7 prefixes are equal).
import { describe, expect, it } from 'vitest';
import { newTaskId } from '../../src/core/ids.js';
import { SHORT_ID_LENGTH, shortId, shortIdSchema } from '../../src/protocol/short-id.js';

describe('short id', () => {
  it('is the last 8 characters', () => {
    expect(shortId('0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b')).toBe('9e0f1a2b');
    expect(SHORT_ID_LENGTH).toBe(8);
  });

  it('tells apart ids minted together, whose first 8 characters are the same', () => {
    const ids = Array.from({ length: 200 }, () => newTaskId());
    expect(new Set(ids.map((i) => i.slice(0, 8))).size).toBeLessThan(ids.length);
    expect(new Set(ids.map(shortId)).size).toBe(ids.length);
  });

  it('parses what people type: 6 to 36 characters of a uuid', () => {
    expect(shortIdSchema.safeParse('9e0f1a').success).toBe(true);
    expect(shortIdSchema.safeParse('9e0f1').success).toBe(false);
    expect(shortIdSchema.safeParse('web; rm').success).toBe(false);
  });
});
