/**
 * The live protocol's version and entity kinds: plain values (no zod) so the
 * dashboard imports them without the schemas. History of versions: live.ts.
 */
export const LIVE_PROTOCOL_VERSION = 2;

/**
 * Entity kinds of `change` frames. `receipt` changes of the store are sent as the
 * `update` they belong to (re-read with all its receipts); `conflict` is a row
 * recorded by the merge.
 */
export const LIVE_ENTITIES = ['project', 'task', 'assignment', 'session', 'group', 'update', 'machine', 'conflict'] as const;
export type LiveEntity = (typeof LIVE_ENTITIES)[number];
