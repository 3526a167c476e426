/**
 * SQL schema, as migrations keyed by `PRAGMA user_version`. Migration N brings a
 * database from version N-1 to N; never edit a released one, append a new one.
 *
 * Conventions in projection tables: every mutable field `f` is a last-writer-wins
 * register, stored as the value `f` and `f_hlc`, the HLC of the event that wrote it
 * (NULL: never written). A row can exist before its create event has arrived
 * (`created_hlc` NULL): read-models hide such rows until the create lands.
 */
export const MIGRATIONS: readonly string[] = [
  /* 1: events, watermarks, projections */ `
CREATE TABLE events (
  seq     INTEGER PRIMARY KEY, -- local insertion order; cursors for live push, never sent to peers
  id      TEXT NOT NULL UNIQUE, -- event uuid; the dedup key across the mesh
  hlc     TEXT NOT NULL UNIQUE, -- hybrid logical clock stamp; byte order is causal-ish total order
  origin  TEXT NOT NULL,        -- machine_id of the machine that created the event
  type    TEXT NOT NULL,        -- dotted event type, e.g. task.created (may be unknown to us)
  v       INTEGER NOT NULL,     -- payload schema version of that type
  payload TEXT NOT NULL         -- JSON object as received; upcast on read, never rewritten
);
CREATE INDEX events_origin_hlc ON events (origin, hlc);

CREATE TABLE watermarks (
  origin TEXT PRIMARY KEY,      -- machine_id
  hlc    TEXT NOT NULL,         -- highest HLC held from that origin
  count  INTEGER NOT NULL       -- events held from that origin
);

CREATE TABLE projects (
  id TEXT PRIMARY KEY,          -- ProjectId (uuid)
  created INTEGER, created_hlc TEXT, -- 1 once project.created arrived (row may exist before)
  name TEXT, name_hlc TEXT,     -- display name
  path TEXT, path_hlc TEXT,     -- absolute working directory, or NULL
  description TEXT, description_hlc TEXT,
  weight REAL, weight_hlc TEXT, -- ranking weight, 1 = neutral
  archived INTEGER NOT NULL DEFAULT 0, archived_hlc TEXT -- tombstone
);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,          -- TaskId (uuid)
  created INTEGER, created_hlc TEXT, -- 1 once task.created arrived; created_hlc's ms is the task's age
  project_id TEXT, project_id_hlc TEXT,
  title TEXT, title_hlc TEXT,
  description TEXT, description_hlc TEXT,
  priority INTEGER, priority_hlc TEXT, -- 0 most urgent … 4
  status TEXT, status_hlc TEXT,        -- open | in_progress | blocked | done
  archived INTEGER NOT NULL DEFAULT 0, archived_hlc TEXT
);
CREATE INDEX tasks_project ON tasks (project_id);

CREATE TABLE task_dependencies (
  task_id TEXT NOT NULL,        -- the task that waits
  depends_on TEXT NOT NULL,     -- the task it waits for
  present INTEGER NOT NULL,     -- 1 added, 0 removed (per-element LWW register)
  hlc TEXT NOT NULL,            -- HLC of the add/remove that set present
  PRIMARY KEY (task_id, depends_on)
);

CREATE TABLE assignments (
  id TEXT PRIMARY KEY,          -- AssignmentId (uuid)
  created INTEGER, created_hlc TEXT, -- 1 once assignment.created arrived
  task_id TEXT, host TEXT, session TEXT, -- immutable target, set by the create
  removed INTEGER NOT NULL DEFAULT 0, removed_hlc TEXT, -- unassign tombstone
  delivery TEXT, delivery_hlc TEXT,           -- NULL pending | delivered | failed
  delivery_error TEXT, delivery_error_hlc TEXT -- why it failed (written with delivery)
);
CREATE INDEX assignments_task ON assignments (task_id);

CREATE TABLE sessions (
  host TEXT NOT NULL,           -- host name as rclaude reports it
  session TEXT NOT NULL,        -- session name
  seen INTEGER, seen_hlc TEXT,  -- 1 once a session.seen (appearance) arrived
  cwd TEXT, cwd_hlc TEXT,
  state TEXT, state_hlc TEXT,   -- working | waiting | idle | exited
  last_activity TEXT, last_activity_hlc TEXT, -- ISO-8601 UTC from rclaude
  gone INTEGER NOT NULL DEFAULT 0, gone_hlc TEXT, -- 1 when missing from the host's listing
  PRIMARY KEY (host, session)
);

CREATE TABLE groups (
  name TEXT PRIMARY KEY,        -- group name; concurrent creates of one name merge
  created INTEGER, created_hlc TEXT, -- 1 once a group.created arrived
  archived INTEGER NOT NULL DEFAULT 0, archived_hlc TEXT
);

CREATE TABLE group_members (
  group_name TEXT NOT NULL,
  pattern TEXT NOT NULL,        -- host:session glob
  present INTEGER NOT NULL,     -- per-element LWW register, as task_dependencies
  hlc TEXT NOT NULL,
  PRIMARY KEY (group_name, pattern)
);

CREATE TABLE updates (
  id TEXT PRIMARY KEY,          -- UpdateId (uuid); immutable once written
  kind TEXT NOT NULL,           -- note | broadcast
  hlc TEXT NOT NULL,            -- HLC of the event (its ms is when it was posted)
  origin TEXT NOT NULL,         -- machine that posted it
  text TEXT NOT NULL,
  task_id TEXT,                 -- note: the task it is about, if any
  host TEXT, session TEXT,      -- note: the session that posted it, if any
  group_name TEXT,              -- broadcast: target group
  ttl_s INTEGER,                -- broadcast: time to live in seconds, NULL = forever
  expires_ms INTEGER            -- broadcast: hlc ms + ttl, epoch ms; NULL = never
);
CREATE INDEX updates_hlc ON updates (hlc);

CREATE TABLE receipts (
  update_id TEXT NOT NULL,      -- the broadcast
  host TEXT NOT NULL, session TEXT NOT NULL,
  status TEXT, status_hlc TEXT, -- delivered | failed | expired
  detail TEXT, detail_hlc TEXT, -- error text or note, written with status
  PRIMARY KEY (update_id, host, session)
);

CREATE TABLE machines (
  machine_id TEXT PRIMARY KEY,
  name TEXT, name_hlc TEXT      -- display name announced by machine.named
);

CREATE TABLE conflicts (
  entity TEXT NOT NULL,         -- project | task
  entity_id TEXT NOT NULL,
  field TEXT NOT NULL,
  winner_event TEXT NOT NULL, winner_hlc TEXT NOT NULL, winner_value TEXT NOT NULL, -- JSON
  loser_event TEXT NOT NULL, loser_hlc TEXT NOT NULL, loser_value TEXT NOT NULL,   -- JSON
  PRIMARY KEY (entity, entity_id, field, winner_event, loser_event)
);

-- Internal to the merge (not a read-model): every concurrent-edit candidate write,
-- so conflicts are found whatever order events arrive in.
CREATE TABLE field_writes (
  entity TEXT NOT NULL, entity_id TEXT NOT NULL, field TEXT NOT NULL,
  hlc TEXT NOT NULL,            -- HLC of the writing event
  base TEXT NOT NULL,           -- newest HLC the writer had seen for these fields ('' none)
  origin TEXT NOT NULL, event_id TEXT NOT NULL,
  value TEXT NOT NULL,          -- JSON
  PRIMARY KEY (entity, entity_id, field, hlc)
);

-- This machine's own bookkeeping, never replicated and not a projection
-- (e.g. that the first version's [groups] table was imported once).
CREATE TABLE local_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Events stored but not applied: unknown type or newer version (from newer peers).
CREATE TABLE skipped_events (
  event_id TEXT PRIMARY KEY, type TEXT NOT NULL, v INTEGER NOT NULL,
  reason TEXT NOT NULL          -- unknown-type | newer-version
);
`,
  /* 2: delivery intents (fleet) */ `
-- Sends this machine has begun (rclaude send about to run, or running) whose receipt
-- event is not written yet. Local bookkeeping: never replicated, not a projection,
-- untouched by rebuild. A row is written before the send and deleted after the
-- receipt commits; a row found at start-up is a send a crash interrupted, which may
-- or may not have arrived, so it is recorded as failed and never sent again.
CREATE TABLE delivery_intents (
  kind TEXT NOT NULL,           -- assignment | broadcast
  ref TEXT NOT NULL,            -- the assignment id, or the broadcast's update id
  host TEXT NOT NULL,           -- target host (this machine's name when written)
  session TEXT NOT NULL,        -- target session
  started_at TEXT NOT NULL,     -- ISO time the send was about to start
  PRIMARY KEY (kind, ref, host, session)
);
`,
  /* 3: event hashes and per-origin digests (anti-entropy, identity checks) */ `
-- h: 64-bit hash of the event's id, hlc, origin, type, v and payload text
-- (src/core/event-digest.ts). Compared when an incoming event's id or hlc is held
-- (identity check), and summed per origin and per HLC range (digests).
ALTER TABLE events ADD COLUMN h INTEGER NOT NULL DEFAULT 0;
UPDATE events SET h = clare_event_hash(id, hlc, origin, type, v, payload);
-- (origin, hlc, h) covers range summaries; it also serves every (origin, hlc) lookup
-- the old index did, so it replaces it rather than adding a third index to each insert.
DROP INDEX events_origin_hlc;
CREATE INDEX events_origin_hlc_h ON events (origin, hlc, h);

-- digest: sum of h of the origin's events held, modulo 2^64 (signed 64-bit), kept by
-- the transaction that stores them; with count it says which events are held.
ALTER TABLE watermarks ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;
UPDATE watermarks SET digest = (SELECT clare_hsum(h) FROM events WHERE events.origin = watermarks.origin);
`,
  /* 4: bounded reads — derived task state, counters, and an index for every list order and filter */ `
-- Per task, what the counts and the ready filter need. A projection derived from the
-- rows of tasks, task_dependencies and assignments, written only by applyEvent
-- (projections/task-state.ts); a task whose create has not arrived has no row.
CREATE TABLE task_state (
  task_id TEXT PRIMARY KEY,     -- the task
  bucket TEXT NOT NULL,         -- open | in_progress | blocked | done | archived (archived wins over status)
  ready INTEGER NOT NULL        -- 1: open, not archived, every present dependency created and done or archived, no active assignment
);
CREATE INDEX task_state_ready ON task_state (ready);

-- Maintained counts, so status never counts rows: 'tasks.<bucket>' and 'tasks.ready'.
-- A projection like task_state: changed only with it, by applyEvent.
CREATE TABLE counters (
  name TEXT PRIMARY KEY,        -- what is counted
  n INTEGER NOT NULL            -- how many
);

-- Backfill from the projections as they stand (the same rules as task-state.ts).
INSERT INTO task_state (task_id, bucket, ready)
SELECT t.id,
  CASE WHEN t.archived = 1 THEN 'archived' ELSE coalesce(t.status, 'open') END,
  CASE WHEN t.archived = 0 AND coalesce(t.status, 'open') = 'open'
    AND NOT EXISTS (SELECT 1 FROM task_dependencies d LEFT JOIN tasks x ON x.id = d.depends_on
      WHERE d.task_id = t.id AND d.present = 1 AND coalesce(x.created = 1 AND (x.status = 'done' OR x.archived = 1), 0) = 0)
    AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.created = 1 AND a.removed = 0)
  THEN 1 ELSE 0 END
FROM tasks t WHERE t.created = 1;
INSERT INTO counters (name, n) SELECT 'tasks.' || bucket, count(*) FROM task_state GROUP BY bucket;
INSERT INTO counters (name, n) SELECT 'tasks.ready', count(*) FROM task_state WHERE ready = 1;

-- Task lists page by key. Oldest first is by the whole HLC; the board's orders key on
-- what the page can compute from a row: the millisecond of an HLC (its first 15
-- characters) and the id. Every order with a status filter has its index.
DROP INDEX tasks_project;
CREATE INDEX tasks_created ON tasks (created_hlc, id);
CREATE INDEX tasks_status_created ON tasks (status, created_hlc, id);
CREATE INDEX tasks_status_urgency ON tasks (status, priority, substr(created_hlc, 1, 15), id);
CREATE INDEX tasks_status_recent ON tasks (status, substr(status_hlc, 1, 15), id);
CREATE INDEX tasks_project ON tasks (project_id, status, priority, substr(created_hlc, 1, 15), id);
CREATE INDEX task_dependents ON task_dependencies (depends_on, present);
CREATE INDEX tasks_short_id ON tasks (substr(id, -8));     -- the CLI's short ids are the last 8 characters
CREATE INDEX projects_short_id ON projects (substr(id, -8));
CREATE INDEX projects_name ON projects (name, id);
CREATE INDEX assignments_created ON assignments (created_hlc, id);
CREATE INDEX assignments_target ON assignments (host, session, removed, created_hlc);
CREATE INDEX updates_kind ON updates (kind, hlc);
CREATE INDEX updates_task ON updates (task_id, hlc);
CREATE INDEX conflicts_recent ON conflicts (loser_hlc, field, winner_event);
`,
  /* 5: claims — the session holding each task, and claims lost in a merge */ `
-- The claim register of a task (projections/claims.ts): which session holds it. Not
-- last-writer-wins: a claim replaces the standing one when its base is newer, or
-- when the bases are equal and its HLC is older (earliest concurrent claim wins).
-- The holder counts only while status is in_progress or blocked.
ALTER TABLE tasks ADD COLUMN holder_host TEXT;    -- host of the claiming session (NULL: never claimed)
ALTER TABLE tasks ADD COLUMN holder_session TEXT; -- session name of the claiming session
ALTER TABLE tasks ADD COLUMN holder_hlc TEXT;     -- HLC of the standing task.claimed event
ALTER TABLE tasks ADD COLUMN holder_base TEXT;    -- its base ('' when it saw no claim)
CREATE INDEX tasks_holder ON tasks (holder_host, holder_session, status);

-- Claims that lost to a concurrent one (found when the merge records the conflict),
-- and whether the losing session was told. The losing host's delivery service types
-- the message; its task.claim_notice event fills status.
CREATE TABLE lost_claims (
  claim_event TEXT PRIMARY KEY, -- the losing task.claimed event
  lost INTEGER,                 -- 1 once a conflict found it losing (a notice may arrive first)
  task_id TEXT, host TEXT, session TEXT, -- the losing claim's task and session
  status TEXT, status_hlc TEXT, -- delivered | failed: the notice (LWW register)
  detail TEXT, detail_hlc TEXT  -- why it failed, written with status
);
CREATE INDEX lost_claims_pending ON lost_claims (host, status);

-- Assignments by the short id every verb accepts (unassign), as tasks_short_id.
CREATE INDEX assignments_short_id ON assignments (substr(id, -8));
`,
  /* 6: ready tasks by rank — what next reads, on an index instead of scoring every ready task */ `
-- What the scheduler's score (scheduler.ts) takes from a task and its project, kept on
-- the task's derived row by the same refresh (projections/task-state.ts), so the best
-- ready tasks are read in index order: score = rank_base − 0.5·[near] − age term, and
-- within one rank_base the age term only falls as created_ms grows. Not hashed in the
-- digest (task_state is derived from hashed rows).
ALTER TABLE task_state ADD COLUMN project_id TEXT; -- the task's project_id
ALTER TABLE task_state ADD COLUMN created_ms TEXT; -- the millisecond of the task's created_hlc (its first 15 characters)
ALTER TABLE task_state ADD COLUMN rank_base REAL;  -- priority − log2(project weight); NULL when the project is not created or archived (never ranked)
UPDATE task_state SET (project_id, created_ms, rank_base) = (
  SELECT t.project_id, substr(t.created_hlc, 1, 15),
    CASE WHEN p.created = 1 AND p.archived = 0 THEN t.priority - log2(coalesce(p.weight, 1)) END
  FROM tasks t LEFT JOIN projects p ON p.id = t.project_id WHERE t.id = task_state.task_id);
CREATE INDEX task_state_rank ON task_state (rank_base, created_ms, task_id) WHERE ready = 1 AND rank_base IS NOT NULL;
CREATE INDEX task_state_project_rank ON task_state (project_id, rank_base, created_ms, task_id) WHERE ready = 1 AND rank_base IS NOT NULL;
`,
  /* 7: the activity stream from the event log — by type, and a task's history by task */ `
-- Partial indexes over the event types the activity stream shows (core/task-history.ts;
-- its queries repeat these type lists, which is what lets SQLite use them). Other
-- events (sessions above all, the most frequent) are not indexed, so their inserts
-- cost nothing more. Newest first by HLC; a page is a seek and a short walk.
CREATE INDEX events_activity ON events (type, hlc)
  WHERE type IN ('task.created', 'task.status_changed', 'task.updated', 'task.archived', 'task.claimed', 'task.claim_notice', 'assignment.created', 'update.posted', 'broadcast.sent');
CREATE INDEX events_task ON events (json_extract(payload, '$.task_id'), hlc)
  WHERE type IN ('task.created', 'task.status_changed', 'task.updated', 'task.archived', 'task.claimed', 'task.claim_notice', 'assignment.created', 'update.posted');
`,
];

