import { and, eq, isNull, sql } from 'drizzle-orm';
import { requireApp } from '../auth/developer';
import { database } from '../db/client';
import { subscriptions, webhooks } from '../db/schema';
import { getOwnWebhook, webhookHistoryRow, webhookView } from '../db/webhooks';
import { appObject } from '../delivery/app-objects';
import { revalidateWebhook, runCrc } from '../delivery/crc-check';
import { awaitFence } from '../delivery/withdrawal';
import { newId } from '../domain/ids';
import { checkWebhookUrl } from '../domain/webhook-url';
import { conflict, forbidden, invalid, notFound } from '../errors';
import { apiRouter } from '../http/validation';
import { createWebhook, deleteWebhook, listWebhooks, replayByBody, rotateWebhookSecret, validateWebhook } from './contracts/webhooks';
import { startReplayJob } from './replay';

export const webhooksRouter = apiRouter();
webhooksRouter.use(requireApp);
webhooksRouter
  /**
   * Registers a webhook after a CRC passes; nothing is saved when it fails. The response carries the
   * webhook's Standard Webhooks `signing_secret`, shown this once.
   */
  .openapi(createWebhook, async (c) => {
    const app = c.get('app');
    const settings = c.get('settings');
    const checked = checkWebhookUrl(c.req.valid('json').url, {
      allowInsecure: settings.allowInsecureWebhooks,
      maxLength: settings.maxWebhookUrlLength,
    });
    if (!checked.ok) throw invalid(checked.message, 'UrlValidationFailed', [{ parameter: 'url', message: checked.message }]);
    const url = checked.url;
    const db = database(c.env);
    const live = await db
      .select({ url: webhooks.url })
      .from(webhooks)
      .where(and(eq(webhooks.appId, app.id), isNull(webhooks.deletedAt)));
    if (live.some((w) => w.url === url)) throw conflict('this app already has a webhook with that url', 'DuplicateUrlFailed');
    if (live.length >= app.maxWebhooks) {
      throw forbidden(`this app may have at most ${app.maxWebhooks} webhooks`, 'WebhookLimitExceeded');
    }

    const outcome = await runCrc(c.env, app, url, settings.crcTimeoutMs);
    if (outcome.kind !== 'ok') throw invalid(`CRC failed: ${outcome.reason}`, 'CrcValidationFailed');

    const now = Date.now();
    const id = newId(now);
    const object = appObject(c.env, app.id);
    const signingSecret = await object.addWebhook(app.id, { id, url, createdAt: now });
    // Limit and duplicate are re-checked in the insert itself, so two racing registrations cannot
    // both pass the reads above.
    const inserted = await db.run(sql`
      INSERT OR IGNORE INTO webhooks (id, app_id, url, valid, created_at, last_crc_at, last_crc_success_at)
      SELECT ${id}, ${app.id}, ${url}, 1, ${now}, ${now}, ${now}
      WHERE (SELECT count(*) FROM webhooks WHERE app_id = ${app.id} AND deleted_at IS NULL) < ${app.maxWebhooks}`);
    if (inserted.meta.changes !== 1) {
      await object.deleteWebhook(app.id, id);
      throw conflict('another registration of this app changed its webhooks; try again', 'DuplicateUrlFailed');
    }
    await webhookHistoryRow(db, { id, appId: app.id, url }, { valid: true, at: now });
    return c.json(
      {
        data: { id, url, valid: true, created_at: new Date(now).toISOString(), signing_secret: signingSecret },
      },
      200,
    );
  })
  /** X's `POST /2/webhooks/replay` (body form of a replay request). */
  .openapi(replayByBody, async (c) => {
    const { webhook_id, ...dates } = c.req.valid('json');
    const job = await startReplayJob(c.env, {
      appId: c.get('app').id,
      webhookId: webhook_id,
      dates,
      now: Date.now(),
      retentionMs: c.get('settings').retention.payloadMs,
    });
    return c.json({ data: job }, 200);
  })
  .openapi(listWebhooks, async (c) => {
    const rows = await database(c.env)
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.appId, c.get('app').id), isNull(webhooks.deletedAt)))
      .orderBy(webhooks.createdAt);
    return c.json({ data: rows.map(webhookView), meta: { result_count: rows.length } }, 200);
  })
  /** Re-runs the CRC now: success makes the webhook valid, any failure makes it invalid. */
  .openapi(validateWebhook, async (c) => {
    const app = c.get('app');
    const settings = c.get('settings');
    const db = database(c.env);
    const webhook = await getOwnWebhook(db, app.id, c.req.valid('param').webhook_id);
    const { outcome } = await revalidateWebhook(c.env, db, webhook, {
      now: Date.now(),
      timeoutMs: settings.crcTimeoutMs,
      invalidAfterMs: settings.crcInvalidAfterMs,
      strict: true,
      consumerKey: app.consumerKey,
    });
    if (outcome.kind !== 'ok') throw invalid(`CRC failed: ${outcome.reason}`, 'CrcValidationFailed');
    return c.json({ data: { valid: true } }, 200);
  })
  /**
   * A new Standard Webhooks signing secret for this webhook (shown once). Through the grace window
   * every delivery carries signatures under both the new and the previous secret.
   */
  .openapi(rotateWebhookSecret, async (c) => {
    const app = c.get('app');
    const webhook = await getOwnWebhook(database(c.env), app.id, c.req.valid('param').webhook_id);
    const previousUntil = Date.now() + c.get('settings').rotationGraceMs;
    const signingSecret = await appObject(c.env, app.id).rotateSigningSecret(app.id, webhook.id, previousUntil);
    if (!signingSecret) throw notFound(`no webhook ${webhook.id} for this app`, 'WebhookIdInvalid');
    return c.json(
      {
        data: { id: webhook.id, signing_secret: signingSecret, previous_secret_valid_until: new Date(previousUntil).toISOString() },
      },
      200,
    );
  })
  /** Deletes the webhook and ends its subscriptions. */
  .openapi(deleteWebhook, async (c) => {
    const app = c.get('app');
    const db = database(c.env);
    const webhook = await getOwnWebhook(db, app.id, c.req.valid('param').webhook_id);
    // Withdrawal: the object first; D1 records when it took effect there; the answer waits until
    // nothing handed out before can still start.
    const withdrawal = await appObject(c.env, app.id).deleteWebhook(app.id, webhook.id);
    const now = withdrawal.effectiveAt;
    await db.batch([
      db.update(webhooks).set({ deletedAt: now }).where(eq(webhooks.id, webhook.id)),
      webhookHistoryRow(db, webhook, { valid: false, deleted: true, at: now }),
      db
        .update(subscriptions)
        .set({ endedAt: now, endReason: 'webhook_deleted' })
        .where(and(eq(subscriptions.webhookId, webhook.id), isNull(subscriptions.endedAt))),
    ]);
    await awaitFence(c.env, withdrawal);
    return c.json({ data: { deleted: true } }, 200);
  });
