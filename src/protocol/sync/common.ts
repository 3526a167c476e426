/**
 * Value schemas shared by the sync frames: watermarks, per-origin counts, bases.
 * An HLC names its machine, so each watermark entry must name its own origin.
 */
import { z } from 'zod';
import { hlcSchema } from '../values.js';
import type { Hlc } from '../ids.js';
import { uuidSchema } from '../ids.js';

/** Most origins one frame may describe; a mesh has a handful of machines. */
export const MAX_ORIGINS = 10_000;

const boundedRecord = <V extends z.ZodType>(value: V) =>
  z.record(uuidSchema, value).refine((r) => Object.keys(r).length <= MAX_ORIGINS, `at most ${MAX_ORIGINS} origins`);

const ownOrigin = (r: Readonly<Record<string, string | null>>): boolean =>
  Object.entries(r).every(([origin, hlc]) => hlc === null || hlc.endsWith(`:${origin}`));

/** Per origin, the newest HLC held (a gap-free prefix of that origin's events). */
export const watermarksSchema = boundedRecord(hlcSchema)
  .refine(ownOrigin, 'each watermark must be an HLC of its own origin')
  .transform((r): Readonly<Record<string, Hlc>> => r);

/** Per origin, how many events are held (lag = difference of counts). */
export const countsSchema = boundedRecord(z.number().int().min(0));

/**
 * Per origin of a batch's events, the watermark the sender assumed the receiver
 * holds (null: nothing). The batch's events of that origin continue right after it.
 */
export const baseSchema = boundedRecord(hlcSchema.nullable())
  .refine(ownOrigin, 'each base must be an HLC of its own origin')
  .transform((r): Readonly<Record<string, Hlc | null>> => r);

/** Per origin, the digest of the events held (protocol 2): 16 hex digits (src/core/event-digest.ts). */
export const digestsSchema = boundedRecord(z.string().regex(/^[0-9a-f]{16}$/, 'a digest is 16 lower-case hex digits'));

/** Most ranges one `sum_req` may ask about. */
export const MAX_RANGES = 64;

/**
 * An HLC range `(after, upto]` of one origin's events: `after` '' means from its
 * first event. Both ends are that origin's HLCs (checked by the frame that holds it).
 */
export const hlcRangeSchema = z.tuple([z.union([z.literal(''), hlcSchema]), hlcSchema])
  .refine(([after, upto]) => after < upto, 'a range must have after < upto')
  .transform((r): readonly [Hlc | '', Hlc] => r);

export type WireWatermarks = z.infer<typeof watermarksSchema>;
export type WireDigests = z.infer<typeof digestsSchema>;
export type WireRange = z.infer<typeof hlcRangeSchema>;
export type WireCounts = z.infer<typeof countsSchema>;
export type WireBase = z.infer<typeof baseSchema>;
