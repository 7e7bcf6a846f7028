import { LEDGER_IDS_PER_MS } from '../../domain/shards';
import type { MessageRow } from './outbox-store';
import { ONLY_SHARD, type Placement } from './tenant-store';

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

/**
 * The app's ledger, written: one row per attempt, written when the attempt is handed out (before
 * anything can be sent) and completed when its outcome is reported, plus one row per drop. An attempt
 * whose outcome never comes back keeps `outcome = 'unknown'` and counts as possibly received
 * everywhere. The questions asked of it are in ledger-views.ts.
 */
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
}
