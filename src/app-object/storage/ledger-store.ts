import { LEDGER_IDS_PER_MS } from '../../domain/shards';
import type { MessageRow } from './outbox-store';
import { ONLY_SHARD, type Placement } from './tenant-store';

/**
 * The app's ledger: one row per attempt, written when the attempt is handed out (before anything can
 * be sent) and completed when its outcome is reported, plus one row per drop. An attempt whose
 * outcome never comes back keeps `outcome = 'unknown'` and counts as possibly received everywhere.
 * Also the questions asked of it: the developer's delivery log, the operator's ledger, per-user
 * summaries for the access report, and the entries the audit re-checks.
 */
export interface LedgerFilter {
  webhookId?: string;
  userId?: string;
  outcome?: string;
  from?: number;
  to?: number;
  /** Page cursor: entries with a smaller ledger id (the log is newest first). */
  before?: number;
  limit: number;
}

/** Ledger rows with what happens next to their delivery: its message, its outbox row, its webhook's validity. */
const ENTRY_WITH_NEXT = `SELECT l.*, m.state AS message_state, o.not_before AS next_attempt_at, o.state AS outbox_state, w.valid AS webhook_valid
  FROM ledger l
  LEFT JOIN messages m ON m.seq = l.seq
  LEFT JOIN outbox o ON o.seq = m.seq
  LEFT JOIN webhooks w ON w.id = l.webhook_id`;

export type LedgerEntry = {
  id: number;
  seq: number;
  delivery_id: string;
  kind: string;
  replay_job_id: string | null;
  ingested_at: number;
  event_id: string;
  event_type: string;
  webhook_id: string;
  for_user_id: string;
  attempt: number;
  /** When the attempt was handed out (or the drop happened). */
  at: number;
  /** The exact URL the request was handed out for; null for drops. */
  url: string | null;
  /** The hand-out's start deadline, and when the POST really started (as reported). */
  start_by: number | null;
  started_at: number | null;
  status_code: number | null;
  error: string | null;
  latency_ms: number | null;
  outcome: string;
  message_state: string | null;
  next_attempt_at: number | null;
  outbox_state: string | null;
  webhook_valid: number | null;
  xaa_subscription_id: string | null;
};

/**
 * `unknown`: handed out, outcome not (yet) reported; `not_sent`: the consumer reported it never
 * started; `dropped`: withdrawn or expired before any request; `streamed`: a line written to one of
 * the app's open XAA streams (nobody acknowledges a line: it may have been read); the rest are
 * reported outcomes.
 */
export const LEDGER_OUTCOMES = ['delivered', 'retrying', 'failed', 'gone', 'dropped', 'unknown', 'not_sent', 'streamed'] as const;
export type LedgerOutcome = (typeof LEDGER_OUTCOMES)[number];

/** Outcomes of attempts that did or may have reached the receiver: what the audit and access report count. */
export const SENT_OUTCOMES = ['delivered', 'retrying', 'failed', 'gone', 'unknown', 'streamed'] as const;

export type UserSummaryRow = {
  event_type: string;
  /** Attempts the receiver acknowledged with a 2xx. */
  delivered: number;
  /** Attempts whose outcome never came back: possibly received. */
  outcome_unknown: number;
  /** Attempts the receiver answered with a non-2xx status: it received the request. */
  answered_non_2xx: number;
  /** Lines written to the app's XAA stream. */
  streamed: number;
  first_at: number;
  last_at: number;
};

