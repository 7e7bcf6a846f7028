import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { XAA_TIERS } from '../../config';
import { APP_STATUSES } from '../../db/schema';
import { MAX_DELIVERY_SHARDS } from '../../domain/shards';
import { jsonRequest, ledgerPage, timeQuery } from '../../http/validation';
import { idParam, isoTime, json, jsonBody, numericId, problems, SECURITY } from './common';
import { ledgerPageResponse } from './ledger';
import { oauthClientSettings, oauthClientView } from './oauth2-user';

/**
 * `/internal/apps`: the platform manages developer apps. Every route needs the platform token and
 * counts against `platform:other` (router-level middleware in src/routes/internal-apps.ts).
 */

const tags = ['Platform: apps'];
const security = SECURITY.platform;
const appIdParams = z.object({ app_id: idParam('The app') });
/** What any route of this router may answer besides its own errors. */
const platformProblems = [401, 429] as const;

export const appView = z
  .object({
    id: numericId,
    name: z.string(),
    description: z.string().nullable(),
    status: z.enum(APP_STATUSES),
    status_reason: z.string().optional(),
    consumer_key: z.string(),
    max_webhooks: z.number().int(),
    provisioned_subscriptions: z.number().int(),
    xaa_tier: z.enum(XAA_TIERS).meta({ description: 'Sets how many X Activity API subscriptions the app may hold (docs/xaa.md)' }),
    delivery_shards: z
      .number()
      .int()
      .meta({ description: 'How many Durable Objects the app’s deliveries are spread over (docs/scaling.md)' }),
    created_at: isoTime,
    status_changed_at: isoTime,
  })
  .meta({ id: 'App', description: 'A developer app as the platform sees it; never a secret' });

export const createAppBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    description: z.string().max(1000).optional(),
    max_webhooks: z.number().int().min(1).max(100).default(5),
    delivery_shards: z.number().int().min(1).max(MAX_DELIVERY_SHARDS).default(1).meta({
      description:
        'How many Durable Objects the app’s deliveries are spread over, by user (docs/scaling.md). Fixed once the app exists; 1 unless one object cannot carry the app.',
    }),
    provisioned_subscriptions: z.number().int().min(1).max(1_000_000).default(500),
    xaa_tier: z
      .enum(XAA_TIERS, { error: `must be one of ${XAA_TIERS.join(', ')}` })
      .default('self_serve')
      .meta({ description: 'The X Activity API tier: how many XAA subscriptions the app may hold (settings XAA_SUBSCRIPTIONS_*)' }),
  })
  .meta({ id: 'CreateAppRequest' });

export const createApp = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createApp',
  tags,
  summary: 'Create a developer app',
  description: 'The app starts `pending`; its consumer secret is in this answer only.',
  security,
  middleware: [jsonRequest] as const,
  request: { body: jsonBody(createAppBody) },
  responses: {
    201: json(z.object({ data: appView.extend({ consumer_secret: z.string() }) }), 'Created'),
    ...problems(400, ...platformProblems, 413, 415),
  },
});

const PAGE_SIZE = 'must be an integer from 1 to 100';

/** Strict: a misspelt filter must not silently list every app. */
export const listAppsQuery = z.strictObject({
  status: z.enum(APP_STATUSES, { error: `must be one of ${APP_STATUSES.join(', ')}` }).optional(),
  max_results: z.coerce.number({ error: PAGE_SIZE }).int(PAGE_SIZE).min(1, PAGE_SIZE).max(100, PAGE_SIZE).default(100),
  pagination_token: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'is not one this API issued')
    .optional(),
});

export const listApps = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listApps',
  tags,
  summary: 'List apps, newest first',
  security,
  request: { query: listAppsQuery },
  responses: {
    200: json(
      z.object({ data: z.array(appView), meta: z.object({ result_count: z.number().int(), next_token: z.string().optional() }) }),
      'A page of apps',
    ),
    ...problems(400, ...platformProblems),
  },
});

const appAnswer = json(z.object({ data: appView }), 'The app');

export const getApp = createRoute({
  method: 'get',
  path: '/{app_id}',
  operationId: 'getApp',
  tags,
  summary: 'One app',
  security,
  request: { params: appIdParams },
  responses: { 200: appAnswer, ...problems(400, ...platformProblems, 404) },
});

export const ledgerQuery = z.object({
  user_id: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'must be a numeric id of 1-19 digits')
    .optional(),
  from: timeQuery.optional().meta({ description: 'ISO-8601 or epoch milliseconds' }),
  to: timeQuery.optional().meta({ description: 'ISO-8601 or epoch milliseconds; exclusive' }),
  ...ledgerPage,
});

