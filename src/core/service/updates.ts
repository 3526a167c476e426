/** Progress notes and broadcasts. Broadcasts are delivered by each host's daemon (fleet). */
import type { StoreContext } from '../context.js';
import { commitLocal } from '../context.js';
import { ClareError } from '../errors.js';
import { newUpdateId } from '../ids.js';
import type { Update } from '../../protocol/models.js';
import type { Page } from '../../protocol/page.js';
import { getGroup, getUpdateOrThrow, pageUpdates, type PageRequest } from '../queries.js';
import type { BroadcastInput, PostUpdateInput } from '../../protocol/inputs.js';
import { parseSessionRef, resolveTask } from './resolve.js';

export function postUpdate(ctx: StoreContext, input: PostUpdateInput): Update {
  const taskId = input.task === undefined ? null : resolveTask(ctx.db, input.task);
  const s = input.session === undefined ? null : parseSessionRef(input.session);
  const id = newUpdateId();
  commitLocal(ctx, [{ type: 'update.posted', payload: { update_id: id, text: input.text, task_id: taskId, host: s?.host ?? null, session: s?.session ?? null } }]);
  return getUpdateOrThrow(ctx.db, id);
}

/** Appends one broadcast event; every host's daemon delivers it to its matching sessions. */
export function broadcast(ctx: StoreContext, input: BroadcastInput): Update {
  const g = getGroup(ctx.db, input.group);
  if (g === null || g.archived) throw new ClareError('CLARE_NOT_FOUND', `no group ${JSON.stringify(input.group)}; create it with \`clare group add ${input.group} HOST:SESSION…\``, { kind: 'group', ref: input.group });
  if (g.members.length === 0) throw new ClareError('CLARE_CONFLICT', `group ${g.name} has no members`, { group: g.name });
  const id = newUpdateId();
  commitLocal(ctx, [{ type: 'broadcast.sent', payload: { update_id: id, group: g.name, text: input.message, ttl_s: input.ttl_s ?? null } }]);
  return getUpdateOrThrow(ctx.db, id);
}

/** One page of notes and broadcasts, newest first. */
export function updates(ctx: StoreContext, opts: { kind?: 'note' | 'broadcast' | undefined; task?: string | undefined; q?: string | undefined } & PageRequest): Page<Update> {
  return pageUpdates(ctx.db, {
    kind: opts.kind,
    q: opts.q,
    ...(opts.task === undefined ? {} : { taskId: resolveTask(ctx.db, opts.task) }),
  }, opts);
}
