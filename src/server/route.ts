/**
 * Declarative routes: one definition gives the fastify handler (with zod-parsed
 * params, query and body) and the OpenAPI operation, so the document cannot drift
 * from what the server does.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { ClareError } from '../core/errors.js';
import type { GroupCommit } from '../core/group-commit.js';
import { parseInput } from '../core/service/parse-input.js';
import { errorBodySchema } from '../protocol/error-body.js';
import { accessConfig, type RouteAccess } from './route-access.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteDef<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> {
  readonly method: Method;
  /** Path under /api/v1, fastify syntax (`/tasks/:id`). */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly response: R;
  /** Status of a success (201 for creations). */
  readonly status?: number;
  /**
   * Who may call it (src/server/route-access.ts): `public` never needs the token;
   * `local` (default) needs it from anyone but this machine's own user; `mesh` always
   * needs it when one is set (sync routes, what changes or reveals the mesh).
   */
  readonly access?: RouteAccess;
  /**
   * A synchronous write through the service layer: it runs in the daemon's group
   * commit (src/core/group-commit.ts), sharing one transaction with the writes that
   * arrived beside it, and is answered once that committed.
   */
  readonly grouped?: true;
  readonly handler: (input: { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B>; req: FastifyRequest }) => z.infer<R> | Promise<z.infer<R>>;
}

export type AnyRoute = RouteDef<z.ZodType, z.ZodType, z.ZodType, z.ZodType>;

export function route<P extends z.ZodType = z.ZodUnknown, Q extends z.ZodType = z.ZodUnknown, B extends z.ZodType = z.ZodUnknown, R extends z.ZodType = z.ZodUnknown>(
  def: RouteDef<P, Q, B, R>,
): AnyRoute {
  return def;
}

/**
 * With CLARE_CHECK_RESPONSES=1 (the test suite sets it; development builds may), every
 * answer is checked against its route's response schema before it is sent: a field
 * the schema lacks, or one of the wrong shape, is a bug in the route, reported as
 * CLARE_INTERNAL instead of reaching clients undocumented.
 */
const CHECK_RESPONSES = process.env.CLARE_CHECK_RESPONSES === '1';

function checkResponse(r: AnyRoute, out: unknown): void {
  const sent: unknown = out === undefined ? undefined : JSON.parse(JSON.stringify(out));
  const p = r.response.safeParse(sent);
  const what = `${r.method} /api/v1${r.path}`;
  if (!p.success) throw new ClareError('CLARE_INTERNAL', `the answer of ${what} does not match its schema: ${p.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  // A schema strips what it does not describe: an answer equal to its parse carries nothing undocumented.
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(p.data)), sent)) throw new ClareError('CLARE_INTERNAL', `the answer of ${what} carries fields its schema does not describe`);
}

/**
 * Registers routes on `app` under `/api/v1`. Bodies and queries are parsed with their
 * schemas, before a `grouped` route's handler joins `group`'s shared transaction.
 */
export function registerRoutes(app: FastifyInstance, routes: readonly AnyRoute[], group: GroupCommit): void {
  for (const r of routes) {
    app.route({
      method: r.method,
      url: `/api/v1${r.path}`,
      config: accessConfig(r.access ?? 'local'),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const params = r.params === undefined ? {} : parseInput(r.params, req.params);
        const query = r.query === undefined ? {} : parseInput(r.query, req.query);
        if (r.body !== undefined && (req.body === undefined || req.body === null) && r.method !== 'GET') {
          throw new ClareError('CLARE_BAD_REQUEST', 'this route needs a JSON body (Content-Type: application/json)');
        }
        const body = r.body === undefined ? {} : parseInput(r.body, req.body);
        const input = { params, query, body, req };
        const out = r.grouped === true ? await group.run(() => syncResult(r, r.handler(input))) : await r.handler(input);
        if (CHECK_RESPONSES) checkResponse(r, out);
        return reply.code(r.status ?? 200).send(out);
      },
    });
  }
}

/** A grouped handler's result; a promise would outlive the shared transaction it ran in. */
function syncResult(r: AnyRoute, out: unknown): unknown {
  if (out instanceof Promise) throw new Error(`grouped route ${r.method} ${r.path} returned a promise; only synchronous writes can share a transaction`);
  return out;
}

/** An OpenAPI 3.1 document for `routes`, from their zod schemas. */
export function openApiDocument(routes: readonly AnyRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schema = (s: z.ZodType, io: 'input' | 'output'): unknown => z.toJSONSchema(s, { io, unrepresentable: 'any' });
  const errorBody = z.toJSONSchema(errorBodySchema);
  for (const r of routes) {
    const p = `/api/v1${r.path.replace(/:([A-Za-z_]+)/g, '{$1}')}`;
    const parameters: unknown[] = [];
    for (const m of r.path.matchAll(/:([A-Za-z_]+)/g)) parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    if (r.query !== undefined) {
      const js = schema(r.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {})) parameters.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema: s });
    }
    paths[p] ??= {};
    paths[p][r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body !== undefined ? { requestBody: { required: true, content: { 'application/json': { schema: schema(r.body, 'input') } } } } : {}),
      // mesh: the token is required; local: optional (this machine's own user needs none); public: none.
      security: r.access === 'mesh' ? [{ meshToken: [] }] : r.access === 'public' ? [] : [{}, { meshToken: [] }],
      'x-clare-access': r.access ?? 'local',
      responses: {
        [String(r.status ?? 200)]: { description: 'success', content: { 'application/json': { schema: schema(r.response, 'output') } } },
        default: { description: 'a coded error', content: { 'application/json': { schema: errorBody } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Clare daemon API', version },
    components: { securitySchemes: { meshToken: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
