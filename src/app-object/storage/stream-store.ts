import type { MessageRow } from './outbox-store';

/**
 * The lines of the app's X Activity API stream (docs/xaa.md, "The stream"): one message of kind
 * `stream` per (event, subscription) and one `stream_notice` per app-level notice, in `messages` with
 * every other rendered payload (so payload and ledger retention apply to them as to webhook
 * deliveries), but with no outbox row: each open connection reads them in order from its own cursor,
 * which is how backfill works and why a slow reader holds nothing in memory.
 */
export interface NewStreamLine {
  deliveryId: string;
  kind: 'stream' | 'stream_notice';
  eventId: string;
  eventType: string;
  requiredScope: string | null;
  /** The subscription's filter user; '' for an app-level notice. */
  userId: string;
  xaaSubscriptionId: string | null;
  payload: string;
  createdAt: number;
}

const STREAM_KINDS = `kind IN ('stream', 'stream_notice')`;

export class StreamStore {
  constructor(private readonly sql: SqlStorage) {}

  /** Appends a line; its seq orders it after every earlier line of the app. Ignored if already there (a retried ingest). */
  append(line: NewStreamLine): { seq: number; bytes: number } | null {
    const row = this.sql
      .exec<{ seq: number; bytes: number }>(
        `INSERT INTO messages (delivery_id, webhook_message_id, kind, event_id, event_type, required_scope, webhook_id, user_id, payload,
           created_at, state, xaa_subscription_id)
         VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, 'stream', ?) ON CONFLICT (delivery_id) DO NOTHING RETURNING seq, length(payload) AS bytes`,
        line.deliveryId,
        line.deliveryId,
        line.kind,
        line.eventId,
        line.eventType,
        line.requiredScope,
        line.userId,
        line.payload,
        line.createdAt,
        line.xaaSubscriptionId,
      )
      .toArray()[0];
    return row ?? null;
  }

  /** Lines after `seq`, oldest first (a line whose payload retention ended has none: it is skipped). */
  after(seq: number, limit: number): MessageRow[] {
    return this.sql.exec<MessageRow>(`SELECT * FROM messages WHERE ${STREAM_KINDS} AND seq > ? ORDER BY seq LIMIT ?`, seq, limit).toArray();
  }

  /** The cursor from which lines ingested at or after `since` are read, and their total size. */
  backlogSince(since: number): { cursor: number; bytes: number } {
    const row = this.sql
      .exec<{ first: number | null; bytes: number | null; head: number | null }>(
        `SELECT (SELECT MIN(seq) FROM messages WHERE ${STREAM_KINDS} AND created_at >= ?) AS first,
                (SELECT SUM(length(payload)) FROM messages WHERE ${STREAM_KINDS} AND created_at >= ?) AS bytes,
                (SELECT MAX(seq) FROM messages WHERE ${STREAM_KINDS}) AS head`,
        since,
        since,
      )
      .one();
    if (row.first === null) return { cursor: row.head ?? 0, bytes: 0 };
    return { cursor: row.first - 1, bytes: row.bytes ?? 0 };
  }
}
