// One short id everywhere: the last 8 characters, longer only where ids shown
// together end alike; and every verb resolves it (resolve.ts), ambiguity named.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitLocal, type StoreContext } from '../../src/core/context.js';
import { ClareError } from '../../src/core/errors.js';
import { newProjectId, newTaskId, type ProjectId, type TaskId } from '../../src/core/ids.js';
import { resolveTask } from '../../src/core/service/resolve.js';
import { SHORT_ID_LENGTH, shortId, shortIdSchema, shortIds } from '../../src/protocol/short-id.js';
import { memoryContext } from '../helpers/memory-context.js';

describe('shortId', () => {
  it('is the last 8 characters, and grows only as far as it must among the ids shown with it', () => {
    const a = '0190f5e2-0000-7000-8000-0000abcd1234';
    const b = '0190f5e2-0000-7000-8000-0001abcd1234';
    const c = '0190f5e2-0000-7000-8000-000000001111';
    expect(shortId(a)).toBe('abcd1234');
    expect(shortId(a, [a, c])).toBe('abcd1234');
    expect(shortId(a, [a, b])).toBe('0abcd1234');
    expect(shortId(b, [a, b])).toBe('1abcd1234');
    expect([...shortIds([a, b, c]).values()]).toEqual(['0abcd1234', '1abcd1234', '00001111']);
  });
});

describe('resolving a short id', () => {
  let ctx: StoreContext;
  beforeEach(() => {
    ctx = memoryContext();
  });
  afterEach(() => ctx.db.close());

  function task(id: string, project: ProjectId): void {
    commitLocal(ctx, [{ type: 'task.created', payload: { task_id: id as TaskId, project_id: project, title: `t ${id.slice(-4)}`, description: '', priority: 2, depends_on: [] } }]);
  }

  it('finds a task by the short id shown, and answers CLARE_AMBIGUOUS with longer short ids when two end alike', () => {
    const p = newProjectId();
    commitLocal(ctx, [{ type: 'project.created', payload: { project_id: p, name: 'api', path: null, description: '', weight: 1 } }]);
    const a = '0190f5e2-0000-7000-8000-0000abcd1234';
    const b = '0190f5e2-0000-7000-8000-0001abcd1234';
    task(a, p);
    task(b, p);
    expect(resolveTask(ctx.db, shortId(a, [a, b]))).toBe(a);
    let err: unknown = null;
    try {
      resolveTask(ctx.db, 'abcd1234');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClareError);
    expect((err as ClareError).code).toBe('CLARE_AMBIGUOUS');
    expect((err as ClareError).message).toContain('0abcd1234');
    expect((err as ClareError).message).toContain('1abcd1234');
  });
});

describe('short id (the wire form)', () => {
  it('tells apart ids minted together, whose first 8 characters are the same', () => {
    const ids = Array.from({ length: 200 }, () => newTaskId());
    expect(new Set(ids.map((i) => i.slice(0, 8))).size).toBeLessThan(ids.length);
    expect(new Set(ids.map((i) => shortId(i))).size).toBe(ids.length);
    expect(shortId(ids[0]!)).toHaveLength(SHORT_ID_LENGTH);
  });

  it('parses what people type: 6 to 36 characters of a uuid', () => {
    expect(shortIdSchema.safeParse('9e0f1a').success).toBe(true);
    expect(shortIdSchema.safeParse('9e0f1').success).toBe(false);
    expect(shortIdSchema.safeParse('web; rm').success).toBe(false);
  });
});
