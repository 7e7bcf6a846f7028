import { requireApp } from '../auth/developer';
import { database } from '../db/client';
import { getOwnWebhook, liveWebhooks, webhookView } from '../db/webhooks';
import { revalidateWebhook } from '../delivery/crc-check';
import * as changes from '../delivery/webhook-changes';
import { registerWebhook } from '../delivery/webhook-changes';
import { invalid } from '../errors';
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
    const webhook = await registerWebhook(c.env, c.get('app'), c.req.valid('json').url, c.get('settings'));
    return c.json(
      {
        data: {
          id: webhook.id,
          url: webhook.url,
          valid: true,
          created_at: new Date(webhook.createdAt).toISOString(),
          signing_secret: webhook.signingSecret,
        },
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
    const rows = await liveWebhooks(database(c.env), c.get('app').id);
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
    const rotated = await changes.rotateWebhookSecret(
      c.env,
      c.get('app').id,
      c.req.valid('param').webhook_id,
      c.get('settings').rotationGraceMs,
    );
    return c.json(
      {
        data: {
          id: rotated.id,
          signing_secret: rotated.signingSecret,
          previous_secret_valid_until: new Date(rotated.previousValidUntil).toISOString(),
        },
      },
      200,
    );
  })
  /** Deletes the webhook and ends its subscriptions. */
  .openapi(deleteWebhook, async (c) => {
    await changes.deleteWebhook(c.env, c.get('app').id, c.req.valid('param').webhook_id);
    return c.json({ data: { deleted: true } }, 200);
  });
