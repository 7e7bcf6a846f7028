import { type MirrorCache, mirrorCacheOf } from './mirror-cache';

/**
 * The app object's copy of its webhooks, keyed by their D1 ids: URL, signing secrets, validity (as of
 * its time: an older change never overwrites a newer one) and health (the queue path and the failing
 * streak). Deleting a webhook also ends its subscriptions, so that lives in MirrorStore.
 */
export type WebhookPath = 'fast' | 'slow';

export type MirrorWebhook = {
  id: string;
  url: string;
  valid: number;
  signing_secret: string;
  previous_signing_secret: string | null;
  previous_signing_secret_until: number | null;
  created_at: number;
  deleted_at: number | null;
  valid_changed_at: number | null;
  path: WebhookPath;
  fast_streak: number;
  /** Reported attempts in a row that failed (non-2xx or no answer), since `failing_since`; 0 when healthy. */
  failures: number;
  failing_since: number | null;
  last_failure_at: number | null;
  last_error: string | null;
};

export class WebhookMirrorStore {
  private readonly cache: MirrorCache;

  constructor(private readonly sql: SqlStorage) {
    this.cache = mirrorCacheOf(sql);
  }

  addWebhook(webhook: { id: string; url: string; createdAt: number }, signingSecret: string): void {
    this.cache.webhooks.delete(webhook.id);
    this.sql.exec(
      `INSERT INTO webhooks (id, url, valid, signing_secret, created_at, valid_changed_at) VALUES (?, ?, 1, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      webhook.id,
      webhook.url,
      signingSecret,
      webhook.createdAt,
      webhook.createdAt,
    );
  }

  rotateSigningSecret(webhookId: string, secret: string, previousUntil: number): void {
    this.cache.webhooks.delete(webhookId);
    this.sql.exec(
      `UPDATE webhooks SET previous_signing_secret = signing_secret, previous_signing_secret_until = ?, signing_secret = ?
       WHERE id = ? AND deleted_at IS NULL`,
      previousUntil,
      secret,
      webhookId,
    );
  }

  /** Validity as of `at`; an older change than the one applied is ignored. True if it applied. */
  setWebhookValid(webhookId: string, valid: boolean, at: number): boolean {
    this.cache.webhooks.delete(webhookId);
    return (
      this.sql.exec(
        `UPDATE webhooks SET valid = ?, valid_changed_at = ?
         WHERE id = ? AND deleted_at IS NULL AND (valid_changed_at IS NULL OR valid_changed_at <= ?)`,
        valid ? 1 : 0,
        at,
        webhookId,
        at,
      ).rowsWritten > 0
    );
  }

  /** Health steers which queue a webhook's releases take (docs/delivery.md, "Fairness"). */
  setPath(webhookId: string, path: WebhookPath, fastStreak: number): void {
    this.cache.webhooks.delete(webhookId);
    this.sql.exec('UPDATE webhooks SET path = ?, fast_streak = ? WHERE id = ?', path, fastStreak, webhookId);
  }

  /** One more failed attempt in the webhook's failing streak (the streak starts at its first failure). */
  recordFailure(webhookId: string, at: number, error: string): void {
    this.sql.exec(
      `UPDATE webhooks SET failures = failures + 1, failing_since = COALESCE(failing_since, ?), last_failure_at = ?, last_error = ?
       WHERE id = ?`,
      at,
      at,
      error,
      webhookId,
    );
    this.cache.webhooks.delete(webhookId);
  }

  /** A delivered attempt ends the failing streak; the last error stays on record. */
  endFailingStreak(webhookId: string): void {
    this.sql.exec('UPDATE webhooks SET failures = 0, failing_since = NULL WHERE id = ?', webhookId);
    this.cache.webhooks.delete(webhookId);
  }

  get(webhookId: string): MirrorWebhook | undefined {
    let webhook = this.cache.webhooks.get(webhookId);
    if (webhook === undefined) {
      webhook = this.sql.exec<MirrorWebhook>('SELECT * FROM webhooks WHERE id = ?', webhookId).toArray()[0] ?? null;
      this.cache.webhooks.set(webhookId, webhook);
    }
    return webhook ?? undefined;
  }

  /** The queue the webhook's deliveries take; a webhook not (or no longer) mirrored counts as fast. */
  pathOf(webhookId: string): WebhookPath {
    return this.get(webhookId)?.path ?? 'fast';
  }

  all(): MirrorWebhook[] {
    return this.sql.exec<MirrorWebhook>('SELECT * FROM webhooks ORDER BY id').toArray();
  }

  live(): { id: string; valid: boolean }[] {
    return this.sql
      .exec<{ id: string; valid: number }>('SELECT id, valid FROM webhooks WHERE deleted_at IS NULL')
      .toArray()
      .map((r) => ({ id: r.id, valid: r.valid === 1 }));
  }
}
