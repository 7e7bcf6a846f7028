import { forgetOutboxCache } from './outbox-cache';
import type { ScopedMessage } from './outbox-store';

/**
 * What retention (retention.ts) does to the object's tables: payloads dropped after the payload
 * window, ledger rows, finished messages, events and finished replay jobs forgotten after the ledger
 * window; and the object's small key/value `meta` table, where the alarm keeps when it last purged.
 */
export class RetentionStore {
  constructor(private readonly sql: SqlStorage) {}

  meta(key: string): number | null {
    return this.sql.exec<{ value: number }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value ?? null;
  }

  setMeta(key: string, value: number): void {
    this.sql.exec('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
  }

  /** Drops the payloads of messages created before `cutoff`; returns those still in the outbox. */
  expirePayloads(cutoff: number): ScopedMessage[] {
    const expiredInOutbox = this.sql
      .exec<ScopedMessage>(
        `SELECT m.*, o.lane AS lane, o.state AS outbox_state, o.start_by AS start_by
         FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.created_at < ? ORDER BY o.seq`,
        cutoff,
      )
      .toArray();
    this.sql.exec('UPDATE messages SET payload = NULL WHERE created_at < ? AND payload IS NOT NULL', cutoff);
    forgetOutboxCache(this.sql); // cached messages may still carry the payloads just dropped
    return expiredInOutbox;
  }

  /** Forgets ledger entries, finished messages, events and finished replay jobs older than `cutoff`. */
  forgetBefore(cutoff: number): void {
    this.sql.exec('DELETE FROM ledger WHERE at < ?', cutoff);
    this.sql.exec('DELETE FROM messages WHERE created_at < ? AND seq NOT IN (SELECT seq FROM outbox)', cutoff);
    this.sql.exec('DELETE FROM events WHERE ingested_at < ?', cutoff);
    // A part still owing its counts to shard 0 ('reporting') is kept until they are acknowledged.
    this.sql.exec(`DELETE FROM replay_jobs WHERE state IN ('complete', 'incomplete') AND created_at < ?`, cutoff);
    this.sql.exec('DELETE FROM replay_parts WHERE job_id NOT IN (SELECT job_id FROM replay_jobs)');
    forgetOutboxCache(this.sql); // a finished message read since (a replay's original) may be gone now
  }
}
