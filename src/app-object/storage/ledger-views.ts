import { SENT_OUTCOMES } from './ledger-store';

/**
 * The questions asked of the app's ledger (ledger-store.ts writes it): the developer's delivery log,
 * the operator's ledger, per-user summaries for the access report, and the entries the audit
 * re-checks. Read-only.
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

export class LedgerViews {
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
