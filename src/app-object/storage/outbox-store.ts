import { keep, type OutboxCache, outboxCacheOf } from './outbox-cache';
import { type AttemptRecord, laneOf, type MessageRow, type NewMessage, type OutboxRow } from './outbox-rows';

export * from './outbox-rows';

/**
 * Messages and the outbox (docs/delivery.md, "Lanes"). Every message the object renders is kept in
 * `messages` (its payload until retention ends, for replay); the ones not yet finished also have an
 * `outbox` row.
 *
 * A lane is named by `lane`: `<webhook>|<user>` for live events, `<webhook>|<user>|r<job>` for a
 * replay job's copies, `<webhook>|` for app-level messages (revoke, replay status). The outbox row
 * with the lowest seq in a lane is its head; only a head is ever released, so a lane is strictly
 * FIFO. An outbox row is in one of four states:
 * - `waiting`: not on the queue; the alarm releases it once it is the head and `not_before` passed;
 * - `held`: a head whose webhook is invalid; it waits for a CRC to pass, not for the clock;
 * - `released`: on the queue as release number `release` (a later release supersedes it);
 * - `handed`: signed and handed to a consumer, on the ledger as `hand_out_id`, to be started
 *   before `start_by` or not at all.
 * This class moves rows between those states; questions across every lane (what is due, released or
 * in flight) are OutboxScans (outbox-scans.ts).
 */
export class Outbox {
  /** Rows as last written or read (outbox-cache.ts): most reads of a delivery's rows cost no SQL. */
  private readonly cache: OutboxCache;

  constructor(private readonly sql: SqlStorage) {
    this.cache = outboxCacheOf(sql);
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
    const seq = this.insertMessage(m);
    this.insertRow(seq, m, null);
    return seq;
  }

  private insertMessage(m: NewMessage): number {
    const message = this.sql
      .exec<MessageRow>(
        `INSERT INTO messages (delivery_id, webhook_message_id, replay_job_id, kind, event_id, event_type, required_scope, webhook_id, user_id, payload, created_at, state, xaa_subscription_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING *`,
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
        m.xaaSubscriptionId ?? null,
      )
      .one();
    keep(this.cache.messages, message);
    return message.seq;
  }

  /**
   * Appends a message released at once, as the head of its lane (the caller saw the lane empty and
   * asked the entitlement rule): what append followed by markReleased would leave, in one write.
   */
  appendReleased(m: NewMessage, now: number): OutboxRow {
    return this.insertRow(this.insertMessage(m), m, now);
  }

  /** The message's outbox row: waiting, or released at `releasedAt` as its first release. */
  private insertRow(seq: number, m: NewMessage, releasedAt: number | null): OutboxRow {
    const released = releasedAt !== null;
    const row = this.sql
      .exec<OutboxRow>(
        `INSERT INTO outbox (seq, lane, webhook_id, user_id, state, attempt, not_before, release, released_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING *`,
        seq,
        laneOf(m),
        m.webhookId,
        m.userId,
        released ? 'released' : 'waiting',
        releasedAt ?? m.notBefore ?? m.createdAt,
        released ? 1 : 0,
        releasedAt,
      )
      .one();
    return keep(this.cache.rows, row);
  }

  message(seq: number): MessageRow | undefined {
    const cached = this.cache.messages.get(seq);
    if (cached) return cached;
    const row = this.sql.exec<MessageRow>('SELECT * FROM messages WHERE seq = ?', seq).toArray()[0];
    return row && keep(this.cache.messages, row);
  }

  outboxRow(seq: number): OutboxRow | undefined {
    const cached = this.cache.rows.get(seq);
    if (cached) return cached;
    const row = this.sql.exec<OutboxRow>('SELECT * FROM outbox WHERE seq = ?', seq).toArray()[0];
    return row && keep(this.cache.rows, row);
  }

  /** Runs an UPDATE of outbox row `seq` (its `WHERE seq = ?` bound last) that ends in `RETURNING *`, and keeps the row as written. */
  private updateRow(seq: number, query: string, ...bindings: SqlStorageValue[]): OutboxRow | undefined {
    const row = this.sql.exec<OutboxRow>(query, ...bindings, seq).toArray()[0];
    if (row) keep(this.cache.rows, row);
    else this.cache.rows.delete(seq);
    return row;
  }

