/**
 * Branded identifiers and their wire schemas. Only the parse and trusted* functions
 * here cast to a brand, so a `TaskId` in a signature is known to have been validated
 * at a boundary. Minting new ids needs randomness from Node: src/core/ids.ts.
 */
import { z } from 'zod';

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type MachineId = Brand<string, 'MachineId'>;
export type EventId = Brand<string, 'EventId'>;
export type ProjectId = Brand<string, 'ProjectId'>;
export type TaskId = Brand<string, 'TaskId'>;
export type AssignmentId = Brand<string, 'AssignmentId'>;
export type UpdateId = Brand<string, 'UpdateId'>;
/** A hybrid logical clock stamp; its format is in hlc.ts. */
export type Hlc = Brand<string, 'Hlc'>;

/** Lower-case canonical uuid (any version). */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const uuidSchema = z.string().regex(UUID_RE, 'must be a lower-case uuid');
export const machineIdSchema = uuidSchema.transform((s) => s as MachineId);
export const eventIdSchema = uuidSchema.transform((s) => s as EventId);
export const projectIdSchema = uuidSchema.transform((s) => s as ProjectId);
export const taskIdSchema = uuidSchema.transform((s) => s as TaskId);
export const assignmentIdSchema = uuidSchema.transform((s) => s as AssignmentId);
export const updateIdSchema = uuidSchema.transform((s) => s as UpdateId);

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/*
 * Values already known to be valid, branded without a second check: ids and stamps
 * read back from our own store (every id and HLC was parsed or minted on its way in),
 * minted by src/core/ids.ts, taken from a model built from those rows, or formatted
 * by hlc.ts from parsed parts. With the parse functions above, these are the only
 * brand casts in src/: lint forbids `as <Brand>` everywhere else, so a branded value
 * is always traceable to one of them.
 */
export const trustedMachineId = (s: string): MachineId => s as MachineId;
export const trustedEventId = (s: string): EventId => s as EventId;
export const trustedProjectId = (s: string): ProjectId => s as ProjectId;
export const trustedTaskId = (s: string): TaskId => s as TaskId;
export const trustedAssignmentId = (s: string): AssignmentId => s as AssignmentId;
export const trustedUpdateId = (s: string): UpdateId => s as UpdateId;
export const trustedHlc = (s: string): Hlc => s as Hlc;
