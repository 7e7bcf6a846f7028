import { and, eq, isNull } from 'drizzle-orm';
import type { AddRefusal } from '../app-object/storage/mirror-store';
import type { XaaTier } from '../config';
import { database } from '../db/client';
import { type AppRow, type AuthorizationRow, authorizations } from '../db/schema';
import { getOwnWebhook } from '../db/webhooks';
import { recordWithdrawal } from '../db/withdrawals';
import {
  duplicateOf,
  endXaaRow,
  getOwnXaaSubscription,
  insertXaaSubscription,
  liveXaaCount,
  ownLiveAmong,
  updateXaaSubscription,
  type XaaSubscriptionRow,
  xaaRecordOf,
} from '../db/xaa-subscriptions';
import { hasScope } from '../domain/audience';
import { newId } from '../domain/ids';
import { type XaaEventType, xaaRule } from '../domain/xaa-events';
import { type CreateSubscriptionRequest, filterProblem } from '../domain/xaa-requests';
import { ApiError, conflict, invalid } from '../errors';
import { AppDelivery } from './app-objects';
import { addToAudienceIndex } from './fan-out-index';
import { awaitFence } from './withdrawal';

/**
 * The X Activity API's subscriptions, Worker side (docs/xaa.md): every change goes through the
 * protocol of docs/delivery.md. A creation, a new target or a new tag widens: D1 first, then the
 * app's object, which refuses if it already saw the subscription, its webhook or its authorization
 * end (then D1 ends it too). A delete, or the old target of a move, narrows: the object first, then
 * D1 records exactly what the object ended, then the answer waits out the fence.
 */

const field = (parameter: string, message: string) => [{ parameter, message }];

/** Why the object refused a widening write, as the client hears it; D1's row is ended with the matching reason. */
async function refusedByObject(env: Env, row: XaaSubscriptionRow, refused: AddRefusal): Promise<never> {
  const reason = refused === 'webhook_gone' ? 'webhook_deleted' : refused === 'ended' ? 'deleted' : 'authorization_revoked';
  await endXaaRow(database(env), row.id, reason, Date.now());
  if (refused === 'webhook_gone') {
    throw new ApiError('not-found', `no webhook ${row.webhookId} for this app`, {
      reason: 'WebhookIdInvalid',
      resource: { type: 'webhook', id: row.webhookId ?? undefined },
    });
  }
  if (refused === 'authorization_not_live') {
    throw new ApiError(
      'forbidden',
      `user ${row.userId}'s authorization of this app was revoked or replaced meanwhile; if it is live, subscribe again`,
      {
        reason: 'AuthorizationRevoked',
        resource: { type: 'user', id: row.userId },
      },
    );
  }
  throw conflict(`subscription ${row.id} was deleted while it was being written; create it again`, 'SubscriptionWithdrawn');
}

/** A webhook of this app that may take new deliveries (live, and passing its CRC). */
async function targetWebhook(env: Env, appId: string, webhookId: string): Promise<string> {
  const webhook = await getOwnWebhook(database(env), appId, webhookId).catch(() => {
    throw new ApiError('not-found', `no webhook ${webhookId} for this app`, {
      reason: 'WebhookIdInvalid',
      errors: field('webhook_id', 'is not a webhook of this app'),
      resource: { type: 'webhook', id: webhookId },
    });
  });
  if (!webhook.valid) {
    throw invalid(`webhook ${webhookId} is not valid; re-validate it with PUT /2/webhooks/:id`, 'CrcValidationFailed', [
      { parameter: 'webhook_id', message: 'the webhook failed its last CRC' },
    ]);
  }
  return webhook.id;
}

/**
 * The authorization a private event's subscription rests on: the filter user's live authorization
 * of this app, holding the event's scope (with a user token, the token's own). Null for a public event.
 */
async function authorizationFor(
  env: Env,
  app: AppRow,
  eventType: XaaEventType,
  userId: string,
  token: AuthorizationRow | null,
): Promise<string | null> {
  const scope = xaaRule(eventType).scope;
  if (scope === null) return null;
  const notAuthorized = (why: string) =>
    new ApiError('forbidden', `${eventType} is a private event: ${why}`, {
      reason: 'UserNotAuthorized',
      errors: field('filter.user_id', why),
      resource: { type: 'user', id: userId },
    });
  if (token && token.userId !== userId) {
    throw notAuthorized(`a user token subscribes its own user (${token.userId}) to private events, not user ${userId}`);
  }
  const [live] = await database(env)
    .select()
    .from(authorizations)
    .where(and(eq(authorizations.appId, app.id), eq(authorizations.userId, userId), isNull(authorizations.endedAt)))
    .limit(1);
  if (!live) throw notAuthorized(`user ${userId} has not authorized this app`);
  if (!hasScope(live.scope, scope)) throw notAuthorized(`user ${userId}'s authorization of this app does not hold ${scope}`);
  return live.id;
}

