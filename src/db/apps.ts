import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import { notFound } from '../errors';
import type { Database } from './client';
import { type AppRow, type AppStatus, appStatusHistory, apps } from './schema';

/** The app, or undefined if there is none. */
export async function findApp(db: Database, appId: string): Promise<AppRow | undefined> {
  const [row] = await db.select().from(apps).where(eq(apps.id, appId)).limit(1);
  return row;
}

export async function getApp(db: Database, appId: string): Promise<AppRow> {
  const app = await findApp(db, appId);
  if (!app) throw notFound(`no app ${appId}`);
  return app;
}

/** The app as the platform sees it: everything but secret material. */
export const appView = (app: AppRow) => ({
  id: app.id,
  name: app.name,
  description: app.description,
  status: app.status,
  ...(app.statusReason ? { status_reason: app.statusReason } : {}),
  consumer_key: app.consumerKey,
  max_webhooks: app.maxWebhooks,
  provisioned_subscriptions: app.provisionedSubscriptions,
  xaa_tier: app.xaaTier,
  delivery_shards: app.deliveryShards,
  created_at: new Date(app.createdAt).toISOString(),
  status_changed_at: new Date(app.statusChangedAt).toISOString(),
});

/** Ids are decimal snowflakes: compared as numbers, they order apps by creation. */
const numericId = sql`CAST(${apps.id} AS INTEGER)`;

/**
 * One page of apps, newest first, optionally of one status. `before` is the previous page's
 * `nextToken`: apps created before that one.
 */
export async function listApps(
  db: Database,
  options: { status?: AppStatus; before?: string; limit: number },
): Promise<{ apps: AppRow[]; nextToken: string | null }> {
  const conditions: SQL[] = [];
  if (options.status) conditions.push(eq(apps.status, options.status));
  if (options.before) conditions.push(sql`${numericId} < CAST(${options.before} AS INTEGER)`);
  const rows = await db
    .select()
    .from(apps)
    .where(and(...conditions))
    .orderBy(desc(numericId))
    .limit(options.limit + 1);
  const page = rows.slice(0, options.limit);
  return { apps: page, nextToken: rows.length > options.limit ? page[page.length - 1].id : null };
}

/** Every status the app has had, oldest first, with the operator's reason where one was given. */
export async function statusHistory(db: Database, appId: string): Promise<{ status: AppStatus; at: number; reason: string | null }[]> {
  return db
    .select({ status: appStatusHistory.status, at: appStatusHistory.at, reason: appStatusHistory.reason })
    .from(appStatusHistory)
    .where(eq(appStatusHistory.appId, appId))
    .orderBy(asc(appStatusHistory.at));
}
