/**
 * The app object's delivery state: every message it ever rendered (payload kept for replay until
 * retention ends), the outbox of messages not yet finished, and the ledger of every attempt.
 *
 * A lane is named by `lane`: `<webhook>|<user>` for live events, `<webhook>|<user>|r<job>` for a replay
 * job's copies, `<webhook>|` for app-level messages (revoke, replay status). The outbox row with the
 * lowest seq in a lane is its head; only a head is ever released to the queue, so a lane is strictly
 * FIFO.
 */
export const OUTBOX_SCHEMA = `
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

import type { DeliveryKind, DeliveryScope } from '../../domain/entitlement';

export type MessageKind = DeliveryKind;

export const liveLane = (webhookId: string, userId: string) => `${webhookId}|${userId}`;
export const replayLane = (webhookId: string, userId: string, jobId: string) => `${webhookId}|${userId}|r${jobId}`;

export interface NewMessage {
  deliveryId: string;
  /** The `webhook-id` header: the original delivery's for a replay copy. Defaults to deliveryId. */
  webhookMessageId?: string;
  replayJobId?: string;
  lane?: string;
  /** Earliest release (replays are spread out to respect the rate bound). Defaults to createdAt. */
  notBefore?: number;
  kind: MessageKind;
  eventId: string;
  eventType: string;
  requiredScope: string | null;
  webhookId: string;
  userId: string;
  payload: string;
  createdAt: number;
}

export type MessageRow = {
  seq: number;
  delivery_id: string;
  webhook_message_id: string;
  replay_job_id: string | null;
  kind: MessageKind;
  event_id: string;
  event_type: string;
  required_scope: string | null;
  webhook_id: string;
  user_id: string;
  payload: string | null;
  created_at: number;
  state: string;
  attempts: number;
};

export type OutboxRow = {
  seq: number;
  lane: string;
  webhook_id: string;
  user_id: string;
  state: 'waiting' | 'queued';
  attempt: number;
  not_before: number;
  queued_at: number | null;
};

/** What the entitlement rule needs to know about a stored message. */
export const scopeOfMessage = (m: MessageRow): DeliveryScope => ({
  kind: m.kind,
  webhookId: m.webhook_id,
  userId: m.user_id,
  requiredScope: m.required_scope,
  ingestedAt: m.created_at,
});

/** What goes through the queue: ids only, never payloads or secrets. */
export interface Release {
  seq: number;
  deliveryId: string;
  attempt: number;
}

export type LedgerOutcome = 'delivered' | 'retrying' | 'failed' | 'gone' | 'dropped' | 'held';

export class Outbox {
  constructor(private readonly sql: SqlStorage) {}

  migrate(): void {
    this.sql.exec(OUTBOX_SCHEMA);
  }

  /** Records an event once; false if this object has seen it before (ingest is idempotent). */
  recordEvent(eventId: string, activityId: string, type: string, createdAt: number, now: number): boolean {
    return (
      this.sql.exec(
        'INSERT OR IGNORE INTO events (event_id, activity_id, type, created_at, ingested_at) VALUES (?, ?, ?, ?, ?)',
        eventId,
        activityId,
        type,
        createdAt,
        now,
      ).rowsWritten > 0
    );
  }

  /** Appends a message to the end of its lane. */
  append(m: NewMessage): number {
    const { seq } = this.sql
      .exec<{ seq: number }>(
        `INSERT INTO messages (delivery_id, webhook_message_id, replay_job_id, kind, event_id, event_type, required_scope, webhook_id, user_id, payload, created_at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') RETURNING seq`,
        m.deliveryId,
        m.webhookMessageId ?? m.deliveryId,
        m.replayJobId ?? null,
        m.kind,
        m.eventId,
        m.eventType,
        m.requiredScope,
        m.webhookId,
        m.userId,
        m.payload,
        m.createdAt,
      )
      .one();
    this.sql.exec(
      `INSERT INTO outbox (seq, lane, webhook_id, user_id, state, attempt, not_before) VALUES (?, ?, ?, ?, 'waiting', 1, ?)`,
      seq,
      m.lane ?? liveLane(m.webhookId, m.userId),
      m.webhookId,
      m.userId,
      m.notBefore ?? m.createdAt,
    );
    return seq;
  }

  message(seq: number): MessageRow | undefined {
    return this.sql.exec<MessageRow>('SELECT * FROM messages WHERE seq = ?', seq).toArray()[0];
  }

  outboxRow(seq: number): OutboxRow | undefined {
    return this.sql.exec<OutboxRow>('SELECT * FROM outbox WHERE seq = ?', seq).toArray()[0];
  }

  laneHead(lane: string): OutboxRow | undefined {
    return this.sql.exec<OutboxRow>('SELECT * FROM outbox WHERE lane = ? ORDER BY seq LIMIT 1', lane).toArray()[0];
  }

  /** Lane heads that are waiting and due, across all lanes (the alarm's sweep). */
  dueHeads(now: number, limit: number): OutboxRow[] {
    return this.sql
      .exec<OutboxRow>(
        `SELECT o.* FROM outbox o
         WHERE o.state = 'waiting' AND o.not_before <= ?
           AND o.seq = (SELECT MIN(h.seq) FROM outbox h WHERE h.lane = o.lane)
         ORDER BY o.seq LIMIT ?`,
        now,
        limit,
      )
      .toArray();
  }

  /** Released messages whose consumer never reported back within the lease: sent again. */
  expiredLeases(before: number, limit: number): OutboxRow[] {
    return this.sql
      .exec<OutboxRow>(`SELECT * FROM outbox WHERE state = 'queued' AND queued_at <= ? ORDER BY seq LIMIT ?`, before, limit)
      .toArray();
  }

  markQueued(seq: number, now: number): void {
    this.sql.exec(`UPDATE outbox SET state = 'queued', queued_at = ? WHERE seq = ?`, now, seq);
  }

  /** Back to waiting (held, or a failed release); `attempt` and `notBefore` say when and which. */
  markWaiting(seq: number, attempt: number, notBefore: number): void {
    this.sql.exec(
      `UPDATE outbox SET state = 'waiting', attempt = ?, not_before = ?, queued_at = NULL WHERE seq = ?`,
      attempt,
      notBefore,
      seq,
    );
  }

  /** The earliest time anything in the outbox becomes due (a retry, or an expired lease). */
  nextWakeUp(now: number, leaseMs: number): number | null {
    // Waiting rows already due are either released or held (invalid webhook); a held lane is
    // released by the webhook becoming valid, not by the clock, so only future times count.
    const row = this.sql
      .exec<{ t: number | null }>(
        `SELECT MIN(t) AS t FROM (
           SELECT MIN(not_before) AS t FROM outbox WHERE state = 'waiting' AND not_before > ?
           UNION ALL SELECT MIN(queued_at) + ? AS t FROM outbox WHERE state = 'queued')`,
        now,
        leaseMs,
      )
      .one();
    return row.t;
  }

  recordAttempt(seq: number, at: number, statusCode: number | null, error: string | null, attempt: number): void {
    this.sql.exec(
      'UPDATE messages SET attempts = MAX(attempts, ?), last_attempt_at = ?, last_status = ?, last_error = ? WHERE seq = ?',
      attempt,
      at,
      statusCode,
      error,
      seq,
    );
  }

  /** Ends a message: it leaves the outbox, and its lane's next message becomes the head. */
  finish(seq: number, state: 'delivered' | 'failed' | 'dropped', at: number): void {
    this.sql.exec('UPDATE messages SET state = ?, finished_at = ? WHERE seq = ?', state, at, seq);
    this.sql.exec('DELETE FROM outbox WHERE seq = ?', seq);
  }

  ledger(entry: {
    message: MessageRow;
    /** When the attempt started (or the drop happened). */
    attempt: number;
    at: number;
    statusCode: number | null;
    error: string | null;
    latencyMs: number | null;
    outcome: LedgerOutcome;
  }): void {
    const m = entry.message;
    this.sql.exec(
      `INSERT INTO ledger (seq, delivery_id, kind, replay_job_id, ingested_at, event_id, event_type, webhook_id, for_user_id, attempt, at, status_code, error, latency_ms, outcome)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      m.seq,
      m.webhook_message_id,
      m.kind,
      m.replay_job_id,
      m.created_at,
      m.event_id,
      m.event_type,
      m.webhook_id,
      m.user_id,
      entry.attempt,
      entry.at,
      entry.statusCode,
      entry.error,
      entry.latencyMs,
      entry.outcome,
    );
  }

  /** Outbox messages in a withdrawn scope (with their lane); the caller drops each. */
  outboxWhere(filter: { webhookId?: string; userId?: string }): (MessageRow & { lane: string })[] {
    const clauses: string[] = [];
    const args: string[] = [];
    if (filter.webhookId !== undefined) {
      clauses.push('o.webhook_id = ?');
      args.push(filter.webhookId);
    }
    if (filter.userId !== undefined) {
      clauses.push('o.user_id = ?');
      args.push(filter.userId);
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    return this.sql
      .exec<MessageRow & { lane: string }>(
        `SELECT m.*, o.lane AS lane FROM outbox o JOIN messages m ON m.seq = o.seq ${where} ORDER BY o.seq`,
        ...args,
      )
      .toArray();
  }

  /** Heads of every lane of one webhook (to release what was held while it was invalid). */
  webhookLaneHeads(webhookId: string): OutboxRow[] {
    return this.sql
      .exec<OutboxRow>(
        `SELECT o.* FROM outbox o WHERE o.webhook_id = ?
           AND o.seq = (SELECT MIN(h.seq) FROM outbox h WHERE h.lane = o.lane)`,
        webhookId,
      )
      .toArray();
  }

  /** Releases on the queue not yet reported back. */
  queuedCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE state = 'queued'`).one().n;
  }

  /** Messages of a replay job still in the outbox. */
  pendingInJob(jobId: string): number {
    return this.sql
      .exec<{ n: number }>('SELECT count(*) AS n FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.replay_job_id = ?', jobId)
      .one().n;
  }

  meta(key: string): number | null {
    return this.sql.exec<{ value: number }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value ?? null;
  }

  setMeta(key: string, value: number): void {
    this.sql.exec('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
  }

  /** Drops the payloads of messages created before `cutoff`; returns those still in the outbox. */
  expirePayloads(cutoff: number): (MessageRow & { lane: string })[] {
    const expiredInOutbox = this.sql
      .exec<MessageRow & { lane: string }>(
        `SELECT m.*, o.lane AS lane FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.created_at < ? ORDER BY o.seq`,
        cutoff,
      )
      .toArray();
    this.sql.exec('UPDATE messages SET payload = NULL WHERE created_at < ? AND payload IS NOT NULL', cutoff);
    return expiredInOutbox;
  }

  /** Forgets ledger entries, finished messages, events and finished replay jobs older than `cutoff`. */
  forgetBefore(cutoff: number): void {
    this.sql.exec('DELETE FROM ledger WHERE at < ?', cutoff);
    this.sql.exec('DELETE FROM messages WHERE created_at < ? AND seq NOT IN (SELECT seq FROM outbox)', cutoff);
    this.sql.exec('DELETE FROM events WHERE ingested_at < ?', cutoff);
    this.sql.exec(`DELETE FROM replay_jobs WHERE state != 'running' AND created_at < ?`, cutoff);
  }
}
