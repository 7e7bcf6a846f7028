import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Settings } from '../config';
import { database } from '../db/client';
import { type AppRow, subscriptions, webhooks } from '../db/schema';
import { getOwnWebhook, webhookHistoryRow } from '../db/webhooks';
import { newId } from '../domain/ids';
import { checkWebhookUrl } from '../domain/webhook-url';
import { conflict, forbidden, invalid, notFound } from '../errors';
import { AppDelivery } from './app-objects';
import { runCrc } from './crc-check';
import { awaitFence } from './withdrawal';

/**
 * A developer's changes to their app's webhooks, in the order of writes the delivery protocol needs
 * (docs/delivery.md, "D1 and the objects agree"). The API routes and the developer portal both call
 * these, so the two can never differ in what a change does.
 */

/** A webhook just registered, with its Standard Webhooks signing secret (shown this once). */
export interface RegisteredWebhook {
  id: string;
  url: string;
  createdAt: number;
  signingSecret: string;
}

/**
 * Registers a webhook after a CRC passes; nothing is saved when it fails (a 400 naming why). The
 * URL rules, the per-app duplicate and the webhook limit are checked first.
 */
export async function registerWebhook(env: Env, app: AppRow, rawUrl: string, settings: Settings): Promise<RegisteredWebhook> {
  const checked = checkWebhookUrl(rawUrl, { allowInsecure: settings.allowInsecureWebhooks, maxLength: settings.maxWebhookUrlLength });
  if (!checked.ok) throw invalid(checked.message, 'UrlValidationFailed', [{ parameter: 'url', message: checked.message }]);
  const url = checked.url;
  const db = database(env);
  const live = await db
    .select({ url: webhooks.url })
    .from(webhooks)
    .where(and(eq(webhooks.appId, app.id), isNull(webhooks.deletedAt)));
  if (live.some((w) => w.url === url)) throw conflict('this app already has a webhook with that url', 'DuplicateUrlFailed');
  if (live.length >= app.maxWebhooks) {
    throw forbidden(`this app may have at most ${app.maxWebhooks} webhooks`, 'WebhookLimitExceeded');
  }

  const outcome = await runCrc(env, app, url, settings.crcTimeoutMs);
  if (outcome.kind !== 'ok') throw invalid(`CRC failed: ${outcome.reason}`, 'CrcValidationFailed');

  const now = Date.now();
  const id = newId(now);
  const object = AppDelivery.of(env, app);
  const signingSecret = await object.addWebhook({ id, url, createdAt: now });
  // Limit and duplicate are re-checked in the insert itself, so two racing registrations cannot
  // both pass the reads above.
  const inserted = await db.run(sql`
      INSERT OR IGNORE INTO webhooks (id, app_id, url, valid, created_at, last_crc_at, last_crc_success_at)
      SELECT ${id}, ${app.id}, ${url}, 1, ${now}, ${now}, ${now}
      WHERE (SELECT count(*) FROM webhooks WHERE app_id = ${app.id} AND deleted_at IS NULL) < ${app.maxWebhooks}`);
  if (inserted.meta.changes !== 1) {
    await object.deleteWebhook(id);
    throw conflict('another registration of this app changed its webhooks; try again', 'DuplicateUrlFailed');
  }
  await webhookHistoryRow(db, { id, appId: app.id, url }, { valid: true, at: now });
  return { id, url, createdAt: now, signingSecret };
}

/**
 * A new signing secret for one of the app's webhooks (shown once). Through the grace window every
 * delivery carries signatures under both the new and the previous secret.
 */
export async function rotateWebhookSecret(
  env: Env,
  appId: string,
  webhookId: string,
  graceMs: number,
): Promise<{ id: string; signingSecret: string; previousValidUntil: number }> {
  const webhook = await getOwnWebhook(database(env), appId, webhookId);
  const previousValidUntil = Date.now() + graceMs;
  const signingSecret = await (await AppDelivery.load(env, appId)).rotateSigningSecret(webhook.id, previousValidUntil);
  if (!signingSecret) throw notFound(`no webhook ${webhook.id} for this app`, 'WebhookIdInvalid');
  return { id: webhook.id, signingSecret, previousValidUntil };
}

/**
 * Deletes one of the app's webhooks and ends its subscriptions. A withdrawal: the object first, D1
 * records when it took effect there, and this returns only once nothing handed out before can still
 * start.
 */
export async function deleteWebhook(env: Env, appId: string, webhookId: string): Promise<void> {
  const db = database(env);
  const webhook = await getOwnWebhook(db, appId, webhookId);
  const withdrawal = await (await AppDelivery.load(env, appId)).deleteWebhook(webhook.id);
  const now = withdrawal.effectiveAt;
  await db.batch([
    db.update(webhooks).set({ deletedAt: now }).where(eq(webhooks.id, webhook.id)),
    webhookHistoryRow(db, webhook, { valid: false, deleted: true, at: now }),
    db
      .update(subscriptions)
      .set({ endedAt: now, endReason: 'webhook_deleted' })
      .where(and(eq(subscriptions.webhookId, webhook.id), isNull(subscriptions.endedAt))),
  ]);
  await awaitFence(env, withdrawal);
}
