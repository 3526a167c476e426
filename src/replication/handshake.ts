/**
 * The hello exchange that opens a sync session: what we state about ourselves,
 * and the checks a peer's hello must pass (a shared protocol version, a
 * well-formed frame, a machine other than us) before the session opens.
 */
import type { Db } from '../core/db.js';
import { ClareError } from '../core/errors.js';
import { originDigests } from '../core/event-digest.js';
import type { MachineId } from '../core/ids.js';
import { originCounts, watermarks } from '../core/store.js';
import { describeIssues } from '../protocol/sync/frame.js';
import { helloSchema, helloVersionsSchema, type HelloMsg } from '../protocol/sync/hello.js';
import { negotiateVersion } from './protocol-version.js';

/** Our hello: who we are, the versions we speak, and what we hold. */
export function ourHello(db: Db, me: { readonly machineId: MachineId; readonly name: string; readonly versions: readonly number[]; readonly links: readonly string[]; readonly nowMs: number }): HelloMsg {
  return {
    type: 'hello',
    versions: [...me.versions],
    machine_id: me.machineId,
    name: me.name,
    now_ms: me.nowMs,
    watermarks: watermarks(db),
    counts: originCounts(db),
    // Sent before the version is agreed: a version-1 peer ignores the extra key.
    ...(me.versions.includes(2) ? { digests: originDigests(db) } : {}),
    links: [...me.links],
  };
}

export type HelloVerdict =
  | { readonly ok: true; readonly hello: HelloMsg; readonly version: number }
  | { readonly ok: false; readonly error: ClareError };

/**
 * Judges the peer's first frame: it must be a hello, share a protocol version
 * with `ours` (checked before the rest, so a newer peer's hello is refused as a
 * version mismatch, not as malformed), parse, and come from another machine.
 */
export function acceptHello(value: { readonly type: string }, ours: readonly number[], me: MachineId): HelloVerdict {
  if (value.type !== 'hello') return refused(new ClareError('CLARE_PROTOCOL', `expected hello as the first frame, got ${value.type.slice(0, 40)}`));
  const v = helloVersionsSchema.safeParse(value);
  if (!v.success) return refused(new ClareError('CLARE_PROTOCOL', `bad hello: ${describeIssues(v.error)}`));
  const version = negotiateVersion(v.data.versions, ours);
  if (version === null) {
    return refused(new ClareError('CLARE_PROTOCOL_VERSION',
      `peer speaks sync protocol version(s) ${v.data.versions.join(', ')}; this Clare speaks ${ours.join(', ')}; upgrade the older one`,
      { theirs: v.data.versions, ours: [...ours] }));
  }
  const h = helloSchema.safeParse(value);
  if (!h.success) return refused(new ClareError('CLARE_PROTOCOL', `bad hello: ${describeIssues(h.error)}`));
  if (h.data.machine_id === me) {
    return refused(new ClareError('CLARE_PROTOCOL', `the peer is this machine itself (${h.data.machine_id}); remove it from the peer list`));
  }
  return { ok: true, hello: h.data, version };
}

function refused(error: ClareError): HelloVerdict {
  return { ok: false, error };
}
