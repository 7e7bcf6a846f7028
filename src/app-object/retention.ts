import type { AppStore } from './storage/app-store';
import type { ScopedMessage } from './storage/outbox-store';

/**
 * Retention (docs/delivery.md, "Retention"): payloads are kept for replay for `payloadMs` (5 days),
 * ledger metadata for `ledgerMs` (400 days). Run by the app object's alarm, never by a request, at
 * most once per `PURGE_INTERVAL_MS`. Returns the outbox messages whose payload expired before they
 * could be sent; the caller drops them (on the record).
 */
export const PURGE_INTERVAL_MS = 3_600_000;

export function purgeExpired(store: AppStore, now: number, retention: { payloadMs: number; ledgerMs: number }): ScopedMessage[] {
  const expired = store.retention.expirePayloads(now - retention.payloadMs);
  store.retention.forgetBefore(now - retention.ledgerMs);
  store.retention.setMeta('last_purge', now);
  return expired;
}
