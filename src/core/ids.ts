/**
 * Minting ids: UUIDv7 for events and entities, a uuid4 for a machine. The branded
 * types, their wire schemas and the only brand casts are in src/protocol/ids.ts,
 * re-exported here so core code has one place to import ids from.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  trustedAssignmentId, trustedEventId, trustedMachineId, trustedProjectId, trustedTaskId, trustedUpdateId,
  type AssignmentId, type EventId, type MachineId, type ProjectId, type TaskId, type UpdateId,
} from '../protocol/ids.js';

export * from '../protocol/ids.js';

/**
 * A UUIDv7: 48 bits of Unix milliseconds, then random bits. Time-ordered keys keep
 * the events table's id index append-mostly, which keeps inserts fast as it grows
 * (see ../shared/BASELINES.md on uuid4 keys and the page cache).
 */
export function uuidv7(nowMs: number = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(nowMs, 0, 6);
  b.writeUInt8((b.readUInt8(6) & 0x0f) | 0x70, 6);
  b.writeUInt8((b.readUInt8(8) & 0x3f) | 0x80, 8);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const newEventId = (): EventId => trustedEventId(uuidv7());
export const newProjectId = (): ProjectId => trustedProjectId(uuidv7());
export const newTaskId = (): TaskId => trustedTaskId(uuidv7());
export const newAssignmentId = (): AssignmentId => trustedAssignmentId(uuidv7());
export const newUpdateId = (): UpdateId => trustedUpdateId(uuidv7());
/** A machine id is a uuid4: random, made once by `clare init`, never changed. */
export const newMachineId = (): MachineId => trustedMachineId(randomUUID());
