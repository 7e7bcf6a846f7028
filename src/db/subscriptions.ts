import { and, asc, count, eq, gt, isNull, like } from 'drizzle-orm';
import type { Database } from './client';
import { authorizations, subscriptions } from './schema';

/**
 * An app's live subscriptions: all of them, and those whose user's authorization includes
 * `dm.read` (the ones that can receive direct message events).
 */
export async function subscriptionCounts(db: Database, appId: string): Promise<{ all: number; directMessages: number }> {
  const liveInApp = and(eq(subscriptions.appId, appId), isNull(subscriptions.endedAt));
  const [[all], [dm]] = await Promise.all([
    db.select({ n: count() }).from(subscriptions).where(liveInApp),
    db
      .select({ n: count() })
      .from(subscriptions)
      .innerJoin(
        authorizations,
        and(eq(authorizations.appId, subscriptions.appId), eq(authorizations.userId, subscriptions.userId), isNull(authorizations.endedAt)),
      )
      .where(and(liveInApp, like(authorizations.scope, '%dm.read%'))),
  ]);
  return { all: all.n, directMessages: dm.n };
}

/** One page of a webhook's subscribed users, oldest subscription first; `after` is the previous page's `nextToken`. */
export async function webhookSubscribers(
  db: Database,
  webhookId: string,
  page: { after?: string; limit: number },
): Promise<{ subscribers: { userId: string; since: number }[]; nextToken: string | null }> {
  const rows = await db
    .select({ id: subscriptions.id, userId: subscriptions.userId, since: subscriptions.createdAt })
    .from(subscriptions)
    .where(
      and(eq(subscriptions.webhookId, webhookId), isNull(subscriptions.endedAt), page.after ? gt(subscriptions.id, page.after) : undefined),
    )
    .orderBy(asc(subscriptions.id))
    .limit(page.limit + 1);
  const shown = rows.slice(0, page.limit);
  return {
    subscribers: shown.map((r) => ({ userId: r.userId, since: r.since })),
    nextToken: rows.length > page.limit ? shown[shown.length - 1].id : null,
  };
}
