import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { requireApp, requireUser } from '../../auth/developer';
import { byApp, rateLimit } from '../../http/rate-limit';
import { jsonRequest, ledgerPage, timeQuery } from '../../http/validation';
import { replayQuerySchema } from '../replay';
import { idParam, isoTime, json, jsonBody, numericId, problems, SECURITY } from './common';
import { ledgerPageResponse } from './ledger';

/** `/2/account_activity`: X's Account Activity endpoints (same operation ids), plus the delivery log. */

const tags = ['Account Activity'];
const webhookId = idParam('The webhook, one of this app’s');
const webhookIdParams = z.object({ webhook_id: webhookId });
const subscribed = (description: string) =>
  json(z.object({ data: z.object({ subscribed: z.boolean() }) }), description, { rateLimited: true });

export const subscribeUser = createRoute({
  method: 'post',
  path: '/webhooks/{webhook_id}/subscriptions/all',
  operationId: 'createAccountActivitySubscription',
  tags,
  summary: 'Subscribe the token’s user to the webhook',
  description:
    'User context: the user is the one the access token was issued for. The webhook must be valid, the authorization live, and the app under its provisioned subscriptions.',
  security: SECURITY.user,
  middleware: [requireUser, rateLimit('subscriptions:create', byApp), jsonRequest] as const,
  request: {
    params: webhookIdParams,
    /** X sends `{}` (or nothing); the body carries no fields. */
    body: jsonBody(z.object({}).meta({ id: 'CreateSubscriptionRequest' }), { required: false }),
  },
  responses: {
    200: subscribed('Subscribed'),
    ...problems(400, 401, 403, 404, 409, 413, 415, 429),
  },
});

export const replayByQuery = createRoute({
  method: 'post',
  path: '/replay/webhooks/{webhook_id}/subscriptions/all',
  operationId: 'createAccountActivityReplayJob',
  tags,
  summary: 'Replay a window of deliveries (query form)',
  description:
    'X’s query form of replay: `from_date` and `to_date` are `yyyymmddhhmm`, UTC, within the payload retention; a bad window is reported with `reason: QueryParamInvalid`.',
  security: SECURITY.app,
  middleware: [requireApp, rateLimit('replay', byApp)] as const,
  request: { params: webhookIdParams, query: replayQuerySchema },
  responses: {
    200: json(z.object({ data: z.object({ job_id: numericId, created_at: isoTime }) }), 'The replay job started', { rateLimited: true }),
    ...problems(400, 401, 403, 404, 409, 429),
  },
});

export const checkSubscription = createRoute({
  method: 'get',
  path: '/webhooks/{webhook_id}/subscriptions/all',
  operationId: 'validateAccountActivitySubscription',
  tags,
  summary: 'Whether the token’s user is subscribed',
  security: SECURITY.user,
  middleware: [requireUser, rateLimit('subscriptions:check', byApp)] as const,
  request: { params: webhookIdParams },
  responses: {
    200: subscribed('Whether the user has a live subscription to the webhook'),
    ...problems(400, 401, 403, 404, 429),
  },
});

export const listQuery = z.object({
  max_results: z.coerce.number().int().min(1).max(1000).default(1000),
  pagination_token: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'pagination_token is not one this API issued')
    .optional()
    .meta({ description: '`meta.next_token` of the previous page' }),
});

export const listSubscriptions = createRoute({
  method: 'get',
  path: '/webhooks/{webhook_id}/subscriptions/all/list',
  operationId: 'getAccountActivitySubscriptions',
  tags,
  summary: 'The webhook’s subscribed users',
  description: 'Oldest first; `pagination_token` pages through long lists.',
  security: SECURITY.app,
  middleware: [requireApp, rateLimit('subscriptions:list', byApp)] as const,
  request: { params: webhookIdParams, query: listQuery },
  responses: {
    200: json(
      z.object({
        data: z.object({
          application_id: numericId,
          webhook_id: numericId,
          webhook_url: z.string(),
          subscriptions: z.array(z.object({ user_id: numericId })),
        }),
        meta: z.object({ result_count: z.number().int(), next_token: z.string().optional() }),
      }),
      'A page of subscriptions',
      { rateLimited: true },
    ),
    ...problems(400, 401, 403, 404, 429),
  },
});

export const unsubscribeUser = createRoute({
  method: 'delete',
  path: '/webhooks/{webhook_id}/subscriptions/{user_id}/all',
  operationId: 'deleteAccountActivitySubscription',
  tags,
  summary: 'End one user’s subscription (app context)',
  description: 'Withdraws at once: answers once nothing handed out before can still be sent.',
  security: SECURITY.app,
  middleware: [requireApp, rateLimit('subscriptions:delete', byApp)] as const,
  request: { params: z.object({ webhook_id: webhookId, user_id: idParam('The subscribed user') }) },
  responses: {
    200: subscribed('Unsubscribed (`subscribed: false`)'),
    ...problems(400, 401, 403, 404, 429),
  },
});

export const countSubscriptions = createRoute({
  method: 'get',
  path: '/subscriptions/count',
  operationId: 'getAccountActivitySubscriptionCount',
  tags,
  summary: 'The app’s subscription count',
  description:
    '`subscriptions_count_direct_messages` counts the live subscriptions whose user’s authorization includes `dm.read`. Counts are strings, as on X.',
  security: SECURITY.app,
  middleware: [requireApp, rateLimit('subscriptions:count', byApp)] as const,
  responses: {
    200: json(
      z.object({
        data: z.object({
          account_name: z.string(),
          provisioned_count: z.string(),
          subscriptions_count_all: z.string(),
          subscriptions_count_direct_messages: z.string(),
        }),
      }),
      'The counts',
      { rateLimited: true },
    ),
    ...problems(401, 403, 429),
  },
});

const OUTCOMES = ['delivered', 'retrying', 'failed', 'gone', 'dropped', 'unknown', 'not_sent'] as const;

export const deliveryLogQuery = z.object({
  status: z.enum(OUTCOMES, { error: `status must be one of ${OUTCOMES.join(', ')}` }).optional(),
  user_id: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'must be a numeric id of 1-19 digits')
    .optional(),
  since: timeQuery.optional().meta({ description: 'ISO-8601 or epoch milliseconds' }),
  until: timeQuery.optional().meta({ description: 'ISO-8601 or epoch milliseconds; exclusive' }),
  ...ledgerPage,
});

export const deliveryLog = createRoute({
  method: 'get',
  path: '/webhooks/{webhook_id}/deliveries',
  operationId: 'getWebhookDeliveries',
  tags: ['Delivery log'],
  summary: 'The webhook’s delivery log (extension)',
  description:
    'Every attempt to one of this app’s webhooks and every drop, newest first, with the receiver’s answer and what happens next. Read from the app’s own ledger.',
  security: SECURITY.app,
  middleware: [requireApp, rateLimit('deliveries', byApp)] as const,
  request: { params: webhookIdParams, query: deliveryLogQuery },
  responses: {
    200: json(ledgerPageResponse, 'A page of the log', { rateLimited: true }),
    ...problems(400, 401, 403, 404, 429),
  },
});
