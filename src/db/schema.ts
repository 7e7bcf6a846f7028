import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { XAA_TIERS } from '../config';

/** An app's lifecycle: created pending, approved to active, suspended by the operator. */
export const APP_STATUSES = ['pending', 'active', 'suspended'] as const;
export type AppStatus = (typeof APP_STATUSES)[number];

/**
 * The control plane. Times are epoch milliseconds. Nothing that decides who was entitled to what is
 * ever deleted: authorizations, webhooks and subscriptions are ended (with a time and reason), so the
 * audit can re-derive entitlement at any past moment. Secrets are stored only as SHA-256 hashes; the
 * consumer secret itself lives only in the app's Durable Object.
 */
export const apps = sqliteTable('apps', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description'),
  status: text('status', { enum: APP_STATUSES }).notNull(),
  statusReason: text('status_reason'),
  consumerKey: text('consumer_key').notNull().unique(),
  consumerSecretHash: text('consumer_secret_hash').notNull(),
  maxWebhooks: integer('max_webhooks').notNull(),
  provisionedSubscriptions: integer('provisioned_subscriptions').notNull(),
  createdAt: integer('created_at').notNull(),
  statusChangedAt: integer('status_changed_at').notNull(),
  /** When the cron last compared this app's object with D1 (src/delivery/reconcile.ts). */
  reconciledAt: integer('reconciled_at'),
  /** X's tier for the X Activity API: it sets how many XAA subscriptions the app may hold (settings). */
  xaaTier: text('xaa_tier', { enum: XAA_TIERS }).notNull().default('self_serve'),
  /** How many Durable Objects the app's deliveries are spread over, by user; fixed at creation (docs/scaling.md). */
  deliveryShards: integer('delivery_shards').notNull().default(1),
});

/**
 * Every status an app has had, so the audit knows whether it was active at any past moment, and the
 * operator's reason for a suspension (the console shows the history with its reasons).
 */
export const appStatusHistory = sqliteTable(
  'app_status_history',
  {
    appId: text('app_id').notNull(),
    status: text('status', { enum: APP_STATUSES }).notNull(),
    at: integer('at').notNull(),
    reason: text('reason'),
  },
  (t) => [index('app_status_history_app').on(t.appId, t.at)],
);

/** App-only bearer tokens (client credentials). */
export const appTokens = sqliteTable(
  'app_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    appId: text('app_id').notNull(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('app_tokens_app').on(t.appId)],
);

/** A user's consent to one app: one row per grant; a revoke or a re-grant ends the row. */
export const authorizations = sqliteTable(
  'authorizations',
  {
    id: text('id').primaryKey(),
    appId: text('app_id').notNull(),
    userId: text('user_id').notNull(),
    scope: text('scope').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    endedAt: integer('ended_at'),
    endReason: text('end_reason', { enum: ['revoked', 'superseded'] }),
  },
  (t) => [
    uniqueIndex('authorizations_active').on(t.appId, t.userId).where(sql`ended_at is null`),
    index('authorizations_user').on(t.userId),
  ],
);

