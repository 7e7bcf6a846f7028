import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { streamQuerySchema } from '../../delivery/xaa-stream';
import { createSubscriptionSchema, deleteManyQuery, updateSubscriptionSchema } from '../../domain/xaa-requests';
import { byApp, rateLimit } from '../../http/rate-limit';
import { jsonRequest } from '../../http/validation';
import { idParam, isoTime, json, jsonBody, numericId, problems, SECURITY } from './common';

/**
 * `/2/activity`: X's Activity API (same operation ids as X's document; docs/xaa.md). Answers and
 * problems are in X's shapes: problem `type`s are X's URIs, with `resource_type` and `parameter`.
 */

const tags = ['X Activity API'];
const subscriptionIdParams = z.object({ subscription_id: idParam('The subscription, one of this app’s') });
const PAGE_SIZE = 'must be an integer from 1 to 1000';

/** Page tokens are the last subscription id of a page, zero-padded to 19 digits (X's tokens are at least 16 characters). */
export const listQuery = z.object({
  max_results: z.coerce
    .number({ error: PAGE_SIZE })
    .int(PAGE_SIZE)
    .min(1, PAGE_SIZE)
    .max(1000, PAGE_SIZE)
    .default(100)
    .meta({ description: 'Subscriptions per page' }),
  pagination_token: z
    .string()
    .regex(/^[0-9]{16,19}$/, 'is not a pagination_token this API issued (meta.next_token of a previous page)')
    .optional()
    .meta({ description: '`meta.next_token` of the previous page' }),
});

export const xaaFilter = z
  .object({
    user_id: numericId,
    direction: z.enum(['inbound', 'outbound']).optional(),
    keyword: z.string().optional(),
  })
  .meta({ id: 'ActivitySubscriptionFilter', description: 'Whose events, and optionally which side (likes) or which words' });

