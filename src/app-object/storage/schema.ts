/**
 * The app object's SQLite schema, as numbered migrations applied once each (the version is kept in
 * `meta`). Version 1 is the first layout; later versions only add, so an object created by any
 * earlier build starts on the current layout with its rows intact.
 *
 * What the tables hold:
 * - `tenant`, `webhooks`, `authorizations`, `subscriptions`: the object's mirror of its app's control
 *   plane (D1 is the source; see mirror-store.ts). Mirror rows carry the D1 row id, and an ended row
 *   is never revived: a late "add" for an id that was already ended is refused.
 * - `events`, `messages`: every message the object rendered (payload kept for replay until
 *   retention ends).
 * - `outbox`: the messages not yet finished, one row each, in lanes (see outbox-store.ts).
 * - `ledger`: one row per attempt, written *before* the request is handed out, and one per drop.
 * - `replay_jobs`, `replay_parts` (a sharded app's job, part by part), `meta`.
 */
const V1 = `
CREATE TABLE IF NOT EXISTS tenant (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  app_id TEXT NOT NULL,
  consumer_secret TEXT NOT NULL,
  previous_consumer_secret TEXT,
  previous_consumer_secret_until INTEGER,
  status TEXT NOT NULL,
  status_changed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  valid INTEGER NOT NULL,
  signing_secret TEXT NOT NULL,
  previous_signing_secret TEXT,
  previous_signing_secret_until INTEGER,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE TABLE IF NOT EXISTS authorizations (
  user_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX IF NOT EXISTS authorizations_user ON authorizations (user_id, started_at);
CREATE TABLE IF NOT EXISTS subscriptions (
  webhook_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX IF NOT EXISTS subscriptions_lane ON subscriptions (user_id, webhook_id, started_at);
CREATE TABLE IF NOT EXISTS events (
  event_id TEXT PRIMARY KEY,
  activity_id TEXT NOT NULL,
  type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  ingested_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL UNIQUE,
  webhook_message_id TEXT NOT NULL,
  replay_job_id TEXT,
  kind TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  required_scope TEXT,
  webhook_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  payload TEXT,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER,
  last_status INTEGER,
  last_error TEXT,
  finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS messages_webhook_created ON messages (webhook_id, created_at);
CREATE INDEX IF NOT EXISTS messages_replay ON messages (replay_job_id) WHERE replay_job_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_created ON messages (created_at);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY,
  lane TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  not_before INTEGER NOT NULL,
  queued_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_lane ON outbox (lane, seq);
CREATE INDEX IF NOT EXISTS outbox_scope ON outbox (webhook_id, user_id);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, not_before);
CREATE TABLE IF NOT EXISTS ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  seq INTEGER NOT NULL,
  delivery_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  replay_job_id TEXT,
  ingested_at INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  for_user_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  latency_ms INTEGER,
  outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_at ON ledger (at);
CREATE INDEX IF NOT EXISTS ledger_webhook_at ON ledger (webhook_id, at);
CREATE INDEX IF NOT EXISTS ledger_user_at ON ledger (for_user_id, at);
CREATE TABLE IF NOT EXISTS replay_jobs (
  job_id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL,
  from_ms INTEGER NOT NULL,
  to_ms INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  total INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS replay_jobs_webhook ON replay_jobs (webhook_id, state);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
`;

/**
 * Version 2: the recorded-before-it-acts protocol (docs/delivery.md, "Hand-out and withdrawal").
 * - outbox: a release number (a re-release supersedes the earlier queue message), the hand-out
 *   (its ledger row and start deadline); `queued_at` becomes `released_at`; states are
 *   waiting | held | released | handed.
 * - ledger: the exact destination URL, the hand-out's start deadline, when the POST really started.
 * - mirror rows keyed by their D1 ids; webhooks carry when validity last changed and their health;
 *   a consumer secret can be staged before D1 has it, and only then committed.
 */
const V2 = `
ALTER TABLE outbox RENAME COLUMN queued_at TO released_at;
ALTER TABLE outbox ADD COLUMN release INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN hand_out_id INTEGER;
ALTER TABLE outbox ADD COLUMN start_by INTEGER;
UPDATE outbox SET state = 'released' WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS outbox_handed ON outbox (state, start_by);
ALTER TABLE ledger ADD COLUMN url TEXT;
ALTER TABLE ledger ADD COLUMN start_by INTEGER;
ALTER TABLE ledger ADD COLUMN started_at INTEGER;
CREATE INDEX IF NOT EXISTS ledger_seq ON ledger (seq, attempt);
CREATE INDEX IF NOT EXISTS ledger_open ON ledger (start_by) WHERE outcome = 'unknown';
ALTER TABLE authorizations ADD COLUMN id TEXT;
CREATE INDEX IF NOT EXISTS authorizations_id ON authorizations (id);
ALTER TABLE subscriptions ADD COLUMN id TEXT;
CREATE INDEX IF NOT EXISTS subscriptions_id ON subscriptions (id);
ALTER TABLE webhooks ADD COLUMN valid_changed_at INTEGER;
ALTER TABLE webhooks ADD COLUMN path TEXT NOT NULL DEFAULT 'fast';
ALTER TABLE webhooks ADD COLUMN fast_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenant ADD COLUMN staged_consumer_secret TEXT;
ALTER TABLE tenant ADD COLUMN staged_previous_until INTEGER;
`;

