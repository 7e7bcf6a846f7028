import { eq } from 'drizzle-orm';
import { notFound } from '../errors';
import type { Database } from './client';
import { type AppRow, apps } from './schema';

async function findApp(db: Database, appId: string): Promise<AppRow | undefined> {
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
  created_at: new Date(app.createdAt).toISOString(),
  status_changed_at: new Date(app.statusChangedAt).toISOString(),
});
