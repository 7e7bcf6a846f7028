import { and, eq, isNull, lte } from 'drizzle-orm';
import { getApp } from '../db/apps';
import { database } from '../db/client';
import { appStatusHistory, apps, appTokens } from '../db/schema';
import { AppDelivery } from './app-objects';
import { awaitFence } from './withdrawal';

/**
 * The operator's decisions on an app: approve it (pending or suspended → active) or suspend it.
 * `/internal/apps` and the operator console both call these, so a decision is the same change
 * whichever way it is made.
 */

/**
 * Approves the app. Widening: D1 first, then the object. The object call is made even when D1
 * already says active, so approving again completes an approval whose object call failed (the
 * object ignores a change older than the one it has).
 */
export async function approveApp(env: Env, appId: string): Promise<void> {
  const db = database(env);
  const app = await getApp(db, appId);
  let at = app.statusChangedAt;
  if (app.status !== 'active') {
    at = Date.now();
    await db.batch([
      db.update(apps).set({ status: 'active', statusReason: null, statusChangedAt: at }).where(eq(apps.id, app.id)),
      db.insert(appStatusHistory).values({ appId: app.id, status: 'active', at }),
    ]);
  }
  await AppDelivery.of(env, app).setAppStatus('active', at);
}

/**
 * Suspends the app: its tokens stop working and nothing more is delivered to it. A withdrawal: the
 * object stops delivering first; D1 records the moment it took effect there, and this returns only
 * once nothing the object handed out before can still start.
 */
export async function suspendApp(env: Env, appId: string, reason: string): Promise<void> {
  const db = database(env);
  const app = await getApp(db, appId);
  const withdrawal = await AppDelivery.of(env, app).setAppStatus('suspended', Date.now());
  const now = withdrawal.effectiveAt;
  await db.batch([
    // Newer wins, as in the object: an approval recorded meanwhile is not overwritten.
    db
      .update(apps)
      .set({ status: 'suspended', statusReason: reason, statusChangedAt: now })
      .where(and(eq(apps.id, app.id), lte(apps.statusChangedAt, now))),
    db.insert(appStatusHistory).values({ appId: app.id, status: 'suspended', at: now, reason }),
    db
      .update(appTokens)
      .set({ revokedAt: now })
      .where(and(eq(appTokens.appId, app.id), isNull(appTokens.revokedAt))),
  ]);
  await awaitFence(env, withdrawal);
}