/**
 * Version 3: fewer index entries written per delivery (each one is a billed row written; see
 * docs/scaling.md). A handed-out row keeps its start deadline in `not_before`, so the one `outbox_due`
 * index serves both the due sweep and the hand-out lease; withdrawals and the fence read the outbox
 * and the recent ledger without indexes of their own (they are rare, and reads cost little).
 */
const V3 = `
DROP INDEX IF EXISTS outbox_handed;
DROP INDEX IF EXISTS outbox_scope;
DROP INDEX IF EXISTS ledger_seq;
DROP INDEX IF EXISTS ledger_open;
DROP INDEX IF EXISTS messages_webhook_created;
UPDATE outbox SET not_before = start_by WHERE state = 'handed' AND start_by IS NOT NULL;
`;

/**
 * Version 4: each webhook's failing streak, for the developer portal and the operator console: how
 * many reported attempts in a row failed, since when, and the last error. Written only when an
 * attempt fails, or when the first success ends a streak, so a healthy webhook costs no extra write.
 */
const V4 = `
ALTER TABLE webhooks ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;
ALTER TABLE webhooks ADD COLUMN last_failure_at INTEGER;
ALTER TABLE webhooks ADD COLUMN last_error TEXT;
`;

/**
 * Version 5: the X Activity API beside Account Activity (docs/xaa.md).
 * - xaa_subscriptions: the object's mirror of the app's XAA subscriptions, keyed by D1 id, with the
 *   webhook each targets (null: the stream only) and since when, and the time of the D1 version it
 *   holds (`version_at`: an older write never overwrites a newer one). An end before the start leaves
 *   a row that is ended (a tombstone); a narrowing before the start leaves one with no event type.
 * - messages and ledger rows name the XAA subscription they were rendered for; the stream's lines are
 *   messages of kind `stream` / `stream_notice` (no outbox row: each connection reads them in order).
 */
const V5 = `
CREATE TABLE IF NOT EXISTS xaa_subscriptions (
  id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  user_id TEXT NOT NULL,
  direction TEXT,
  keyword TEXT,
  tag TEXT,
  webhook_id TEXT,
  target_changed_at INTEGER NOT NULL,
  authorization_id TEXT,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  version_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS xaa_subscriptions_match ON xaa_subscriptions (user_id, event_type) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS xaa_subscriptions_webhook ON xaa_subscriptions (webhook_id) WHERE ended_at IS NULL;
ALTER TABLE messages ADD COLUMN xaa_subscription_id TEXT;
ALTER TABLE ledger ADD COLUMN xaa_subscription_id TEXT;
CREATE INDEX IF NOT EXISTS messages_xaa ON messages (xaa_subscription_id) WHERE xaa_subscription_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_stream ON messages (seq) WHERE kind IN ('stream', 'stream_notice');
`;

/**
 * Version 6: whether a replay job still has copies out is one index probe. A message is `pending`
 * exactly while it has an outbox row (the one write that ends it sets its state and deletes the row),
 * so the job's pending copies are its messages in that state. The former look-up joined every message
 * of the job with the outbox, once per copy finished: a 10,000-event replay read 200 million rows.
 */
const V6 = `
DROP INDEX IF EXISTS messages_replay;
CREATE INDEX IF NOT EXISTS messages_replay_state ON messages (replay_job_id, state) WHERE replay_job_id IS NOT NULL;
`;

/**
 * Version 7: delivery shards (docs/scaling.md). The tenant record says which shard of its app this
 * object is and how many the app has; an object created before has the defaults: the only one.
 */
const V7 = `
ALTER TABLE tenant ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenant ADD COLUMN shard_count INTEGER NOT NULL DEFAULT 1;
`;

/**
 * Version 8: replay over delivery shards (docs/scaling.md, "Replay over shards"). A job of a sharded
 * app runs as one part in every shard; shard 0 holds the job and each other part's progress
 * (`replay_parts`: asked, running, done with its counts; `unreached` needs no schema change) and sends the one status event once every
 * part is done. A part in another shard keeps its own counts in `delivered` and is `reporting` until
 * shard 0 has acknowledged them.
 */
const V8 = `
ALTER TABLE replay_jobs ADD COLUMN delivered INTEGER;
CREATE TABLE IF NOT EXISTS replay_parts (
  job_id TEXT NOT NULL,
  shard INTEGER NOT NULL,
  state TEXT NOT NULL,
  total INTEGER,
  delivered INTEGER,
  PRIMARY KEY (job_id, shard)
);
`;

const MIGRATIONS = [V1, V2, V3, V4, V5, V6, V7, V8];

/** Brings the object's database to the current schema; cheap when it is already there. */
export function migrate(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)');
  const current = sql.exec<{ value: number }>(`SELECT value FROM meta WHERE key = 'schema_version'`).toArray()[0]?.value ?? 0;
  for (let version = current; version < MIGRATIONS.length; version++) {
    sql.exec(MIGRATIONS[version]);
    sql.exec(
      `INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      version + 1,
    );
  }
}
