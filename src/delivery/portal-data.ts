import type { WebhookHealth } from '../app-object/health';
import type { LedgerEntry, LedgerFilter } from '../app-object/storage/ledger-views';
import type { Settings } from '../config';
import { database } from '../db/client';
import type { AppRow, WebhookRow } from '../db/schema';
import { subscriptionCounts } from '../db/subscriptions';
import { getOwnWebhook, liveWebhooks } from '../db/webhooks';
import type { LimitedEndpoint } from '../domain/rate-limits';
import { notFound } from '../errors';
import { rateLimiter } from '../limits/rate-limiter-object';
import { AppDelivery } from './app-objects';

/**
 * What the developer portal shows, read for one app only: its webhooks from D1 with their health
 * from the app's own object, its subscription counts, its delivery log and its rate-limit usage.
 * Every read is keyed by the signed-in app's id; a webhook id from a URL is looked up within it.
 */

export interface PortalWebhook {
  row: WebhookRow;
  /** From the app's object; null if the object does not know the webhook (yet). */
  health: WebhookHealth | null;
}

export async function portalOverview(
  env: Env,
  app: AppRow,
): Promise<{ webhooks: PortalWebhook[]; subscriptions: { all: number; directMessages: number } }> {
  const db = database(env);
  const [rows, subscriptions, health] = await Promise.all([
    liveWebhooks(db, app.id),
    subscriptionCounts(db, app.id),
    AppDelivery.of(env, app).webhookHealth(),
  ]);
  return { webhooks: rows.map((row) => ({ row, health: health.find((h) => h.id === row.id) ?? null })), subscriptions };
}

/** One of the app's webhooks with its health; 404 for any other id (another app's is no different from none). */
export async function portalWebhook(env: Env, app: AppRow, webhookId: string): Promise<PortalWebhook> {
  const row = await getOwnWebhook(database(env), app.id, webhookId);
  const health = await AppDelivery.of(env, app).webhookHealth();
  return { row, health: health.find((h) => h.id === row.id) ?? null };
}

/** One page of the app's ledger for one webhook, newest first (entries with their ids, for the detail links). */
export async function deliveryLog(
  env: Env,
  appId: string,
  filter: Omit<LedgerFilter, 'limit'>,
  limit: number,
): Promise<{ entries: LedgerEntry[]; nextBefore: number | null }> {
  return (await AppDelivery.load(env, appId)).ledger({ ...filter, limit });
}

/** One attempt of the app's ledger, if it is to this webhook; else 404. */
export async function deliveryAttempt(env: Env, appId: string, webhookId: string, attemptId: number): Promise<LedgerEntry> {
  const entry = await (await AppDelivery.load(env, appId)).ledgerEntry(attemptId);
  if (!entry || entry.webhook_id !== webhookId) throw notFound(`no delivery attempt ${attemptId} to webhook ${webhookId}`);
  return entry;
}

/** The limits a developer's calls and portal actions count against, in the order the usage page lists them. */
export const DEVELOPER_LIMITS = [
  'webhooks:create',
  'webhooks:list',
  'webhooks:validate',
  'webhooks:delete',
  'webhooks:rotate-secret',
  'webhooks:test',
  'subscriptions:create',
  'subscriptions:check',
  'subscriptions:list',
  'subscriptions:delete',
  'subscriptions:count',
  'replay',
  'deliveries',
  'oauth2:token',
  'oauth2:invalidate',
  'oauth2:client',
  'portal:pages',
  'portal:sign-in-failures',
] as const satisfies readonly LimitedEndpoint[];

export interface LimitUsage {
  endpoint: LimitedEndpoint;
  limit: number;
  used: number;
  /** When the current window ends. */
  resetAt: number;
}

/** The app's use of each of its limits in the current window (a counter from an earlier window counts as 0). */
export async function rateLimitUsage(env: Env, appId: string, settings: Settings): Promise<LimitUsage[]> {
  const counters = await rateLimiter(env, `app:${appId}`).usage();
  const now = Date.now();
  const windowStart = Math.floor(now / settings.rateLimitWindowMs) * settings.rateLimitWindowMs;
  return DEVELOPER_LIMITS.map((endpoint) => {
    const counter = counters.find((c) => c.endpoint === endpoint);
    return {
      endpoint,
      limit: settings.rateLimits[endpoint],
      used: counter && counter.windowStart === windowStart ? counter.count : 0,
      resetAt: windowStart + settings.rateLimitWindowMs,
    };
  });
}