/** OAuth 2.0 client settings of an app: what kind of client it is and its exact redirect URIs. */
export const OAUTH_CLIENT_TYPES = ['confidential', 'public'] as const;
export const oauthClients = sqliteTable('oauth_clients', {
  appId: text('app_id').primaryKey(),
  /** Confidential clients authenticate at the token endpoint with the consumer secret; public ones cannot keep a secret. */
  clientType: text('client_type', { enum: OAUTH_CLIENT_TYPES }).notNull(),
  /** JSON array of the registered redirect URIs, compared exactly. */
  redirectUris: text('redirect_uris').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Authorization codes (stored hashed): single use, short-lived, bound to the app, the redirect URI,
 * the PKCE challenge and the authorization the user's consent produced. `family_id` is the token
 * family the code was redeemed for, so a replayed code can revoke what it issued.
 */
export const oauthCodes = sqliteTable(
  'oauth_codes',
  {
    codeHash: text('code_hash').primaryKey(),
    appId: text('app_id').notNull(),
    userId: text('user_id').notNull(),
    authorizationId: text('authorization_id').notNull(),
    redirectUri: text('redirect_uri').notNull(),
    codeChallenge: text('code_challenge').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    familyId: text('family_id'),
  },
  (t) => [index('oauth_codes_expiry').on(t.expiresAt)],
);

export const OAUTH_TOKEN_KINDS = ['access', 'refresh'] as const;
/**
 * User tokens issued by the OAuth flow (stored hashed), each tied to one authorization: an access
 * token works only while that authorization is live and the token is unexpired and unrevoked. A
 * family is what one code exchange started and its refresh rotations continued; a refresh token is
 * spent when it is rotated, and presenting a spent one revokes its whole family.
 */
export const oauthTokens = sqliteTable(
  'oauth_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    kind: text('kind', { enum: OAUTH_TOKEN_KINDS }).notNull(),
    appId: text('app_id').notNull(),
    userId: text('user_id').notNull(),
    authorizationId: text('authorization_id').notNull(),
    familyId: text('family_id').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** When a refresh token was rotated, and the hash of the refresh token that replaced it. */
    spentAt: integer('spent_at'),
    replacedBy: text('replaced_by'),
    revokedAt: integer('revoked_at'),
    revokeReason: text('revoke_reason', { enum: ['refresh_reuse', 'code_replay'] }),
  },
  (t) => [
    index('oauth_tokens_family').on(t.familyId),
    index('oauth_tokens_authorization').on(t.authorizationId),
    index('oauth_tokens_expiry').on(t.expiresAt),
  ],
);

export const webhooks = sqliteTable(
  'webhooks',
  {
    id: text('id').primaryKey(),
    appId: text('app_id').notNull(),
    url: text('url').notNull(),
    valid: integer('valid', { mode: 'boolean' }).notNull(),
    createdAt: integer('created_at').notNull(),
    lastCrcAt: integer('last_crc_at'),
    lastCrcSuccessAt: integer('last_crc_success_at'),
    lastCrcError: text('last_crc_error'),
    deletedAt: integer('deleted_at'),
  },
  (t) => [
    uniqueIndex('webhooks_app_url_live').on(t.appId, t.url).where(sql`deleted_at is null`),
    index('webhooks_app').on(t.appId),
    index('webhooks_crc_due').on(t.lastCrcSuccessAt).where(sql`deleted_at is null`),
  ],
);

export const subscriptions = sqliteTable(
  'subscriptions',
  {
    id: text('id').primaryKey(),
    appId: text('app_id').notNull(),
    webhookId: text('webhook_id').notNull(),
    userId: text('user_id').notNull(),
    createdAt: integer('created_at').notNull(),
    endedAt: integer('ended_at'),
    endReason: text('end_reason', {
      enum: ['unsubscribed', 'authorization_revoked', 'webhook_deleted'],
    }),
  },
  (t) => [
    uniqueIndex('subscriptions_live').on(t.webhookId, t.userId).where(sql`ended_at is null`),
    // Fan-out asks "which apps subscribe user U" for the few users an event concerns.
    index('subscriptions_user_live').on(t.userId, t.appId).where(sql`ended_at is null`),
    index('subscriptions_app_live').on(t.appId).where(sql`ended_at is null`),
  ],
);

/**
 * X Activity API subscriptions (docs/xaa.md): one event type for one filter user, delivered to a
 * webhook (`webhook_id`) and to the app's stream, or to the stream only (no webhook). A private
 * event's subscription records the authorization it was created under. Kept after they end, like
 * every entitlement, with the history of the webhooks each targeted (`xaa_subscription_targets`).
 */
export const xaaSubscriptions = sqliteTable(
  'xaa_subscriptions',
  {
    id: text('id').primaryKey(),
    appId: text('app_id').notNull(),
    eventType: text('event_type').notNull(),
    userId: text('user_id').notNull(),
    direction: text('direction', { enum: ['inbound', 'outbound'] }),
    keyword: text('keyword'),
    tag: text('tag'),
    webhookId: text('webhook_id'),
    authorizationId: text('authorization_id'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    endedAt: integer('ended_at'),
    endReason: text('end_reason', { enum: ['deleted', 'authorization_revoked', 'webhook_deleted'] }),
  },
  (t) => [
    // Fan-out asks "which apps subscribe user U" for the few users an event concerns.
    index('xaa_subscriptions_user_live').on(t.userId, t.appId).where(sql`ended_at is null`),
    index('xaa_subscriptions_app_live').on(t.appId, t.id).where(sql`ended_at is null`),
    index('xaa_subscriptions_webhook_live').on(t.webhookId).where(sql`ended_at is null`),
  ],
);

/** Every webhook an XAA subscription has delivered to (null: the stream only), from `at`: the audit's history. */
export const xaaSubscriptionTargets = sqliteTable(
  'xaa_subscription_targets',
  {
    subscriptionId: text('subscription_id').notNull(),
    appId: text('app_id').notNull(),
    webhookId: text('webhook_id'),
    at: integer('at').notNull(),
  },
  (t) => [index('xaa_subscription_targets_app').on(t.appId, t.subscriptionId, t.at)],
);

/**
 * Activities already accepted, by the platform's id: what makes ingest idempotent. No activity content
 * is kept here; `fanned_out_at` stays null until every app object has the event, so a retried post
 * of an activity whose fan-out failed finishes it (the objects de-duplicate by event id).
 */
export const activities = sqliteTable('activities', {
  id: text('id').primaryKey(),
  eventId: text('event_id').notNull().unique(),
  type: text('type').notNull(),
  receivedAt: integer('received_at').notNull(),
  fannedOutAt: integer('fanned_out_at'),
});

/**
 * How far the audience index in objects (`FAN_OUT_INDEX=objects`, docs/scaling.md) has been filled
 * from D1's live subscriptions, for the shard count it was filled for: one row. Until `complete_at`
 * is set for the configured shard count, ingest looks up subscribers in D1 instead.
 */
export const fanOutIndexState = sqliteTable('fan_out_index_state', {
  id: integer('id').primaryKey(),
  shards: integer('shards').notNull(),
  afterUser: text('after_user'),
  afterApp: text('after_app'),
  completeAt: integer('complete_at'),
});

/**
 * An app's share of an activity whose hand-over to the app's object failed at ingest: the service
 * finishes it itself (the cron retries it with backoff), so one app's failing object delays only
 * that app. The activity is kept only until its share is in, or the payload retention runs out
 * (then `gave_up_at` records that it was never delivered).
 */
export const fanOutRetries = sqliteTable(
  'fan_out_retries',
  {
    eventId: text('event_id').notNull(),
    appId: text('app_id').notNull(),
    activity: text('activity'),
    attempts: integer('attempts').notNull(),
    nextAt: integer('next_at').notNull(),
    createdAt: integer('created_at').notNull(),
    lastError: text('last_error'),
    gaveUpAt: integer('gave_up_at'),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.appId] }), index('fan_out_retries_due').on(t.nextAt).where(sql`gave_up_at is null`)],
);

/**
 * Every URL and validity a webhook has had, from when: the audit checks each attempt's recorded
 * destination against the webhook's URL at that moment, and that it was valid then.
 */
export const webhookHistory = sqliteTable(
  'webhook_history',
  {
    webhookId: text('webhook_id').notNull(),
    appId: text('app_id').notNull(),
    url: text('url').notNull(),
    valid: integer('valid', { mode: 'boolean' }).notNull(),
    deleted: integer('deleted', { mode: 'boolean' }).notNull(),
    at: integer('at').notNull(),
  },
  (t) => [index('webhook_history_webhook').on(t.webhookId, t.at), index('webhook_history_app').on(t.appId)],
);

export type AppRow = typeof apps.$inferSelect;
export type WebhookRow = typeof webhooks.$inferSelect;
export type AuthorizationRow = typeof authorizations.$inferSelect;
export type OAuthClientRow = typeof oauthClients.$inferSelect;
export type OAuthTokenRow = typeof oauthTokens.$inferSelect;
