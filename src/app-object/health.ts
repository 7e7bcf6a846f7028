import type { AttemptResult } from '../domain/retry';
import type { MirrorStore } from './storage/mirror-store';

/** Consecutive quick successes that bring a slow webhook back to the fast path. */
const FAST_AFTER_STREAK = 3;

/**
 * Per-webhook health steers which queue its releases take (docs/delivery.md, "Fairness"): a webhook
 * that times out, cannot be reached or answers slower than `slowMs` moves to the slow path, where its
 * requests wait on their own consumer invocations instead of holding connections other apps need.
 * A few quick successes bring it back. Pure bookkeeping on the mirror.
 */
export function observeAttempt(mirror: MirrorStore, webhookId: string, result: AttemptResult, slowMs: number): void {
  const webhook = mirror.webhook(webhookId);
  if (!webhook) return;
  const slow = 'error' in result || result.latencyMs > slowMs;
  if (slow) {
    if (webhook.path !== 'slow' || webhook.fast_streak !== 0) mirror.setPath(webhookId, 'slow', 0);
    return;
  }
  if (webhook.path === 'fast' || result.status < 200 || result.status > 299) return;
  const streak = webhook.fast_streak + 1;
  mirror.setPath(webhookId, streak >= FAST_AFTER_STREAK ? 'fast' : 'slow', streak >= FAST_AFTER_STREAK ? 0 : streak);
}

/** The consumer saw a request to this webhook go unanswered past the slow threshold. */
export function markSlow(mirror: MirrorStore, webhookId: string): void {
  const webhook = mirror.webhook(webhookId);
  if (webhook && (webhook.path !== 'slow' || webhook.fast_streak !== 0)) mirror.setPath(webhookId, 'slow', 0);
}