export const xaaSubscription = z
  .object({
    subscription_id: numericId,
    event_type: z.string().meta({ example: 'post.create' }),
    filter: xaaFilter,
    tag: z.string().optional(),
    webhook_id: numericId.optional().meta({ description: 'Absent: the stream only' }),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .meta({ id: 'ActivitySubscription', description: 'One event type for one filter, delivered to a webhook and/or the stream' });

const totals = z.object({ total_subscriptions: z.number().int().meta({ description: 'Live subscriptions of the app' }) });
const xaaProblems = problems(400, 401, 403, 404, 409, 413, 415, 429);

export const createActivitySubscription = createRoute({
  method: 'post',
  path: '/subscriptions',
  operationId: 'createActivitySubscription',
  tags,
  summary: 'Subscribe to one event type for one filter',
  description:
    'Public types (posts of non-protected authors, profile updates, Spaces, broadcasts) for any user; private types only for a user whose live authorization of this app holds the type’s scope. Without `webhook_id`, the stream only. Duplicates and the tier’s limit are refused.',
  security: SECURITY.app,
  middleware: [rateLimit('activity:subscriptions:create', byApp), jsonRequest] as const,
  request: { body: jsonBody(createSubscriptionSchema.meta({ id: 'CreateActivitySubscriptionRequest' })) },
  responses: {
    200: json(z.object({ data: z.object({ subscription: xaaSubscription }), meta: totals }), 'Subscribed', { rateLimited: true }),
    ...xaaProblems,
  },
});

export const getActivitySubscriptions = createRoute({
  method: 'get',
  path: '/subscriptions',
  operationId: 'getActivitySubscriptions',
  tags,
  summary: 'List the app’s subscriptions',
  description: 'Live subscriptions, oldest first, in pages.',
  security: SECURITY.app,
  middleware: [rateLimit('activity:subscriptions:list', byApp)] as const,
  request: { query: listQuery },
  responses: {
    200: json(
      z.object({
        data: z.array(xaaSubscription),
        meta: totals.extend({ result_count: z.number().int(), next_token: z.string().optional() }),
      }),
      'A page of subscriptions',
      { rateLimited: true },
    ),
    ...problems(400, 401, 403, 429),
  },
});

export const deleteActivitySubscriptionsByIds = createRoute({
  method: 'delete',
  path: '/subscriptions',
  operationId: 'deleteActivitySubscriptionsByIds',
  tags,
  summary: 'Delete several subscriptions',
  description: '`ids` is a comma-separated list of 1-100 subscription ids; each is answered on its own: deleted, or an error.',
  security: SECURITY.app,
  middleware: [rateLimit('activity:subscriptions:delete', byApp)] as const,
  request: { query: deleteManyQuery },
  responses: {
    200: json(
      z.object({
        data: z.array(z.object({ subscription_id: numericId, deleted: z.boolean() })),
        errors: z.array(z.object({ subscription_id: numericId, reason: z.string(), message: z.string() })).optional(),
        meta: totals,
      }),
      'What was deleted, and an error per id that was not',
      { rateLimited: true },
    ),
    ...problems(400, 401, 403, 429),
  },
});

export const updateActivitySubscription = createRoute({
  method: 'put',
  path: '/subscriptions/{subscription_id}',
  operationId: 'updateActivitySubscription',
  tags,
  summary: 'Change a subscription’s tag or webhook',
  description:
    'Only `tag` and `webhook_id` change; another type or filter is a new subscription. Moving it to another webhook withdraws what it had not delivered to the old one.',
  security: SECURITY.app,
  middleware: [rateLimit('activity:subscriptions:update', byApp), jsonRequest] as const,
  request: { params: subscriptionIdParams, body: jsonBody(updateSubscriptionSchema.meta({ id: 'UpdateActivitySubscriptionRequest' })) },
  responses: {
    200: json(
      z.object({ data: z.object({ subscription: xaaSubscription, total_subscriptions: z.number().int() }), meta: totals }),
      'Updated',
      { rateLimited: true },
    ),
    ...xaaProblems,
  },
});

export const deleteActivitySubscription = createRoute({
  method: 'delete',
  path: '/subscriptions/{subscription_id}',
  operationId: 'deleteActivitySubscription',
  tags,
  summary: 'Delete a subscription',
  description: 'What it had not delivered yet is withdrawn.',
  security: SECURITY.app,
  middleware: [rateLimit('activity:subscriptions:delete', byApp)] as const,
  request: { params: subscriptionIdParams },
  responses: {
    200: json(z.object({ data: z.object({ deleted: z.boolean() }), meta: totals }), 'Deleted', { rateLimited: true }),
    ...problems(400, 401, 403, 404, 429),
  },
});

export const activityStream = createRoute({
  method: 'get',
  path: '/stream',
  operationId: 'activityStream',
  tags,
  summary: 'The app’s persistent stream',
  description:
    'Held open: one JSON envelope per line (`\\r\\n`), a bare `\\r\\n` keep-alive when idle, never compressed. `backfill_minutes` (0-5) or `start_time` first sends what the subscriptions produced since then; `end_time` closes it. A reader that falls too far behind gets a reason line (`disconnect_type: ReaderFellBehind`) and is closed; see docs/xaa.md.',
  security: SECURITY.app,
  middleware: [rateLimit('activity:stream', byApp)] as const,
  request: { query: streamQuerySchema },
  responses: {
    200: json(
      z
        .object({
          data: z
            .object({
              event_uuid: z.string(),
              filter: z.object({ user_id: numericId.optional(), direction: z.string().optional(), keyword: z.string().optional() }),
              event_type: z.string(),
              tag: z.string().optional(),
              payload: z.record(z.string(), z.unknown()),
              includes: z
                .object({
                  users: z.array(z.record(z.string(), z.unknown())).optional(),
                  posts: z.array(z.record(z.string(), z.unknown())).optional(),
                  media: z.array(z.record(z.string(), z.unknown())).optional(),
                  places: z.array(z.record(z.string(), z.unknown())).optional(),
                  polls: z.array(z.record(z.string(), z.unknown())).optional(),
                  topics: z.array(z.record(z.string(), z.unknown())).optional(),
                })
                .optional()
                .meta({ description: 'Objects the payload refers to, where the activity carried them (users and posts)' }),
            })
            .optional(),
          errors: z.array(z.record(z.string(), z.unknown())).optional(),
        })
        .meta({ id: 'ActivityStreamLine', description: 'One line of the stream: an envelope, or the reason it is being closed' }),
      'Newline-delimited JSON, one line per event',
      { rateLimited: true },
    ),
    ...problems(400, 401, 403, 429),
  },
});
