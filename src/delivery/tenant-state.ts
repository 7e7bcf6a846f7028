/**
 * The app object's own copy of its tenant's control plane: identity and consumer secret, webhooks
 * (with their signing secrets), and the full history of authorizations and subscriptions. It is kept
 * in step with D1 on every change so that the object can re-check entitlement (docs/delivery.md,
 * "Isolation guarantees") without trusting the lookup that routed an event to it.
 */
export const TENANT_SCHEMA = `
CREATE TABLE IF NOT EXISTS tenant (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  app_id TEXT NOT NULL,
  consumer_secret TEXT NOT NULL,
  previous_consumer_secret TEXT,
  previous_consumer_secret_until INTEGER,
  status TEXT NOT NULL,
  status_changed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  valid INTEGER NOT NULL,
  signing_secret TEXT NOT NULL,
  previous_signing_secret TEXT,
  previous_signing_secret_until INTEGER,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE TABLE IF NOT EXISTS authorizations (
  user_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX IF NOT EXISTS authorizations_user ON authorizations (user_id, started_at);
CREATE TABLE IF NOT EXISTS subscriptions (
  webhook_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX IF NOT EXISTS subscriptions_lane ON subscriptions (user_id, webhook_id, started_at);
`;

export type AppStatus = 'pending' | 'active' | 'suspended';

export interface Tenant {
  appId: string;
  consumerSecret: string;
  /** The secret before the last rotation, still honoured until `previousConsumerSecretUntil`. */
  previousConsumerSecret: string | null;
  previousConsumerSecretUntil: number | null;
  status: AppStatus;
}

export class TenantState {
  /** This object's own tenant row, cached: every write to it goes through this class. */
  private cached: Tenant | null | undefined;

  constructor(private readonly sql: SqlStorage) {}

  migrate(): void {
    this.sql.exec(TENANT_SCHEMA);
  }

  tenant(): Tenant | null {
    if (this.cached !== undefined) return this.cached;
    const row = this.sql
      .exec<{
        app_id: string;
        consumer_secret: string;
        previous_consumer_secret: string | null;
        previous_consumer_secret_until: number | null;
        status: AppStatus;
      }>('SELECT * FROM tenant WHERE singleton = 1')
      .toArray()[0];
    this.cached = row
      ? {
          appId: row.app_id,
          consumerSecret: row.consumer_secret,
          previousConsumerSecret: row.previous_consumer_secret,
          previousConsumerSecretUntil: row.previous_consumer_secret_until,
          status: row.status,
        }
      : null;
    return this.cached;
  }

  provision(appId: string, consumerSecret: string, status: AppStatus, at: number): void {
    this.sql.exec(
      `INSERT INTO tenant (singleton, app_id, consumer_secret, status, status_changed_at) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET consumer_secret = excluded.consumer_secret`,
      appId,
      consumerSecret,
      status,
      at,
    );
    this.cached = undefined;
  }

  rotateConsumerSecret(secret: string, previousUntil: number): void {
    this.sql.exec(
      `UPDATE tenant SET previous_consumer_secret = consumer_secret, previous_consumer_secret_until = ?, consumer_secret = ?
       WHERE singleton = 1`,
      previousUntil,
      secret,
    );
    this.cached = undefined;
  }

  rotateSigningSecret(webhookId: string, secret: string, previousUntil: number): void {
    this.sql.exec(
      `UPDATE webhooks SET previous_signing_secret = signing_secret, previous_signing_secret_until = ?, signing_secret = ?
       WHERE id = ? AND deleted_at IS NULL`,
      previousUntil,
      secret,
      webhookId,
    );
  }

  setStatus(status: AppStatus, at: number): void {
    this.sql.exec('UPDATE tenant SET status = ?, status_changed_at = ? WHERE singleton = 1', status, at);
    this.cached = undefined;
  }

  addWebhook(webhook: { id: string; url: string; createdAt: number }, signingSecret: string): void {
    this.sql.exec(
      'INSERT INTO webhooks (id, url, valid, signing_secret, created_at) VALUES (?, ?, 1, ?, ?)',
      webhook.id,
      webhook.url,
      signingSecret,
      webhook.createdAt,
    );
  }

