/** Which kind of value Tab completes where (src/cli/completion.ts). */
import { describe, expect, it } from 'vitest';
import { completionKind } from '../../src/cli/completion.js';

describe('completionKind', () => {
  it('knows where task ids, sessions, groups and peers go', () => {
    expect(completionKind(['task', 'done', ''])).toBe('task');
    expect(completionKind(['task', 'start', '--json', 'a1'])).toBe('task');
    expect(completionKind(['task', 'depend', 'a1b2c3d4', ''])).toBe('task');
    expect(completionKind(['assign', ''])).toBe('task');
    expect(completionKind(['assign', 'a1b2c3d4', ''])).toBe('session');
    expect(completionKind(['peek', 'de'])).toBe('session');
    expect(completionKind(['next', '--session', ''])).toBe('session');
    expect(completionKind(['update', 'note', '-t', ''])).toBe('task');
    expect(completionKind(['broadcast', ''])).toBe('group');
    expect(completionKind(['group', 'rm', ''])).toBe('group');
    expect(completionKind(['peer', 'remove', ''])).toBe('peer');
    expect(completionKind(['sync', ''])).toBe('peer');
  });
  it('completes nothing of the daemon\'s elsewhere', () => {
    expect(completionKind(['task', ''])).toBeNull();
    expect(completionKind(['task', 'add', ''])).toBeNull();
    expect(completionKind(['task', 'done', 'a1b2c3d4', ''])).toBeNull();
    expect(completionKind(['broadcast', 'ops', ''])).toBeNull();
    expect(completionKind(['assign', '--note', 'x', ''])).toBe('task');
    expect(completionKind([''])).toBeNull();
  });
});
