// A commit listener that throws is a bug in that listener: the write stands, the
// other listeners still hear of it, and the error is logged where an operator sees
// it (it used to be dropped without a trace).
import { describe, expect, it } from 'vitest';
import { CommitFeed, type CommitNotice } from '../../src/core/commit-feed.js';
import { createLogger } from '../../src/core/log.js';

const notice = { events: [{ id: 'e' }], changes: [], source: 'local' } as unknown as CommitNotice;

describe('CommitFeed.publish', () => {
  it('logs a listener that throws and still tells the others', () => {
    const lines: string[] = [];
    const feed = new CommitFeed(createLogger('debug', { write: (l) => lines.push(l), pretty: false }));
    const heard: string[] = [];
    feed.subscribe(() => heard.push('first'));
    feed.subscribe(() => {
      throw new Error('listener bug');
    });
    feed.subscribe(() => heard.push('third'));
    feed.publish(notice);
    expect(heard).toEqual(['first', 'third']);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'error', source: 'local', events: 1 });
    expect(JSON.stringify(line)).toContain('listener bug');
  });

  it('logs nothing when every listener is fine, and notices wait while held', () => {
    const lines: string[] = [];
    const feed = new CommitFeed(createLogger('debug', { write: (l) => lines.push(l), pretty: false }));
    let heard = 0;
    feed.subscribe(() => heard++);
    const held = feed.hold();
    feed.publish(notice);
    expect(heard).toBe(0);
    feed.release(held);
    expect(heard).toBe(1);
    expect(lines).toEqual([]);
  });
});
