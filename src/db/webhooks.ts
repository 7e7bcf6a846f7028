import { and, asc, eq, isNull } from 'drizzle-orm';
import { notFound } from '../errors';
import type { Database } from './client';
import { type WebhookRow, webhookHistory, webhooks } from './schema';

/** A live webhook of this app, or 404: another tenant's webhook is indistinguishable from none. */
export async function getOwnWebhook(db: Database, appId: string, webhookId: string): Promise<WebhookRow> {
  const [row] = await db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, webhookId), eq(webhooks.appId, appId), isNull(webhooks.deletedAt)))
    .limit(1);
  if (!row) throw notFound(`no webhook ${webhookId} for this app`, 'WebhookIdInvalid');
  return row;
}

/** The app's live webhooks, oldest first. */
export function liveWebhooks(db: Database, appId: string): Promise<WebhookRow[]> {
  return db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.appId, appId), isNull(webhooks.deletedAt)))
    .orderBy(asc(webhooks.createdAt));
}

export const webhookView = (w: WebhookRow) => ({
  id: w.id,
  url: w.url,
  valid: w.valid,
  created_at: new Date(w.createdAt).toISOString(),
});

/**
 * One row of a webhook's kept history (URL, validity, deletion, from `at`), for the audit. Returned
 * as a statement so callers put it in the same batch as the change it records.
 */
export const webhookHistoryRow = (
  db: Database,
  webhook: { id: string; appId: string; url: string },
  state: { valid: boolean; deleted?: boolean; at: number },
) =>
  db.insert(webhookHistory).values({
    webhookId: webhook.id,
    appId: webhook.appId,
    url: webhook.url,
    valid: state.valid,
    deleted: state.deleted ?? false,
    at: state.at,
  });
