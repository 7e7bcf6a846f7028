import type { AttemptResult } from '../domain/retry';
import type { AppStore } from './storage/app-store';
import type { WebhookMirrorStore, WebhookPath } from './storage/webhook-mirror-store';

/** Consecutive quick successes that bring a slow webhook back to the fast path. */
const FAST_AFTER_STREAK = 3;

/**
 * Per-webhook health steers which queue its releases take (docs/delivery.md, "Fairness"): a webhook
 * that times out, cannot be reached or answers slower than `slowMs` moves to the slow path, where its
 * requests wait on their own consumer invocations instead of holding connections other apps need.
 * A few quick successes bring it back. Pure bookkeeping on the object's webhook rows.
 */
export function observeAttempt(webhooks: WebhookMirrorStore, webhookId: string, result: AttemptResult, slowMs: number, now: number): void {
  const webhook = webhooks.get(webhookId);
  if (!webhook) return;
  const delivered = 'status' in result && result.status >= 200 && result.status <= 299;
  if (!delivered) webhooks.recordFailure(webhookId, now, 'status' in result ? `HTTP ${result.status}` : result.error);
  else if (webhook.failures > 0) webhooks.endFailingStreak(webhookId);
  const slow = 'error' in result || result.latencyMs > slowMs;
  if (slow) {
    if (webhook.path !== 'slow' || webhook.fast_streak !== 0) webhooks.setPath(webhookId, 'slow', 0);
    return;
  }
  if (webhook.path === 'fast' || result.status < 200 || result.status > 299) return;
  const streak = webhook.fast_streak + 1;
  webhooks.setPath(webhookId, streak >= FAST_AFTER_STREAK ? 'fast' : 'slow', streak >= FAST_AFTER_STREAK ? 0 : streak);
}

/** The consumer saw a request to this webhook go unanswered past the slow threshold. */
export function markSlow(webhooks: WebhookMirrorStore, webhookId: string): void {
  const webhook = webhooks.get(webhookId);
  if (webhook && (webhook.path !== 'slow' || webhook.fast_streak !== 0)) webhooks.setPath(webhookId, 'slow', 0);
}

/** Backlogs are counted up to this many messages per webhook (a larger one shows as "10,000+"). */
export const BACKLOG_COUNT_CAP = 10_000;

/** One live webhook's health as the developer portal and the operator console show it. */
export interface WebhookHealth {
  id: string;
  url: string;
  valid: boolean;
  /** Which queue its releases take: `slow` after timeouts, unreachable answers or slow answers. */
  path: WebhookPath;
  /** Reported attempts in a row that failed, since `failingSince`; 0 when its last attempt was delivered. */
  consecutiveFailures: number;
  failingSince: number | null;
  lastFailureAt: number | null;
  lastError: string | null;
  /** Undelivered messages (counted up to the cap), held while the webhook is invalid. */
  undelivered: number;
  undeliveredCapped: boolean;
  /** When the longest-waiting of them entered the outbox (for a replay copy: its original event). */
  oldestUndeliveredAt: number | null;
}

/** Health of every live webhook: read-only, a handful of row reads per webhook. */
export function webhookHealth(store: AppStore): WebhookHealth[] {
  return store.webhooks
    .all()
    .filter((w) => w.deleted_at === null)
    .map((w) => {
      const backlog = store.outboxViews.backlog(w.id, BACKLOG_COUNT_CAP);
      return {
        id: w.id,
        url: w.url,
        valid: w.valid === 1,
        path: w.path,
        consecutiveFailures: w.failures,
        failingSince: w.failing_since,
        lastFailureAt: w.last_failure_at,
        lastError: w.last_error,
        undelivered: backlog.undelivered,
        undeliveredCapped: backlog.capped,
        oldestUndeliveredAt: backlog.oldestAt,
      };
    });
}