  laneHead(lane: string): OutboxRow | undefined {
    return this.sql.exec<OutboxRow>('SELECT * FROM outbox WHERE lane = ? ORDER BY seq LIMIT 1', lane).toArray()[0];
  }

  /** Puts a row on the queue under a new release number, which supersedes any earlier one. */
  markReleased(seq: number, now: number): number {
    const row = this.updateRow(
      seq,
      `UPDATE outbox SET state = 'released', release = release + 1, released_at = ?, not_before = ?, hand_out_id = NULL, start_by = NULL
       WHERE seq = ? RETURNING *`,
      now,
      now,
    );
    if (!row) throw new Error(`outbox row ${seq} is gone; it cannot be released`);
    return row.release;
  }

  /** Handed out: the start deadline is kept in `not_before` too, so the due index serves the hand-out lease. */
  markHanded(seq: number, handOutId: number, startBy: number): void {
    this.updateRow(
      seq,
      `UPDATE outbox SET state = 'handed', hand_out_id = ?, start_by = ?, not_before = ? WHERE seq = ? RETURNING *`,
      handOutId,
      startBy,
      startBy,
    );
  }

  /** Back to waiting (a retry, an unsent hand-out, a failed release); `attempt` and `notBefore` say which and when. */
  markWaiting(seq: number, attempt: number, notBefore: number): void {
    this.updateRow(
      seq,
      `UPDATE outbox SET state = 'waiting', attempt = ?, not_before = ?, released_at = NULL, hand_out_id = NULL, start_by = NULL
       WHERE seq = ? RETURNING *`,
      attempt,
      notBefore,
    );
  }

  markHeld(seq: number): void {
    this.updateRow(
      seq,
      `UPDATE outbox SET state = 'held', released_at = NULL, hand_out_id = NULL, start_by = NULL WHERE seq = ? RETURNING *`,
    );
  }

  /** A webhook passed a CRC again: its held heads wait for the next release, in order. */
  unhold(webhookId: string): OutboxRow[] {
    return this.sql
      .exec<OutboxRow>(`UPDATE outbox SET state = 'waiting' WHERE webhook_id = ? AND state = 'held' RETURNING *`, webhookId)
      .toArray()
      .map((row) => keep(this.cache.rows, row));
  }

  /** An attempt that did not end its message (a retry follows, or it came late). */
  recordAttempt(seq: number, a: AttemptRecord): void {
    const message = this.sql
      .exec<MessageRow>(
        `UPDATE messages SET attempts = MAX(attempts, ?), last_attempt_at = ?, last_status = ?, last_error = ? WHERE seq = ? RETURNING *`,
        a.attempt,
        a.at,
        a.statusCode,
        a.error,
        seq,
      )
      .toArray()[0];
    if (message) keep(this.cache.messages, message);
    else this.cache.messages.delete(seq);
  }

  /**
   * Ends a message: it leaves the outbox, and its lane's next message becomes the head. `attempt`,
   * when the message ends with an attempt's outcome, is recorded in the same write.
   */
  finish(seq: number, state: 'delivered' | 'failed' | 'dropped', at: number, attempt?: AttemptRecord): void {
    if (attempt) {
      // Not RETURNING the row: an ended message leaves the cache, and its payload need not be copied out.
      this.sql.exec(
        `UPDATE messages SET attempts = MAX(attempts, ?), last_attempt_at = ?, last_status = ?, last_error = ?, state = ?, finished_at = ?
         WHERE seq = ?`,
        attempt.attempt,
        attempt.at,
        attempt.statusCode,
        attempt.error,
        state,
        at,
        seq,
      );
    } else this.sql.exec('UPDATE messages SET state = ?, finished_at = ? WHERE seq = ?', state, at, seq);
    this.sql.exec('DELETE FROM outbox WHERE seq = ?', seq);
    this.cache.messages.delete(seq);
    this.cache.rows.delete(seq);
  }
}