/**
 * Indexes of projection tables that only reads use — applying an event never looks
 * anything up through them — so rebuild drops them for the replay and builds them
 * again after it. An index applyEvent needs (task_dependents, assignments_task, the
 * primary keys) must not be listed.
 */
export const READ_INDEXES: readonly string[] = [
  'tasks_created', 'tasks_status_created', 'tasks_status_urgency', 'tasks_status_recent', 'tasks_project', 'tasks_short_id',
  'projects_name', 'projects_short_id', 'assignments_created', 'assignments_target', 'updates_hlc', 'updates_kind', 'updates_task',
  'conflicts_recent', 'task_state_ready', 'tasks_holder', 'lost_claims_pending', 'assignments_short_id',
  'task_state_rank', 'task_state_project_rank',
];

/** Projection tables in digest order, each with its ordering key. Rebuild clears these. */
export const PROJECTION_TABLES: readonly { readonly name: string; readonly key: string; readonly digest: boolean }[] = [
  { name: 'projects', key: 'id', digest: true },
  { name: 'tasks', key: 'id', digest: true },
  { name: 'task_dependencies', key: 'task_id, depends_on', digest: true },
  { name: 'assignments', key: 'id', digest: true },
  { name: 'sessions', key: 'host, session', digest: true },
  { name: 'groups', key: 'name', digest: true },
  { name: 'group_members', key: 'group_name, pattern', digest: true },
  { name: 'updates', key: 'id', digest: true },
  { name: 'receipts', key: 'update_id, host, session', digest: true },
  { name: 'machines', key: 'machine_id', digest: true },
  { name: 'conflicts', key: 'entity, entity_id, field, winner_event, loser_event', digest: true },
  { name: 'lost_claims', key: 'claim_event', digest: true },
  { name: 'field_writes', key: 'entity, entity_id, field, hlc', digest: false },
  { name: 'skipped_events', key: 'event_id', digest: false },
  // Derived from the rows above (so equal whenever they are); not hashed twice.
  { name: 'task_state', key: 'task_id', digest: false },
  { name: 'counters', key: 'name', digest: false },
];