export async function createXaaSubscription(
  env: Env,
  app: AppRow,
  token: AuthorizationRow | null,
  request: CreateSubscriptionRequest,
  limits: Record<XaaTier, number>,
): Promise<{ subscription: XaaSubscriptionRow; total: number }> {
  const eventType = request.event_type as XaaEventType;
  const problem = filterProblem(eventType, request.filter, token?.userId ?? null);
  if (problem) {
    throw new ApiError(problem.status === 400 ? 'invalid-request' : 'forbidden', `${problem.parameter}: ${problem.message}`, {
      reason: problem.reason,
      errors: field(problem.parameter, problem.message),
      resource: { type: 'user', id: request.filter.user_id },
    });
  }
  const webhookId = request.webhook_id ? await targetWebhook(env, app.id, request.webhook_id) : null;
  const authorizationId = await authorizationFor(env, app, eventType, request.filter.user_id, token);
  const now = Date.now();
  const row: XaaSubscriptionRow = {
    id: newId(now),
    appId: app.id,
    eventType,
    userId: request.filter.user_id,
    direction: request.filter.direction ?? null,
    keyword: request.filter.keyword ?? null,
    tag: request.tag ?? null,
    webhookId,
    authorizationId,
    createdAt: now,
    updatedAt: now,
    endedAt: null,
    endReason: null,
  };
  const limit = limits[app.xaaTier];
  // The fan-out's audience index first, so it never holds less than D1 (fan-out-index.ts).
  await addToAudienceIndex(env, { userId: row.userId, appId: app.id, shards: app.deliveryShards });
  if (!(await insertXaaSubscription(env, row, limit))) {
    const db = database(env);
    const duplicate = await duplicateOf(db, row);
    if (duplicate) {
      throw new ApiError('conflict', `subscription ${duplicate} already has this event type, filter and webhook`, {
        reason: 'DuplicateSubscription',
        resource: { type: 'subscription', id: duplicate },
      });
    }
    if ((await liveXaaCount(db, app.id)) >= limit) {
      throw new ApiError('forbidden', `this app (tier ${app.xaaTier}) may hold at most ${limit} X Activity API subscriptions`, {
        reason: 'SubscriptionLimitExceeded',
        resource: { type: 'subscription' },
      });
    }
    throw conflict('the webhook or the user authorization changed while subscribing; try again', 'SubscriptionWithdrawn');
  }
  const refused = await AppDelivery.of(env, app).putXaaSubscription(xaaRecordOf(row));
  if (refused) await refusedByObject(env, row, refused);
  return { subscription: row, total: await liveXaaCount(database(env), app.id) };
}

/**
 * A new tag and/or webhook. Moving to another webhook takes the old one away in the object first (a
 * withdrawal, as of the version read), then D1 records the next version only if it is still the one
 * read (a concurrent change went first: start over from it), then the object takes it.
 */
export async function updateXaaSubscriptionFor(
  env: Env,
  app: AppRow,
  id: string,
  change: { tag?: string; webhook_id?: string },
): Promise<{ subscription: XaaSubscriptionRow; total: number }> {
  const db = database(env);
  const object = AppDelivery.of(env, app);
  const webhookId = change.webhook_id !== undefined ? await targetWebhook(env, app.id, change.webhook_id) : undefined;
  for (let round = 0; round < 5; round++) {
    const row = await getOwnXaaSubscription(db, app.id, id);
    const target = webhookId ?? row.webhookId;
    const untargeted =
      target !== row.webhookId && row.webhookId !== null ? await object.untargetXaaSubscription(id, row.userId, row.updatedAt) : null;
    const at = Math.max(Date.now(), untargeted?.effectiveAt ?? 0, row.updatedAt + 1);
    const tag = change.tag ?? row.tag;
    const updated: XaaSubscriptionRow = { ...row, tag, webhookId: target, updatedAt: at };
    const recorded = await updateXaaSubscription(env, row, { tag, webhookId: target, at, untargetedAt: untargeted?.effectiveAt ?? null });
    if (untargeted) await awaitFence(env, untargeted);
    if (!recorded) continue;
    const refused = await object.putXaaSubscription(xaaRecordOf(updated));
    if (refused) await refusedByObject(env, updated, refused);
    return { subscription: updated, total: await liveXaaCount(db, app.id) };
  }
  throw conflict(`subscription ${id} was changed concurrently by other requests; send the change again`, 'SubscriptionConflict');
}

/**
 * Deletes the app's live subscriptions among `ids`; the others are reported one by one. The object
 * stops first, D1 records what it ended, and the answer waits until nothing handed out can start.
 */
export async function deleteXaaSubscriptions(
  env: Env,
  app: AppRow,
  ids: string[],
): Promise<{ deleted: string[]; missing: string[]; total: number }> {
  const db = database(env);
  const found = await ownLiveAmong(db, app.id, ids);
  if (found.length > 0) {
    const withdrawal = await AppDelivery.of(env, app).endXaaSubscriptions(found.map((s) => ({ id: s.id, userId: s.userId })));
    await recordWithdrawal(db, withdrawal, { subscription: 'unsubscribed' });
    await awaitFence(env, withdrawal);
  }
  const deleted = new Set(found.map((s) => s.id));
  return {
    deleted: ids.filter((id) => deleted.has(id)),
    missing: ids.filter((id) => !deleted.has(id)),
    total: await liveXaaCount(db, app.id),
  };
}
