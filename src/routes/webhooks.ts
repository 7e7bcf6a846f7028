import { Hono } from 'hono';
import { z } from 'zod';
import { requireApp } from '../auth/developer';
import { database } from '../db/client';
import { getOwnWebhook, liveWebhooks, webhookView } from '../db/webhooks';
import { revalidateWebhook } from '../delivery/crc-check';
import { deleteWebhook, registerWebhook, rotateWebhookSecret } from '../delivery/webhook-changes';
import { invalid } from '../errors';
import { byApp, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { jsonBody, webhookIdPath } from '../http/validation';
import { replayBodySchema, startReplayJob } from './replay';

const createSchema = z.object({ url: z.string({ error: 'url is required and must be a string' }) });

export const webhooksRouter = new Hono<HonoEnv>()
  .use(requireApp)
  /**
   * Registers a webhook after a CRC passes; nothing is saved when it fails. The response carries the
   * webhook's Standard Webhooks `signing_secret`, shown this once.
   */
  .post('/', rateLimit('webhooks:create', byApp), jsonBody(createSchema), async (c) => {
    const webhook = await registerWebhook(c.env, c.get('app'), c.req.valid('json').url, c.get('settings'));
    return c.json({
      data: {
        id: webhook.id,
        url: webhook.url,
        valid: true,
        created_at: new Date(webhook.createdAt).toISOString(),
        signing_secret: webhook.signingSecret,
      },
    });
  })
  /** X's `POST /2/webhooks/replay` (body form of a replay request). */
  .post('/replay', rateLimit('replay', byApp), jsonBody(replayBodySchema), async (c) => {
    const { webhook_id, ...dates } = c.req.valid('json');
    const job = await startReplayJob(c.env, {
      appId: c.get('app').id,
      webhookId: webhook_id,
      dates,
      now: Date.now(),
      retentionMs: c.get('settings').retention.payloadMs,
    });
    return c.json({ data: job });
  })
  .get('/', rateLimit('webhooks:list', byApp), async (c) => {
    const rows = await liveWebhooks(database(c.env), c.get('app').id);
    return c.json({ data: rows.map(webhookView), meta: { result_count: rows.length } });
  })
  /** Re-runs the CRC now: success makes the webhook valid, any failure makes it invalid. */
  .put('/:webhook_id', rateLimit('webhooks:validate', byApp), webhookIdPath, async (c) => {
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
    return c.json({ data: { valid: true } });
  })
  /**
   * A new Standard Webhooks signing secret for this webhook (shown once). Through the grace window
   * every delivery carries signatures under both the new and the previous secret.
   */
  .post('/:webhook_id/rotate-secret', rateLimit('webhooks:rotate-secret', byApp), webhookIdPath, async (c) => {
    const rotated = await rotateWebhookSecret(c.env, c.get('app').id, c.req.valid('param').webhook_id, c.get('settings').rotationGraceMs);
    return c.json({
      data: {
        id: rotated.id,
        signing_secret: rotated.signingSecret,
        previous_secret_valid_until: new Date(rotated.previousValidUntil).toISOString(),
      },
    });
  })
  /** Deletes the webhook and ends its subscriptions. */
  .delete('/:webhook_id', rateLimit('webhooks:delete', byApp), webhookIdPath, async (c) => {
    await deleteWebhook(c.env, c.get('app').id, c.req.valid('param').webhook_id);
    return c.json({ data: { deleted: true } });
  });