export const appLedger = createRoute({
  method: 'get',
  path: '/{app_id}/deliveries',
  operationId: 'getAppLedger',
  tags,
  summary: 'The app’s delivery ledger, newest first',
  description: 'Every attempt and drop across the app’s webhooks: the same entries and paging as the developer’s delivery log.',
  security,
  request: { params: appIdParams, query: ledgerQuery },
  responses: { 200: json(ledgerPageResponse, 'A page of the ledger'), ...problems(400, ...platformProblems, 404) },
});

const statusAnswer = (status: string) =>
  json(z.object({ data: z.object({ id: numericId, status: z.enum(APP_STATUSES) }) }), `The app is ${status}`);

export const approveApp = createRoute({
  method: 'post',
  path: '/{app_id}/approve',
  operationId: 'approveApp',
  tags,
  summary: 'Approve (or re-activate) an app',
  security,
  request: { params: appIdParams },
  responses: { 200: statusAnswer('active'), ...problems(400, ...platformProblems, 404) },
});

export const rotateConsumerSecret = createRoute({
  method: 'post',
  path: '/{app_id}/rotate-secret',
  operationId: 'rotateConsumerSecret',
  tags,
  summary: 'Issue a new consumer secret',
  description:
    'Shown once. Deliveries are signed with it at once; CRC answers made with the previous secret are accepted until `previous_secret_valid_until`; every app bearer token is revoked.',
  security,
  request: { params: appIdParams },
  responses: {
    200: json(
      z.object({
        data: z.object({ id: numericId, consumer_key: z.string(), consumer_secret: z.string(), previous_secret_valid_until: isoTime }),
      }),
      'The new secret',
    ),
    ...problems(400, ...platformProblems, 404),
  },
});

export const suspendBody = z.strictObject({ reason: z.string().trim().min(1).max(1000) }).meta({ id: 'SuspendAppRequest' });

export const suspendApp = createRoute({
  method: 'post',
  path: '/{app_id}/suspend',
  operationId: 'suspendApp',
  tags,
  summary: 'Suspend an app',
  description: 'Withdraws everything at once; answers once nothing handed out before can still start.',
  security,
  middleware: [jsonRequest] as const,
  request: { params: appIdParams, body: jsonBody(suspendBody) },
  responses: { 200: statusAnswer('suspended'), ...problems(400, ...platformProblems, 404, 413, 415) },
});

const clientAnswer = json(z.object({ data: oauthClientView }), 'The app’s OAuth 2.0 client settings');

export const getAppClient = createRoute({
  method: 'get',
  path: '/{app_id}/oauth2-client',
  operationId: 'getAppOAuthClient',
  tags,
  summary: 'The app as an OAuth 2.0 client',
  security,
  request: { params: appIdParams },
  responses: { 200: clientAnswer, ...problems(400, ...platformProblems, 404) },
});

export const putAppClient = createRoute({
  method: 'put',
  path: '/{app_id}/oauth2-client',
  operationId: 'putAppOAuthClient',
  tags,
  summary: 'Register the app as an OAuth 2.0 client',
  security,
  middleware: [jsonRequest] as const,
  request: { params: appIdParams, body: jsonBody(oauthClientSettings) },
  responses: { 200: clientAnswer, ...problems(400, ...platformProblems, 404, 413, 415) },
});

export const driftReport = z
  .object({
    app_id: numericId,
    in_step: z.boolean(),
    status: z.string(),
    differences: z.array(
      z.object({
        kind: z.string(),
        table: z.string(),
        id: z.string(),
        user_id: z.string().optional(),
        detail: z.string().optional(),
        shard: z.number().int().optional().meta({ description: 'Which of a sharded app’s objects differs (docs/scaling.md)' }),
      }),
    ),
  })
  .meta({ id: 'DriftReport', description: 'How the app’s object differs from D1' });

export const appDrift = createRoute({
  method: 'get',
  path: '/{app_id}/drift',
  operationId: 'getAppDrift',
  tags,
  summary: 'How the app’s object differs from D1 (changes nothing)',
  security,
  request: { params: appIdParams },
  responses: { 200: json(z.object({ data: driftReport }), 'The drift report'), ...problems(400, ...platformProblems, 404) },
});

export const reconcileApp = createRoute({
  method: 'post',
  path: '/{app_id}/reconcile',
  operationId: 'reconcileApp',
  tags,
  summary: 'Bring the app’s object and D1 together',
  security,
  request: { params: appIdParams },
  responses: {
    200: json(z.object({ data: driftReport.extend({ reconciled: z.literal(true) }) }), 'What differed, now reconciled'),
    ...problems(400, ...platformProblems, 404),
  },
});
