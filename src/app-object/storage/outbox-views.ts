import type { ScopedMessage } from './outbox-store';

/**
 * Read-only views over the outbox for those who act on it from outside the lanes: which messages a
 * withdrawal covers, and how far behind a webhook is (console health). The lanes' state machine
 * itself is in outbox-store.ts.
 */
export class OutboxViews {
  constructor(private readonly sql: SqlStorage) {}

  /** Outbox messages in a withdrawn scope (with their lane and state); the caller drops each. */
  outboxWhere(filter: { webhookId?: string; userId?: string; xaaSubscriptionIds?: string[] }): ScopedMessage[] {
    const clauses: string[] = [];
    const args: string[] = [];
    if (filter.xaaSubscriptionIds !== undefined) {
      if (filter.xaaSubscriptionIds.length === 0) return [];
      clauses.push(`m.xaa_subscription_id IN (${filter.xaaSubscriptionIds.map(() => '?').join(', ')})`);
      args.push(...filter.xaaSubscriptionIds);
    }
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
      .exec<ScopedMessage>(
        `SELECT m.*, o.lane AS lane, o.state AS outbox_state, o.start_by AS start_by
         FROM outbox o JOIN messages m ON m.seq = o.seq ${where} ORDER BY o.seq`,
        ...args,
      )
      .toArray();
  }

  /**
   * A webhook's undelivered messages: how many (counting at most `cap`, so a huge backlog costs no
   * more than that many rows read) and when the first of those counted entered the outbox. Its
   * lanes are `<webhook>|…`, a range of the lane index.
   */
  backlog(webhookId: string, cap: number): { undelivered: number; capped: boolean; oldestAt: number | null } {
    const row = this.sql
      .exec<{ n: number; first: number | null }>(
        `SELECT count(*) AS n, MIN(seq) AS first FROM (SELECT seq FROM outbox WHERE lane >= ? AND lane < ? LIMIT ?)`,
        `${webhookId}|`,
        `${webhookId}}`,
        cap + 1,
      )
      .one();
    const oldestAt =
      row.first === null
        ? null
        : (this.sql.exec<{ created_at: number }>('SELECT created_at FROM messages WHERE seq = ?', row.first).toArray()[0]?.created_at ??
          null);
    return { undelivered: Math.min(row.n, cap), capped: row.n > cap, oldestAt };
  }
}
