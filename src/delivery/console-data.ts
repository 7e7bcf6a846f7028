import type { WebhookHealth } from '../app-object/health';
import { getApp, listApps, statusHistory } from '../db/apps';
import { database } from '../db/client';
import type { AppRow, AppStatus, WebhookRow } from '../db/schema';
import { liveWebhooks } from '../db/webhooks';
import { AppDelivery } from './app-objects';

/**
 * What the operator console shows: the review queue, the apps with their webhooks' health (read from
 * each app's own object), and one app's status history. Health is read-only and cheap per app; an
 * object that cannot answer shows as unavailable instead of failing the page.
 */

/** How many apps one page of the console lists (each costs one call to its object). */
export const APPS_PER_PAGE = 20;

export interface AppWithHealth {
  app: AppRow;
  /** Null when the app's object could not be asked. */
  health: WebhookHealth[] | null;
}

async function healthOf(env: Env, app: AppRow): Promise<WebhookHealth[] | null> {
  const appId = app.id;
  try {
    return await AppDelivery.of(env, app).webhookHealth();
  } catch (err) {
    console.error(`console: the object of app ${appId} did not answer for its webhooks' health`, err);
    return null;
  }
}

/** The review queue: one page of pending apps, newest first (no health: they cannot have webhooks yet). */
export function pendingApps(env: Env, before?: string): Promise<{ apps: AppRow[]; nextToken: string | null }> {
  return listApps(database(env), { status: 'pending', before, limit: APPS_PER_PAGE });
}

/** One page of apps, newest first, optionally of one status, each with its webhooks' health. */
export async function appsWithHealth(
  env: Env,
  options: { status?: AppStatus; before?: string; limit?: number },
): Promise<{ apps: AppWithHealth[]; nextToken: string | null }> {
  const page = await listApps(database(env), { status: options.status, before: options.before, limit: options.limit ?? APPS_PER_PAGE });
  const health = await Promise.all(page.apps.map((app) => healthOf(env, app)));
  return { apps: page.apps.map((app, i) => ({ app, health: health[i] })), nextToken: page.nextToken };
}

/** One app for the console: the app, its status history with reasons, its live webhooks with their health. */
export async function appForConsole(
  env: Env,
  appId: string,
): Promise<{
  app: AppRow;
  history: Awaited<ReturnType<typeof statusHistory>>;
  webhooks: { row: WebhookRow; health: WebhookHealth | null }[];
  healthAvailable: boolean;
}> {
  const db = database(env);
  const app = await getApp(db, appId);
  const [history, rows, health] = await Promise.all([statusHistory(db, app.id), liveWebhooks(db, app.id), healthOf(env, app)]);
  return {
    app,
    history,
    webhooks: rows.map((row) => ({ row, health: health?.find((h) => h.id === row.id) ?? null })),
    healthAvailable: health !== null,
  };
}