export class LedgerStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly placement: () => Placement = () => ONLY_SHARD,
  ) {}

  /**
   * The id column of a new ledger row written at `at`. An unsharded app lets SQLite number its rows.
   * A shard of a sharded app numbers them itself, so that ids are unique over the app's shards and
   * ordered roughly by time (src/domain/shards.ts): the next id congruent to the shard's index, and
   * at least `at` times LEDGER_IDS_PER_MS times the shard count. `max(id)` is one look-up at the end
   * of the primary key.
   */
  private idOf(at: number): { column: string; value: string; args: number[] } {
    const { shard, shards } = this.placement();
    if (shards <= 1) return { column: '', value: '', args: [] };
    return {
      column: 'id, ',
      value: '(SELECT max(coalesce(max(id) + ?, 0), ?) FROM ledger), ',
      args: [shards, at * LEDGER_IDS_PER_MS * shards + shard],
    };
  }

  /** The write-ahead row of one attempt, before its request leaves the object. Returns its id. */
  recordHandOut(entry: { message: MessageRow; attempt: number; at: number; url: string; startBy: number }): number {
    const m = entry.message;
    const id = this.idOf(entry.at);
    return this.sql
      .exec<{ id: number }>(
        `INSERT INTO ledger (${id.column}seq, delivery_id, kind, replay_job_id, ingested_at, event_id, event_type, webhook_id, url, for_user_id, attempt, at, start_by, outcome, xaa_subscription_id)
         VALUES (${id.value}?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unknown', ?) RETURNING id`,
        ...id.args,
        m.seq,
        m.webhook_message_id,
        m.kind,
        m.replay_job_id,
        m.created_at,
        m.event_id,
        m.event_type,
        m.webhook_id,
        entry.url,
        m.user_id,
        entry.attempt,
        entry.at,
        entry.startBy,
        m.xaa_subscription_id,
      )
      .one().id;
  }

  /**
   * A line about to be written to an open XAA stream, recorded before it is: who (`for_user_id`),
   * what, on which connection (`url` is `stream:<connection id>`). Nobody acknowledges a line, so the
   * row is complete as written.
   */
  recordStreamWrite(message: MessageRow, connectionId: string, at: number): void {
    const m = message;
    const id = this.idOf(at);
    this.sql.exec(
      `INSERT INTO ledger (${id.column}seq, delivery_id, kind, ingested_at, event_id, event_type, webhook_id, url, for_user_id, attempt, at, started_at, outcome, xaa_subscription_id)
       VALUES (${id.value}?, ?, ?, ?, ?, ?, '', ?, ?, 1, ?, ?, 'streamed', ?)`,
      ...id.args,
      m.seq,
      m.webhook_message_id,
      m.kind,
      m.created_at,
      m.event_id,
      m.event_type,
      `stream:${connectionId}`,
      m.user_id,
      at,
      at,
      m.xaa_subscription_id,
    );
  }

  /**
   * The reported outcome of a handed-out attempt (a late report still completes its row), written only
   * if the row is the hand-out the report names (same message, same attempt): one conditional write
   * instead of a read to check and a write. Returns false, having written nothing, for a report that
   * matches no hand-out.
   */
  recordOutcome(
    handOut: { handOutId: number; seq: number; attempt: number },
    outcome: {
      outcome: LedgerOutcome;
      startedAt: number | null;
      statusCode: number | null;
      error: string | null;
      latencyMs: number | null;
    },
  ): boolean {
    const matched = this.sql
      .exec(
        `UPDATE ledger SET outcome = ?, started_at = ?, status_code = ?, error = ?, latency_ms = ?
         WHERE id = ? AND seq = ? AND attempt = ? RETURNING id`,
        outcome.outcome,
        outcome.startedAt,
        outcome.statusCode,
        outcome.error,
        outcome.latencyMs,
        handOut.handOutId,
        handOut.seq,
        handOut.attempt,
      )
      .toArray();
    return matched.length > 0;
  }

  /** A hand-out row, to match a report against what was really handed out. */
  handOut(handOutId: number): { id: number; seq: number; attempt: number; url: string | null; outcome: LedgerOutcome } | undefined {
    return this.sql
      .exec<{ id: number; seq: number; attempt: number; url: string | null; outcome: LedgerOutcome }>(
        'SELECT id, seq, attempt, url, outcome FROM ledger WHERE id = ?',
        handOutId,
      )
      .toArray()[0];
  }

  /**
   * The latest start deadline among hand-outs in a scope whose outcome is still unknown and whose
   * deadline has not passed: until then, a request of that scope may still start. Read from the
   * ledger, not the outbox, so it also covers hand-outs whose message a previous, half-answered
   * withdrawal already dropped. 0 when none.
   */
  openHandOutsUntil(
    scope: { webhookId?: string; userId?: string; xaaSubscriptionIds?: string[] },
    now: number,
    startWindowMs: number,
  ): number {
    // A hand-out whose deadline is still ahead was handed out less than one start window ago: the
    // time index keeps this to the last few seconds of the ledger.
    const clauses = ['at > ?', "outcome = 'unknown'", 'start_by > ?'];
    const args: (string | number)[] = [now - startWindowMs, now];
    if (scope.xaaSubscriptionIds !== undefined) {
      if (scope.xaaSubscriptionIds.length === 0) return 0;
      clauses.push(`xaa_subscription_id IN (${scope.xaaSubscriptionIds.map(() => '?').join(', ')})`);
      args.push(...scope.xaaSubscriptionIds);
    }
    if (scope.webhookId !== undefined) {
      clauses.push('webhook_id = ?');
      args.push(scope.webhookId);
    }
    if (scope.userId !== undefined) {
      clauses.push('for_user_id = ?');
      args.push(scope.userId);
    }
    return (
      this.sql.exec<{ t: number | null }>(`SELECT MAX(start_by) AS t FROM ledger WHERE ${clauses.join(' AND ')}`, ...args).one().t ?? 0
    );
  }

  /** A message that left without any request: withdrawn, or expired before it could be sent. */
  recordDrop(message: MessageRow, attempt: number, at: number, reason: string): void {
    const m = message;
    const id = this.idOf(at);
    this.sql.exec(
      `INSERT INTO ledger (${id.column}seq, delivery_id, kind, replay_job_id, ingested_at, event_id, event_type, webhook_id, for_user_id, attempt, at, error, outcome, xaa_subscription_id)
       VALUES (${id.value}?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'dropped', ?)`,
      ...id.args,
      m.seq,
      m.webhook_message_id,
      m.kind,
      m.replay_job_id,
      m.created_at,
      m.event_id,
      m.event_type,
      m.webhook_id,
      m.user_id,
      attempt,
      at,
      reason,
      m.xaa_subscription_id,
    );
  }

  entries(filter: LedgerFilter): { entries: LedgerEntry[]; nextBefore: number | null } {
    const clauses: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      clauses.push(clause);
      args.push(value);
    };
    add('l.webhook_id = ?', filter.webhookId);
    add('l.for_user_id = ?', filter.userId);
    add('l.outcome = ?', filter.outcome);
    add('l.at >= ?', filter.from);
    add('l.at < ?', filter.to);
    add('l.id < ?', filter.before);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.sql.exec<LedgerEntry>(`${ENTRY_WITH_NEXT} ${where} ORDER BY l.id DESC LIMIT ?`, ...args, filter.limit + 1).toArray();
    const page = rows.slice(0, filter.limit);
    return { entries: page, nextBefore: rows.length > filter.limit ? page[page.length - 1].id : null };
  }

  /** One entry by its id, with what happens next to its delivery (as in `entries`). */
  entry(id: number): LedgerEntry | undefined {
    return this.sql.exec<LedgerEntry>(`${ENTRY_WITH_NEXT} WHERE l.id = ?`, id).toArray()[0];
  }

  /** Per event type: what of the user's data this app received or may have received, first and last time. */
  userSummary(userId: string): UserSummaryRow[] {
    return this.sql
      .exec<UserSummaryRow>(
        `SELECT event_type,
           SUM(outcome = 'delivered') AS delivered,
           SUM(outcome = 'unknown') AS outcome_unknown,
           SUM(status_code IS NOT NULL AND (status_code < 200 OR status_code > 299)) AS answered_non_2xx,
           SUM(outcome = 'streamed') AS streamed,
           MIN(at) AS first_at, MAX(at) AS last_at
         FROM ledger WHERE for_user_id = ? AND outcome IN (${SENT_OUTCOMES.map(() => '?').join(', ')})
         GROUP BY event_type ORDER BY event_type`,
        userId,
        ...SENT_OUTCOMES,
      )
      .toArray();
  }

  /** Every attempt that did or may have sent a request, handed out in [from, to), oldest first, paged by ledger id. */
  sentIn(from: number, to: number, afterId: number, limit: number): LedgerEntry[] {
    return this.sql
      .exec<LedgerEntry>(
        `SELECT l.*, NULL AS message_state, NULL AS next_attempt_at, NULL AS outbox_state, NULL AS webhook_valid
         FROM ledger l WHERE l.at >= ? AND l.at < ? AND l.id > ? AND l.outcome IN (${SENT_OUTCOMES.map(() => '?').join(', ')})
         ORDER BY l.id LIMIT ?`,
        from,
        to,
        afterId,
        ...SENT_OUTCOMES,
        limit,
      )
      .toArray();
  }
}
