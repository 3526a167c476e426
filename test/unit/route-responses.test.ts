// The response check of src/server/route.ts (on in the suite: vitest.config.ts sets
// CLARE_CHECK_RESPONSES=1): an answer with a field its schema lacks, or of the wrong
// shape, is refused as CLARE_INTERNAL instead of reaching the client.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CommitFeed } from '../../src/core/commit-feed.js';
import { openDb } from '../../src/core/db.js';
import { ClareError } from '../../src/core/errors.js';
import { GroupCommit } from '../../src/core/group-commit.js';
import { registerRoutes, route } from '../../src/server/route.js';
import { silentLogger } from '../../src/core/log.js';

async function answer(out: unknown): Promise<{ status: number; body: unknown }> {
  const db = openDb(':memory:');
  const app = Fastify();
  app.setErrorHandler((err, _req, reply) => reply.code(err instanceof ClareError ? err.status : 500).send(err instanceof ClareError ? err.toBody() : { error: { code: 'other' } }));
  registerRoutes(app, [route({ method: 'GET', path: '/thing', tag: 't', summary: 's', access: 'public', response: z.object({ a: z.number(), b: z.string().nullable() }), handler: () => out as never })], new GroupCommit(db, new CommitFeed(silentLogger)));
  const r = await app.inject({ method: 'GET', url: '/api/v1/thing' });
  await app.close();
  db.close();
  return { status: r.statusCode, body: r.json() };
}

describe('route answers against their schemas', () => {
  it('lets an answer through that is exactly what the schema describes', async () => {
    expect(await answer({ a: 1, b: null })).toEqual({ status: 200, body: { a: 1, b: null } });
  });

  it('refuses an answer with a field the schema lacks', async () => {
    const r = await answer({ a: 1, b: 'x', direction: 'inbound' });
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ error: { code: 'CLARE_INTERNAL', message: expect.stringContaining('fields its schema does not describe') } });
  });

  it('refuses an answer of the wrong shape', async () => {
    const r = await answer({ a: 'one', b: null });
    expect(r.body).toMatchObject({ error: { code: 'CLARE_INTERNAL', message: expect.stringContaining('does not match its schema') } });
  });
});