  setWebhookValid(webhookId: string, valid: boolean): void {
    this.sql.exec('UPDATE webhooks SET valid = ? WHERE id = ? AND deleted_at IS NULL', valid ? 1 : 0, webhookId);
  }

  /** Deleting a webhook ends every subscription on it. */
  deleteWebhook(webhookId: string, at: number): void {
    this.sql.exec('UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL', at, webhookId);
    this.sql.exec('UPDATE subscriptions SET ended_at = ? WHERE webhook_id = ? AND ended_at IS NULL', at, webhookId);
  }

  webhook(webhookId: string) {
    return this.sql
      .exec<{
        id: string;
        url: string;
        valid: number;
        signing_secret: string;
        previous_signing_secret: string | null;
        previous_signing_secret_until: number | null;
        deleted_at: number | null;
      }>('SELECT * FROM webhooks WHERE id = ?', webhookId)
      .toArray()[0];
  }

  /** A new grant supersedes the user's previous one (its scopes may differ). */
  grantAuthorization(userId: string, scope: string, at: number): void {
    this.sql.exec('UPDATE authorizations SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL', at, userId);
    this.sql.exec('INSERT INTO authorizations (user_id, scope, started_at) VALUES (?, ?, ?)', userId, scope, at);
  }

  /** Revocation ends the authorization and every subscription of that user in this app. */
  revokeAuthorization(userId: string, at: number): void {
    this.sql.exec('UPDATE authorizations SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL', at, userId);
    this.sql.exec('UPDATE subscriptions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL', at, userId);
  }

  addSubscription(webhookId: string, userId: string, at: number): void {
    const live = this.sql
      .exec('SELECT 1 FROM subscriptions WHERE webhook_id = ? AND user_id = ? AND ended_at IS NULL', webhookId, userId)
      .toArray();
    if (live.length === 0) {
      this.sql.exec('INSERT INTO subscriptions (webhook_id, user_id, started_at) VALUES (?, ?, ?)', webhookId, userId, at);
    }
  }

  endSubscription(webhookId: string, userId: string, at: number): void {
    this.sql.exec('UPDATE subscriptions SET ended_at = ? WHERE webhook_id = ? AND user_id = ? AND ended_at IS NULL', at, webhookId, userId);
  }

  /** The user's live authorization scope in this app, or null. */
  activeScope(userId: string): string | null {
    const row = this.sql
      .exec<{ scope: string }>('SELECT scope FROM authorizations WHERE user_id = ? AND ended_at IS NULL', userId)
      .toArray()[0];
    return row?.scope ?? null;
  }

  /** Live subscriptions of a user on webhooks that still exist, with each webhook's validity. */
  liveSubscriptionsOf(userId: string): { webhookId: string; valid: boolean }[] {
    return this.sql
      .exec<{ webhook_id: string; valid: number }>(
        `SELECT s.webhook_id, w.valid FROM subscriptions s JOIN webhooks w ON w.id = s.webhook_id
         WHERE s.user_id = ? AND s.ended_at IS NULL AND w.deleted_at IS NULL`,
        userId,
      )
      .toArray()
      .map((r) => ({ webhookId: r.webhook_id, valid: r.valid === 1 }));
  }

  liveWebhooks(): { id: string; valid: boolean }[] {
    return this.sql
      .exec<{ id: string; valid: number }>('SELECT id, valid FROM webhooks WHERE deleted_at IS NULL')
      .toArray()
      .map((r) => ({ id: r.id, valid: r.valid === 1 }));
  }

  /** The subscription live now began at or before `at` (so it covered an event ingested then). */
  subscribedSince(webhookId: string, userId: string, at: number): boolean {
    return (
      this.sql
        .exec(
          'SELECT 1 FROM subscriptions WHERE webhook_id = ? AND user_id = ? AND ended_at IS NULL AND started_at <= ?',
          webhookId,
          userId,
          at,
        )
        .toArray().length > 0
    );
  }
}
