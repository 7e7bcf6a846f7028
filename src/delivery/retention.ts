import type { MessageRow, Outbox } from './outbox';

/**
 * Retention (docs/delivery.md, "Retention"): payloads are kept for replay for `payloadMs` (5 days), ledger metadata for
 * `ledgerMs` (400 days). Run by the app object's alarm, never by a request. Returns the outbox
 * messages whose payload expired before they could be sent; the caller drops them (on the record).
 */
export const PURGE_INTERVAL_MS = 3_600_000;

export function purgeExpired(
  sql: SqlStorage,
  outbox: Outbox,
  now: number,
  retention: { payloadMs: number; ledgerMs: number },
): (MessageRow & { lane: string })[] {
  const payloadCutoff = now - retention.payloadMs;
  const ledgerCutoff = now - retention.ledgerMs;
  const expiredInOutbox = sql
    .exec<MessageRow & { lane: string }>(
      `SELECT m.*, o.lane AS lane FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.created_at < ? ORDER BY o.seq`,
      payloadCutoff,
    )
    .toArray();
  // Expired outbox messages lose their payload too: the caller drops them next.
  sql.exec('UPDATE messages SET payload = NULL WHERE created_at < ? AND payload IS NOT NULL', payloadCutoff);
  sql.exec('DELETE FROM ledger WHERE at < ?', ledgerCutoff);
  sql.exec('DELETE FROM messages WHERE created_at < ? AND seq NOT IN (SELECT seq FROM outbox)', ledgerCutoff);
  sql.exec('DELETE FROM events WHERE ingested_at < ?', ledgerCutoff);
  sql.exec(`DELETE FROM replay_jobs WHERE state != 'running' AND created_at < ?`, ledgerCutoff);
  outbox.setMeta('last_purge', now);
  return expiredInOutbox;
}
