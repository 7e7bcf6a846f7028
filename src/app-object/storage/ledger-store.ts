/**
 * Read-only questions about an app's ledger: the developer's delivery log, the operator's ledger,
 * per-user summaries for the transparency report, and the entries the audit re-checks.
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
  at: number;
  status_code: number | null;
  error: string | null;
  latency_ms: number | null;
  outcome: string;
  message_state: string | null;
  next_attempt_at: number | null;
  outbox_state: string | null;
  webhook_valid: number | null;
};

/** Outcomes that mean a request was actually sent to the receiver. */
export const SENT_OUTCOMES = ['delivered', 'retrying', 'failed', 'gone'] as const;

export class LedgerQueries {
  constructor(private readonly sql: SqlStorage) {}

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
    const rows = this.sql
      .exec<LedgerEntry>(
        `SELECT l.*, m.state AS message_state, o.not_before AS next_attempt_at, o.state AS outbox_state, w.valid AS webhook_valid
         FROM ledger l
         LEFT JOIN messages m ON m.seq = l.seq
         LEFT JOIN outbox o ON o.seq = m.seq
         LEFT JOIN webhooks w ON w.id = l.webhook_id
         ${where} ORDER BY l.id DESC LIMIT ?`,
        ...args,
        filter.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, filter.limit);
    return { entries: page, nextBefore: rows.length > filter.limit ? page[page.length - 1].id : null };
  }

  /** Per event type, how many of the user's events were delivered, first and last time. */
  userSummary(userId: string): { event_type: string; delivered: number; first_at: number; last_at: number }[] {
    return this.sql
      .exec<{ event_type: string; delivered: number; first_at: number; last_at: number }>(
        `SELECT event_type, count(*) AS delivered, MIN(at) AS first_at, MAX(at) AS last_at
         FROM ledger WHERE for_user_id = ? AND outcome = 'delivered' GROUP BY event_type ORDER BY event_type`,
        userId,
      )
      .toArray();
  }

  /** Every attempt that sent a request in [from, to), oldest first, paged by ledger id. */
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
