import { and, count, eq, isNull, sql } from 'drizzle-orm';
import { database } from '../db/client';
import { authorizations, subscriptions } from '../db/schema';
import { subscriptionCounts, webhookSubscribers } from '../db/subscriptions';
import { getOwnWebhook } from '../db/webhooks';
import { recordWithdrawal } from '../db/withdrawals';
import { AppDelivery } from '../delivery/app-objects';
import { addToAudienceIndex } from '../delivery/fan-out-index';
import { awaitFence } from '../delivery/withdrawal';
import { newId } from '../domain/ids';
import { ApiError, conflict, forbidden, notFound } from '../errors';
import { readLedgerPage } from '../http/ledger-view';
import { apiRouter } from '../http/validation';
import {
  checkSubscription,
  countSubscriptions,
  deliveryLog,
  listSubscriptions,
  replayByQuery,
  subscribeUser,
  unsubscribeUser,
} from './contracts/account-activity';
import { startReplayJob } from './replay';

/** Everything under /2/account_activity: subscriptions, the query form of replay, the delivery log. */
export const accountActivityRouter = apiRouter();
accountActivityRouter
  /** Subscribes the token's user to the webhook (user context, X's POST …/subscriptions/all). */
  .openapi(subscribeUser, async (c) => {
    const app = c.get('app');
    const authorization = c.get('authorization')!;
    const db = database(c.env);
    const webhook = await getOwnWebhook(db, app.id, c.req.valid('param').webhook_id);
    if (!webhook.valid) {
      throw new ApiError('invalid-request', 'the webhook is not valid; re-validate it with PUT /2/webhooks/:id', {
        reason: 'CrcValidationFailed',
      });
    }
    const userId = authorization.userId;
    const now = Date.now();
    const subscriptionId = newId(now);
    // The fan-out's audience index first, so it never holds less than D1 (fan-out-index.ts).
    await addToAudienceIndex(c.env, { userId, appId: app.id, shards: app.deliveryShards });
    // One statement checks the limit and that the authorization is still live while it inserts;
    // the partial unique index rejects a duplicate.
    const result = await db.run(sql`
      INSERT OR IGNORE INTO subscriptions (id, app_id, webhook_id, user_id, created_at)
      SELECT ${subscriptionId}, ${app.id}, ${webhook.id}, ${userId}, ${now}
      WHERE (SELECT count(*) FROM subscriptions WHERE app_id = ${app.id} AND ended_at IS NULL) < ${app.provisionedSubscriptions}
        AND EXISTS (SELECT 1 FROM authorizations WHERE id = ${authorization.id} AND ended_at IS NULL)`);
    if (result.meta.changes !== 1) {
      const [live] = await db
        .select({ id: subscriptions.id })
        .from(subscriptions)
        .where(and(eq(subscriptions.webhookId, webhook.id), eq(subscriptions.userId, userId), isNull(subscriptions.endedAt)));
      if (live) throw conflict(`user ${userId} is already subscribed to webhook ${webhook.id}`, 'DuplicateSubscriptionFailed');
      const [{ n }] = await db
        .select({ n: count() })
        .from(authorizations)
        .where(and(eq(authorizations.id, authorization.id), isNull(authorizations.endedAt)));
      if (n === 0) throw forbidden('the user authorization was revoked', 'AuthorizationRevoked');
      throw forbidden(`this app may have at most ${app.provisionedSubscriptions} subscriptions`, 'SubscriptionLimitExceeded');
    }
    // Widening: D1 first, then the object, which refuses if a withdrawal it already applied ended
    // this subscription, its webhook or its authorization (the request raced an unsubscribe, a
    // delete or a revoke). Then D1 is ended too, so both agree the user is not subscribed.
    const refused = await AppDelivery.of(c.env, app).addSubscription({
      id: subscriptionId,
      webhookId: webhook.id,
      userId,
      authorizationId: authorization.id,
      at: now,
    });
    if (refused) {
      const endReason = refused === 'webhook_gone' ? 'webhook_deleted' : refused === 'ended' ? 'unsubscribed' : 'authorization_revoked';
      await db
        .update(subscriptions)
        .set({ endedAt: Date.now(), endReason })
        .where(and(eq(subscriptions.id, subscriptionId), isNull(subscriptions.endedAt)));
      if (refused === 'webhook_gone') throw notFound(`no webhook ${webhook.id} for this app`, 'WebhookIdInvalid');
      if (refused === 'authorization_not_live') throw forbidden('the user authorization was revoked', 'AuthorizationRevoked');
      throw conflict(
        `user ${userId} was unsubscribed from webhook ${webhook.id} while subscribing; subscribe again`,
        'SubscriptionWithdrawn',
      );
    }
    return c.json({ data: { subscribed: true } }, 200);
  })
  /** X's replay request, query form: `?from_date=yyyymmddhhmm&to_date=yyyymmddhhmm`. */
  .openapi(replayByQuery, async (c) => {
    const job = await startReplayJob(
      c.env,
      {
        appId: c.get('app').id,
        webhookId: c.req.valid('param').webhook_id,
        dates: c.req.valid('query'),
        now: Date.now(),
        retentionMs: c.get('settings').retention.payloadMs,
      },
      'QueryParamInvalid',
    );
    return c.json({ data: job }, 200);
  })
  /** Whether the token's user is subscribed to the webhook. */
  .openapi(checkSubscription, async (c) => {
    const app = c.get('app');
    const db = database(c.env);
    const webhook = await getOwnWebhook(db, app.id, c.req.valid('param').webhook_id);
    const [live] = await db
      .select({ id: subscriptions.id })
      .from(subscriptions)
      .where(
        and(
          eq(subscriptions.webhookId, webhook.id),
          eq(subscriptions.userId, c.get('authorization')!.userId),
          isNull(subscriptions.endedAt),
        ),
      );
    return c.json({ data: { subscribed: Boolean(live) } }, 200);
  })
  /** The webhook's subscribed users, oldest first; `pagination_token` pages through large lists. */
  .openapi(listSubscriptions, async (c) => {
    const app = c.get('app');
    const { max_results, pagination_token } = c.req.valid('query');
    const db = database(c.env);
    const webhook = await getOwnWebhook(db, app.id, c.req.valid('param').webhook_id);
    const page = await webhookSubscribers(db, webhook.id, { after: pagination_token, limit: max_results });
    return c.json(
      {
        data: {
          application_id: app.id,
          webhook_id: webhook.id,
          webhook_url: webhook.url,
          subscriptions: page.subscribers.map((s) => ({ user_id: s.userId })),
        },
        meta: { result_count: page.subscribers.length, ...(page.nextToken ? { next_token: page.nextToken } : {}) },
      },
      200,
    );
  })
  /** Ends one user's subscription to the webhook (app context). */
  .openapi(unsubscribeUser, async (c) => {
    const app = c.get('app');
    const db = database(c.env);
    const webhook = await getOwnWebhook(db, app.id, c.req.valid('param').webhook_id);
    const userId = c.req.valid('param').user_id;
    const live = and(eq(subscriptions.webhookId, webhook.id), eq(subscriptions.userId, userId), isNull(subscriptions.endedAt));
    const [existing] = await db.select({ id: subscriptions.id }).from(subscriptions).where(live);
    if (!existing) throw notFound(`user ${userId} is not subscribed to webhook ${webhook.id}`, 'SubscriptionNotFound');
    // Withdrawal: the app's object stops first; D1 records when it took effect there; the answer
    // waits until nothing handed out before can still start.
    const withdrawal = await AppDelivery.of(c.env, app).endSubscription(webhook.id, userId, existing.id);
    await recordWithdrawal(db, withdrawal, { subscription: 'unsubscribed' });
    await awaitFence(c.env, withdrawal);
    return c.json({ data: { subscribed: false } }, 200);
  })
  /**
   * X's subscription count. `subscriptions_count_direct_messages` counts the live subscriptions whose
   * user's authorization includes `dm.read` (those that can receive direct message events).
   */
  .openapi(countSubscriptions, async (c) => {
    const app = c.get('app');
    const counts = await subscriptionCounts(database(c.env), app.id);
    return c.json(
      {
        data: {
          account_name: app.name,
          provisioned_count: String(app.provisionedSubscriptions),
          subscriptions_count_all: String(counts.all),
          subscriptions_count_direct_messages: String(counts.directMessages),
        },
      },
      200,
    );
  })
  /**
   * The developer's delivery log (an extension to X's API): every attempt to one of this app's
   * webhooks, newest first, with the receiver's answer and what happens next. Read from the app's own
   * ledger, so it can only ever show this app's deliveries.
   */
  .openapi(deliveryLog, async (c) => {
    const app = c.get('app');
    const webhook = await getOwnWebhook(database(c.env), app.id, c.req.valid('param').webhook_id);
    const q = c.req.valid('query');
    return c.json(
      await readLedgerPage(c.env, app.id, { webhookId: webhook.id, userId: q.user_id, outcome: q.status, from: q.since, to: q.until }, q),
      200,
    );
  });
