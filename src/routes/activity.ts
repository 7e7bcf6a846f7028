import { requireApp } from '../auth/developer';
import { database } from '../db/client';
import { liveXaaCount, xaaNotFound, xaaPage, xaaSubscriptionView } from '../db/xaa-subscriptions';
import { openXaaStream } from '../delivery/xaa-stream';
import { createXaaSubscription, deleteXaaSubscriptions, updateXaaSubscriptionFor } from '../delivery/xaa-subscriptions';
import { apiRouter } from '../http/validation';
import * as routes from './contracts/activity';

const pageToken = (id: string) => id.padStart(19, '0');

/**
 * The X Activity API (docs/xaa.md): typed subscriptions and the app's persistent stream, beside the
 * Account Activity API, fed by the same ingest. Answers and problems are in X's shapes (X's OpenAPI
 * schemas validate them); app bearer tokens and the app's user tokens are accepted, as on X.
 */
export const activityRouter = apiRouter();
activityRouter.use(requireApp);
activityRouter
  .openapi(routes.createActivitySubscription, async (c) => {
    const { subscription, total } = await createXaaSubscription(
      c.env,
      c.get('app'),
      c.get('authorization'),
      c.req.valid('json'),
      c.get('settings').xaaSubscriptionLimits,
    );
    return c.json({ data: { subscription: xaaSubscriptionView(subscription) }, meta: { total_subscriptions: total } }, 200);
  })
  /** The app's live subscriptions, oldest first. */
  .openapi(routes.getActivitySubscriptions, async (c) => {
    const app = c.get('app');
    const { max_results, pagination_token } = c.req.valid('query');
    const db = database(c.env);
    const after = pagination_token ? String(BigInt(pagination_token)) : null;
    const [rows, total] = await Promise.all([xaaPage(db, app.id, after, max_results + 1), liveXaaCount(db, app.id)]);
    const page = rows.slice(0, max_results);
    return c.json(
      {
        data: page.map(xaaSubscriptionView),
        meta: {
          result_count: page.length,
          total_subscriptions: total,
          ...(rows.length > max_results ? { next_token: pageToken(page[page.length - 1].id) } : {}),
        },
      },
      200,
    );
  })
  /** Deletes many: `?ids=a,b,c`; each id is answered on its own (deleted, or an error). */
  .openapi(routes.deleteActivitySubscriptionsByIds, async (c) => {
    const { deleted, missing, total } = await deleteXaaSubscriptions(c.env, c.get('app'), c.req.valid('query').ids);
    return c.json(
      {
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
      },
      200,
    );
  })
  /** Changes only `tag` and/or `webhook_id`; a new filter or event type is a new subscription. */
  .openapi(routes.updateActivitySubscription, async (c) => {
    const { subscription, total } = await updateXaaSubscriptionFor(
      c.env,
      c.get('app'),
      c.req.valid('param').subscription_id,
      c.req.valid('json'),
    );
    return c.json(
      { data: { subscription: xaaSubscriptionView(subscription), total_subscriptions: total }, meta: { total_subscriptions: total } },
      200,
    );
  })
  .openapi(routes.deleteActivitySubscription, async (c) => {
    const id = c.req.valid('param').subscription_id;
    const { deleted, total } = await deleteXaaSubscriptions(c.env, c.get('app'), [id]);
    if (deleted.length === 0) throw xaaNotFound(id);
    return c.json({ data: { deleted: true }, meta: { total_subscriptions: total } }, 200);
  })
  /** The app's persistent stream: one envelope per line, held open by the app's object. */
  .openapi(routes.activityStream, async (c) => {
    const stream = await openXaaStream(c.env, c.get('app').id, c.req.valid('query'), {
      maxConnections: c.get('settings').stream.maxConnections,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    });
    // A held-open body of many JSON lines, not one JSON value: the contract documents one line.
    return stream as never;
  });
