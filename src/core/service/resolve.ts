/**
 * Turning what a person types into an entity: a full id, a short id (a unique
 * prefix or suffix of at least 6 hex characters, as the CLI prints the last 8), or
 * a name (projects) / exact title (tasks). Ambiguity is an error that lists the
 * candidates, never a guess.
 */
import { cachedStatement as stmt, type Db } from '../db.js';
import { hostNameSchema, sessionNameSchema } from '../domain.js';
import { ClareError } from '../errors.js';
import { isUuid, trustedAssignmentId, trustedProjectId, trustedTaskId, type AssignmentId, type ProjectId, type TaskId } from '../ids.js';
import { shortId } from '../../protocol/short-id.js';

export { shortId } from '../../protocol/short-id.js';

function pick(kind: string, ref: string, rows: readonly { id: string; label: string }[]): string {
  const [first] = rows;
  if (rows.length === 1 && first !== undefined) return first.id;
  if (rows.length === 0) throw new ClareError('CLARE_NOT_FOUND', `no ${kind} ${JSON.stringify(ref)}`, { kind, ref });
  const ids = rows.map((r) => r.id);
  const list = rows.slice(0, 5).map((r) => `${shortId(r.id, ids)} (${r.label})`).join(', ');
  throw new ClareError('CLARE_AMBIGUOUS', `${JSON.stringify(ref)} matches ${rows.length} ${kind}s: ${list}; give more characters of the id`, { kind, ref, candidates: ids });
}

/**
 * Rows whose id starts or ends with `ref`. Both are index lookups: a prefix is a
 * range of the primary key, a suffix of 8 or more characters goes through the
 * index on the last 8 (migration 4); only a 6–7 character suffix scans that index.
 */
function byShortId(db: Db, table: 'projects' | 'tasks' | 'assignments', labelCol: string, ref: string, extra: string): { id: string; label: string }[] {
  if (!/^[0-9a-f-]{6,36}$/.test(ref)) return [];
  const suffix = ref.length >= 8 ? 'substr(id, -8) = substr(@r, -8) AND id LIKE @s' : 'substr(id, -8) LIKE @s';
  const rows = [
    ...stmt(db, `SELECT id, ${labelCol} AS label FROM ${table} WHERE created = 1 ${extra} AND id >= @r AND id < @r || '~' LIMIT 10`).all({ r: ref }),
    ...stmt(db, `SELECT id, ${labelCol} AS label FROM ${table} WHERE created = 1 ${extra} AND ${suffix} LIMIT 10`).all({ r: ref, s: `%${ref}` }),
  ] as { id: string; label: string }[];
  return [...new Map(rows.map((r) => [r.id, r])).values()].slice(0, 10);
}

/** Resolves a project by id, short id or name (active projects first; archived only by id). */
export function resolveProject(db: Db, ref: string): ProjectId {
  if (isUuid(ref)) {
    if (stmt(db, 'SELECT 1 FROM projects WHERE id = ? AND created = 1').get(ref) !== undefined) return trustedProjectId(ref);
    throw new ClareError('CLARE_NOT_FOUND', `no project with id ${ref}`, { kind: 'project', ref });
  }
  const named = stmt(db, 'SELECT id, name AS label FROM projects WHERE created = 1 AND archived = 0 AND name = ?').all(ref) as { id: string; label: string }[];
  if (named.length > 0) return trustedProjectId(pick('project', ref, named));
  const ci = stmt(db, 'SELECT id, name AS label FROM projects WHERE created = 1 AND archived = 0 AND lower(name) = lower(?)').all(ref) as { id: string; label: string }[];
  if (ci.length > 0) return trustedProjectId(pick('project', ref, ci));
  return trustedProjectId(pick('project', ref, byShortId(db, 'projects', 'name', ref, '')));
}

/** Resolves a task by id, short id, or exact title among unarchived tasks. */
export function resolveTask(db: Db, ref: string): TaskId {
  if (isUuid(ref)) {
    if (stmt(db, 'SELECT 1 FROM tasks WHERE id = ? AND created = 1').get(ref) !== undefined) return trustedTaskId(ref);
    throw new ClareError('CLARE_NOT_FOUND', `no task with id ${ref}`, { kind: 'task', ref });
  }
  const short = byShortId(db, 'tasks', 'title', ref, '');
  if (short.length > 0) return trustedTaskId(pick('task', ref, short));
  const titled = stmt(db, 'SELECT id, title AS label FROM tasks WHERE created = 1 AND archived = 0 AND title = ?').all(ref) as { id: string; label: string }[];
  return trustedTaskId(pick('task', ref, titled));
}

/** Resolves an assignment by id or short id (removed ones included: unassign answers them as they are). */
export function resolveAssignment(db: Db, ref: string): AssignmentId {
  if (isUuid(ref)) {
    if (stmt(db, 'SELECT 1 FROM assignments WHERE id = ? AND created = 1').get(ref) !== undefined) return trustedAssignmentId(ref);
    throw new ClareError('CLARE_NOT_FOUND', `no assignment with id ${ref}`, { kind: 'assignment', ref });
  }
  return trustedAssignmentId(pick('assignment', ref, byShortId(db, 'assignments', "host || ':' || session", ref, '')));
}

/** Parses `host:session` (both validated) without checking that the session exists. */
export function parseSessionRef(ref: string): { host: string; session: string } {
  const i = ref.indexOf(':');
  const host = hostNameSchema.safeParse(i < 0 ? '' : ref.slice(0, i));
  const session = sessionNameSchema.safeParse(i < 0 ? '' : ref.slice(i + 1));
  if (i < 0 || !host.success || !session.success) {
    throw new ClareError('CLARE_VALIDATION', `a session is host:session, e.g. desk:api-1; got ${JSON.stringify(ref)}`, { ref });
  }
  return { host: host.data, session: session.data };
}

/** Resolves `host:session` to a session this store knows (seen at least once). */
export function resolveSession(db: Db, ref: string): { host: string; session: string } {
  const s = parseSessionRef(ref);
  if (stmt(db, 'SELECT 1 FROM sessions WHERE host = ? AND session = ? AND seen = 1').get(s.host, s.session) === undefined) {
    throw new ClareError('CLARE_NOT_FOUND', `no session ${ref} is known; \`clare status\` lists sessions (run \`clare pull\` on that host first)`, { kind: 'session', ref });
  }
  return s;
}
