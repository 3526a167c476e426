/** Answers of `POST /api/v1/sync/run` (one catch-up round per peer) and `GET /api/v1/sync/check` (convergence). */
import { z } from 'zod';

/** One peer's line in the answer of a sync round. */
export const runResultModel = z.object({
  peer: z.string(),
  ok: z.boolean(),
  name: z.string().nullable(),
  pulled: z.number().int(), pulled_known: z.number().int(),
  pushed: z.number().int(), pushed_known: z.number().int(),
  skipped: z.number().int(),
  ms: z.number(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type RunResult = z.infer<typeof runResultModel>;

/** The answer of a convergence check. */
export const checkModel = z.object({
  converged: z.boolean().describe('every reachable peer holds the same events and projections, and no link reports a divergence'),
  self: z.object({
    machine_id: z.string(), name: z.string(), event_count: z.number().int(),
    events_digest: z.string().describe('event-set digest: equal exactly when the same events are held'),
    projections_digest: z.string().describe('SHA-256 of every projection row'),
  }),
  peers: z.array(z.object({
    peer: z.string(), reachable: z.boolean(), name: z.string().nullable(), event_count: z.number().int().nullable(),
    protocol: z.number().int().nullable().describe('2: states an event-set digest; 1: only a projection digest'),
    events_digest: z.string().nullable(),
    events_equal: z.boolean().nullable().describe('same events (null: a version-1 peer cannot say)'),
    projections_equal: z.boolean().nullable(),
    differing_origins: z.array(z.string()).describe('origins whose count or digest differs from ours'),
    divergence: z.string().nullable().describe('what the live link reports: origins held differently below equal watermarks'),
    error: z.string().nullable(),
  })),
});
export type ConvergenceReport = z.infer<typeof checkModel>;
