import { Hono } from 'hono';
import { z } from 'zod';
import { requireApp } from '../auth/developer';
import { database } from '../db/client';
import { liveXaaCount, xaaNotFound, xaaPage, xaaSubscriptionView } from '../db/xaa-subscriptions';
import { openXaaStream, streamQuerySchema } from '../delivery/xaa-stream';
import { createXaaSubscription, deleteXaaSubscriptions, updateXaaSubscriptionFor } from '../delivery/xaa-subscriptions';
import { createSubscriptionSchema, deleteManyQuery, updateSubscriptionSchema } from '../domain/xaa-requests';
import { byApp, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { jsonBody, pathIds, query } from '../http/validation';

const subscriptionIdPath = pathIds({ subscription_id: 'SubscriptionIdInvalid' });

const PAGE_SIZE = 'must be an integer from 1 to 1000';
/** Page tokens are the last subscription id of a page, zero-padded to 19 digits (X's tokens are at least 16 characters). */
const listQuery = z.object({
  max_results: z.coerce.number({ error: PAGE_SIZE }).int(PAGE_SIZE).min(1, PAGE_SIZE).max(1000, PAGE_SIZE).default(100),
  pagination_token: z
    .string()
    .regex(/^[0-9]{16,19}$/, 'is not a pagination_token this API issued (meta.next_token of a previous page)')
    .optional(),
});
const pageToken = (id: string) => id.padStart(19, '0');

/**
 * The X Activity API (docs/xaa.md): typed subscriptions and the app's persistent stream, beside the
 * Account Activity API, fed by the same ingest. Answers and problems are in X's shapes (X's OpenAPI
 * schemas validate them); app bearer tokens and the app's user tokens are accepted, as on X.
 */
export const activityRouter = new Hono<HonoEnv>()
  .use(requireApp)
  .post('/subscriptions', rateLimit('activity:subscriptions:create', byApp), jsonBody(createSubscriptionSchema), async (c) => {
    const { subscription, total } = await createXaaSubscription(
      c.env,
      c.get('app'),
      c.get('authorization'),
      c.req.valid('json'),
      c.get('settings').xaaSubscriptionLimits,
    );
    return c.json({ data: { subscription: xaaSubscriptionView(subscription) }, meta: { total_subscriptions: total } });
  })
  /** The app's live subscriptions, oldest first. */
  .get('/subscriptions', rateLimit('activity:subscriptions:list', byApp), query(listQuery), async (c) => {
    const app = c.get('app');
    const { max_results, pagination_token } = c.req.valid('query');
    const db = database(c.env);
    const after = pagination_token ? String(BigInt(pagination_token)) : null;
    const [rows, total] = await Promise.all([xaaPage(db, app.id, after, max_results + 1), liveXaaCount(db, app.id)]);
    const page = rows.slice(0, max_results);
    return c.json({
      data: page.map(xaaSubscriptionView),
      meta: {
        result_count: page.length,
        total_subscriptions: total,
        ...(rows.length > max_results ? { next_token: pageToken(page[page.length - 1].id) } : {}),
      },
    });
  })
  /** Deletes many: `?ids=a,b,c`; each id is answered on its own (deleted, or an error). */
  .delete('/subscriptions', rateLimit('activity:subscriptions:delete', byApp), query(deleteManyQuery), async (c) => {
    const { deleted, missing, total } = await deleteXaaSubscriptions(c.env, c.get('app'), c.req.valid('query').ids);
    return c.json({
      data: deleted.map((id) => ({ subscription_id: id, deleted: true })),
      ...(missing.length > 0
        ? {
            errors: missing.map((id) => ({
              subscription_id: id,
              reason: 'SubscriptionNotFound',
              message: `no subscription ${id} for this app`,
            })),
          }
        : {}),
      meta: { total_subscriptions: total },
    });
  })
  /** Changes only `tag` and/or `webhook_id`; a new filter or event type is a new subscription. */
  .put(
    '/subscriptions/:subscription_id',
    rateLimit('activity:subscriptions:update', byApp),
    jsonBody(updateSubscriptionSchema),
    subscriptionIdPath,
    async (c) => {
      const { subscription, total } = await updateXaaSubscriptionFor(
        c.env,
        c.get('app'),
        c.req.valid('param').subscription_id,
        c.req.valid('json'),
      );
      return c.json({
        data: { subscription: xaaSubscriptionView(subscription), total_subscriptions: total },
        meta: { total_subscriptions: total },
      });
    },
  )
  .delete('/subscriptions/:subscription_id', rateLimit('activity:subscriptions:delete', byApp), subscriptionIdPath, async (c) => {
    const id = c.req.valid('param').subscription_id;
    const { deleted, total } = await deleteXaaSubscriptions(c.env, c.get('app'), [id]);
    if (deleted.length === 0) throw xaaNotFound(id);
    return c.json({ data: { deleted: true }, meta: { total_subscriptions: total } });
  })
  /** The app's persistent stream: one envelope per line, held open by the app's object. */
  .get('/stream', rateLimit('activity:stream', byApp), query(streamQuerySchema), async (c) =>
    openXaaStream(c.env, c.get('app').id, c.req.valid('query'), {
      maxConnections: c.get('settings').stream.maxConnections,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    }),
  );
