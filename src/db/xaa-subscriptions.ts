import { and, asc, count, eq, gt, isNull, sql } from 'drizzle-orm';
import type { XaaSubscriptionRecord } from '../app-object/storage/xaa-mirror-store';
import { ApiError } from '../errors';
import type { Database } from './client';
import { xaaSubscriptions } from './schema';

export type XaaSubscriptionRow = typeof xaaSubscriptions.$inferSelect;

const iso = (ms: number) => new Date(ms).toISOString();

/** A subscription as X's API shows it. */
export const xaaSubscriptionView = (row: XaaSubscriptionRow) => ({
  subscription_id: row.id,
  event_type: row.eventType,
  filter: {
    user_id: row.userId,
    ...(row.direction ? { direction: row.direction } : {}),
    ...(row.keyword !== null ? { keyword: row.keyword } : {}),
  },
  ...(row.tag !== null ? { tag: row.tag } : {}),
  ...(row.webhookId !== null ? { webhook_id: row.webhookId } : {}),
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

/** D1's row, as the app's object takes it (a widening write). */
export const xaaRecordOf = (row: XaaSubscriptionRow): XaaSubscriptionRecord => ({
  id: row.id,
  eventType: row.eventType,
  userId: row.userId,
  direction: row.direction,
  keyword: row.keyword,
  tag: row.tag,
  webhookId: row.webhookId,
  authorizationId: row.authorizationId,
  at: row.updatedAt,
});

const live = (appId: string) => and(eq(xaaSubscriptions.appId, appId), isNull(xaaSubscriptions.endedAt));

/** A live subscription of this app, or 404: another app's is indistinguishable from none. */
export async function getOwnXaaSubscription(db: Database, appId: string, id: string): Promise<XaaSubscriptionRow> {
  const [row] = await db
    .select()
    .from(xaaSubscriptions)
    .where(and(live(appId), eq(xaaSubscriptions.id, id)))
    .limit(1);
  if (!row) throw xaaNotFound(id);
  return row;
}

export const xaaNotFound = (id: string) =>
  new ApiError('not-found', `no subscription ${id} for this app`, {
    reason: 'SubscriptionNotFound',
    resource: { type: 'subscription', id },
  });

/** Live subscriptions of this app with an id in `ids`. */
export async function ownLiveAmong(db: Database, appId: string, ids: string[]): Promise<XaaSubscriptionRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(xaaSubscriptions)
    .where(and(live(appId), sql`${xaaSubscriptions.id} IN ${ids}`));
}

export async function liveXaaCount(db: Database, appId: string): Promise<number> {
  const [{ n }] = await db.select({ n: count() }).from(xaaSubscriptions).where(live(appId));
  return n;
}

/** One page of the app's live subscriptions, oldest first, after the subscription id `after`. */
export async function xaaPage(db: Database, appId: string, after: string | null, limit: number): Promise<XaaSubscriptionRow[]> {
  return db
    .select()
    .from(xaaSubscriptions)
    .where(and(live(appId), after ? gt(sql`CAST(${xaaSubscriptions.id} AS INTEGER)`, sql`CAST(${after} AS INTEGER)`) : undefined))
    .orderBy(asc(sql`CAST(${xaaSubscriptions.id} AS INTEGER)`))
    .limit(limit);
}

/**
 * Inserts a subscription, and its first target in the kept history, in one transaction, only if the
 * app is under `limit` live subscriptions, no live one has the same type, filter (the keyword in any
 * case) and webhook, the webhook is a live one of the app, and (for a private event) the
 * authorization it rests on is still live. True if it was inserted.
 */
export async function insertXaaSubscription(env: { DB: D1Database }, row: XaaSubscriptionRow, limit: number): Promise<boolean> {
  const [inserted] = await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO xaa_subscriptions (id, app_id, event_type, user_id, direction, keyword, tag, webhook_id, authorization_id, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10
       WHERE (SELECT count(*) FROM xaa_subscriptions WHERE app_id = ?2 AND ended_at IS NULL) < ?11
         AND NOT EXISTS (SELECT 1 FROM xaa_subscriptions WHERE app_id = ?2 AND ended_at IS NULL AND event_type = ?3 AND user_id = ?4
               AND direction IS ?5 AND lower(keyword) IS lower(?6) AND webhook_id IS ?8)
         AND (?8 IS NULL OR EXISTS (SELECT 1 FROM webhooks WHERE id = ?8 AND app_id = ?2 AND deleted_at IS NULL))
         AND (?9 IS NULL OR EXISTS (SELECT 1 FROM authorizations WHERE id = ?9 AND ended_at IS NULL))`,
    ).bind(
      row.id,
      row.appId,
      row.eventType,
      row.userId,
      row.direction,
      row.keyword,
      row.tag,
      row.webhookId,
      row.authorizationId,
      row.createdAt,
      limit,
    ),
    env.DB.prepare(
      'INSERT INTO xaa_subscription_targets (subscription_id, app_id, webhook_id, at) SELECT ?, ?, ?, ? WHERE changes() = 1',
    ).bind(row.id, row.appId, row.webhookId, row.createdAt),
  ]);
  return inserted.meta.changes === 1;
}

/** Whether a live subscription with the same type, filter and webhook exists (why an insert was refused). */
export async function duplicateOf(db: Database, row: XaaSubscriptionRow): Promise<string | null> {
  const [found] = await db.all<{ id: string }>(
    sql`SELECT id FROM xaa_subscriptions WHERE app_id = ${row.appId} AND ended_at IS NULL AND event_type = ${row.eventType}
          AND user_id = ${row.userId} AND direction IS ${row.direction} AND lower(keyword) IS lower(${row.keyword})
          AND webhook_id IS ${row.webhookId} LIMIT 1`,
  );
  return found?.id ?? null;
}

/**
 * A new tag and/or target as the next version of `row` (`change.at` > `row.updatedAt`), with the
 * target's change recorded in the kept history (when the old one was taken away, if it was, and when
 * the new one began), all in one transaction; only if `row` is still the live version, so concurrent
 * changes apply one after the other. False if another change (or the end) came first.
 */
export async function updateXaaSubscription(
  env: { DB: D1Database },
  row: XaaSubscriptionRow,
  change: { tag: string | null; webhookId: string | null; at: number; untargetedAt: number | null },
): Promise<boolean> {
  const history = (webhookId: string | null, at: number) =>
    env.DB.prepare(
      'INSERT INTO xaa_subscription_targets (subscription_id, app_id, webhook_id, at) SELECT ?, ?, ?, ? WHERE changes() = 1',
    ).bind(row.id, row.appId, webhookId, at);
  const moved = change.webhookId !== row.webhookId;
  const [updated] = await env.DB.batch([
    env.DB.prepare(
      'UPDATE xaa_subscriptions SET tag = ?, webhook_id = ?, updated_at = ? WHERE id = ? AND ended_at IS NULL AND updated_at = ?',
    ).bind(change.tag, change.webhookId, change.at, row.id, row.updatedAt),
    ...(moved && change.untargetedAt !== null ? [history(null, change.untargetedAt)] : []),
    ...(moved ? [history(change.webhookId, change.at)] : []),
  ]);
  return updated.meta.changes === 1;
}

/** Ends one row (a widening the app's object refused: D1 must not say live what the object ended). */
export async function endXaaRow(db: Database, id: string, endReason: XaaSubscriptionRow['endReason'], at: number): Promise<void> {
  await db
    .update(xaaSubscriptions)
    .set({ endedAt: at, endReason })
    .where(and(eq(xaaSubscriptions.id, id), isNull(xaaSubscriptions.endedAt)));
}
