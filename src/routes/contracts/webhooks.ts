import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { byApp, rateLimit } from '../../http/rate-limit';
import { jsonRequest } from '../../http/validation';
import { replayBodySchema } from '../replay';
import { idParam, isoTime, json, jsonBody, numericId, problems, SECURITY } from './common';

/** `/2/webhooks`: X's Webhooks endpoints (same operation ids), plus signing-secret rotation. */

const tags = ['Webhooks'];
const webhookIdParams = z.object({ webhook_id: idParam('The webhook, one of this app’s') });

export const webhookConfig = z
  .object({ id: numericId, url: z.string(), valid: z.boolean(), created_at: isoTime })
  .meta({ id: 'WebhookConfig', description: 'A webhook of the app' });

export const createWebhookBody = z
  .object({ url: z.string({ error: 'url is required and must be a string' }).meta({ description: 'Where events are POSTed; https' }) })
  .meta({ id: 'CreateWebhookRequest' });

export const listWebhooks = createRoute({
  method: 'get',
  path: '/',
  operationId: 'getWebhooks',
  tags,
  summary: 'List the app’s webhooks',
  security: SECURITY.app,
  middleware: [rateLimit('webhooks:list', byApp)] as const,
  responses: {
    200: json(
      z.object({ data: z.array(webhookConfig), meta: z.object({ result_count: z.number().int() }) }),
      'The webhooks, oldest first',
      { rateLimited: true },
    ),
    ...problems(401, 403, 429),
  },
});

export const createWebhook = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createWebhooks',
  tags,
  summary: 'Register a webhook',
  description:
    'Sends a signed CRC to the URL first and saves the webhook only if the receiver answers it. The answer carries the webhook’s Standard Webhooks `signing_secret`, shown this once.',
  security: SECURITY.app,
  middleware: [rateLimit('webhooks:create', byApp), jsonRequest] as const,
  request: { body: jsonBody(createWebhookBody) },
  responses: {
    200: json(
      z.object({ data: webhookConfig.extend({ signing_secret: z.string().meta({ description: 'Shown only in this answer' }) }) }),
      'Registered; the CRC passed',
      { rateLimited: true },
    ),
    ...problems(400, 401, 403, 409, 413, 415, 429),
  },
});

export const replayByBody = createRoute({
  method: 'post',
  path: '/replay',
  operationId: 'createWebhookReplayJob',
  tags,
  summary: 'Replay a window of deliveries',
  description:
    'Sends again what the webhook was sent in the window (`yyyymmddhhmm`, UTC, within the payload retention); a `replay_job_status` event follows. X’s body form; the query form is under /2/account_activity.',
  security: SECURITY.app,
  middleware: [rateLimit('replay', byApp), jsonRequest] as const,
  request: { body: jsonBody(replayBodySchema) },
  responses: {
    200: json(z.object({ data: z.object({ job_id: numericId, created_at: isoTime }) }), 'The replay job started', { rateLimited: true }),
    ...problems(400, 401, 403, 404, 409, 413, 415, 429),
  },
});

export const validateWebhook = createRoute({
  method: 'put',
  path: '/{webhook_id}',
  operationId: 'validateWebhooks',
  tags,
  summary: 'Re-run the CRC now',
  description: 'Success makes the webhook valid (held deliveries go out); any failure makes it invalid.',
  security: SECURITY.app,
  middleware: [rateLimit('webhooks:validate', byApp)] as const,
  request: { params: webhookIdParams },
  responses: {
    200: json(z.object({ data: z.object({ valid: z.boolean() }) }), 'The CRC passed', { rateLimited: true }),
    ...problems(400, 401, 403, 404, 429),
  },
});

export const rotateWebhookSecret = createRoute({
  method: 'post',
  path: '/{webhook_id}/rotate-secret',
  operationId: 'rotateWebhookSigningSecret',
  tags,
  summary: 'Rotate the webhook’s signing secret (extension)',
  description:
    'A new Standard Webhooks signing secret, shown once. Until `previous_secret_valid_until` every delivery is signed under both the new and the previous secret.',
  security: SECURITY.app,
  middleware: [rateLimit('webhooks:rotate-secret', byApp)] as const,
  request: { params: webhookIdParams },
  responses: {
    200: json(
      z.object({ data: z.object({ id: numericId, signing_secret: z.string(), previous_secret_valid_until: isoTime }) }),
      'The new secret',
      { rateLimited: true },
    ),
    ...problems(400, 401, 403, 404, 429),
  },
});

export const deleteWebhook = createRoute({
  method: 'delete',
  path: '/{webhook_id}',
  operationId: 'deleteWebhooks',
  tags,
  summary: 'Delete a webhook',
  description: 'Ends its subscriptions; answers once nothing handed out before can still be sent to it.',
  security: SECURITY.app,
  middleware: [rateLimit('webhooks:delete', byApp)] as const,
  request: { params: webhookIdParams },
  responses: {
    200: json(z.object({ data: z.object({ deleted: z.boolean() }) }), 'Deleted', { rateLimited: true }),
    ...problems(400, 401, 403, 404, 429),
  },
});
