import { and, asc, eq, inArray } from 'drizzle-orm';
import { database } from '../db/client';
import { type AppRow, type AuthorizationRow, apps, authorizations, subscriptions, xaaSubscriptions } from '../db/schema';
import { AppDelivery } from './app-objects';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** One app in a user's access report, as `GET /internal/users/:id/access` and the Connected apps page show it. */
export interface AppAccess {
  app_id: string;
  name: string;
  status: AppRow['status'];
  authorizations: { scope: string; granted_at: string | null; ended_at: string | null; end_reason: AuthorizationRow['endReason'] }[];
  subscriptions: { webhook_id: string; subscribed_at: string | null; ended_at: string | null; end_reason: string | null }[];
  /** X Activity API subscriptions naming this user (`webhook_id` null: the app's stream only). */
  xaa_subscriptions: {
    subscription_id: string;
    event_type: string;
    webhook_id: string | null;
    subscribed_at: string | null;
    ended_at: string | null;
    end_reason: string | null;
  }[];
  received: {
    event_type: string;
    delivered: number;
    answered_non_2xx: number;
    outcome_unknown: number;
    streamed: number;
    first_at: string | null;
    last_at: string | null;
  }[];
}

export interface AccessReport {
  user_id: string;
  apps: AppAccess[];
}

/**
 * Transparency for one user: every app they ever authorized (scopes and times) or that ever held an
 * X Activity API subscription naming them (public events need no authorization), their
 * subscriptions, and per app what of their events it received or may have received, by type, first
 * and last. Only the objects of those apps are asked. Apps come in the order the user first
 * authorized them, then those with only XAA subscriptions, in the order they subscribed.
 */
export async function accessReport(env: Env, userId: string): Promise<AccessReport> {
  const db = database(env);
  const [grants, xaaRows] = await Promise.all([
    db.select().from(authorizations).where(eq(authorizations.userId, userId)).orderBy(asc(authorizations.createdAt)),
    db.select().from(xaaSubscriptions).where(eq(xaaSubscriptions.userId, userId)).orderBy(asc(xaaSubscriptions.createdAt)),
  ]);
  const appIds = [...new Set([...grants.map((g) => g.appId), ...xaaRows.map((s) => s.appId)])];
  if (appIds.length === 0) return { user_id: userId, apps: [] };
  const [appRows, subscriptionRows] = await Promise.all([
    db.select().from(apps).where(inArray(apps.id, appIds)),
    db
      .select()
      .from(subscriptions)
      .where(and(eq(subscriptions.userId, userId), inArray(subscriptions.appId, appIds))),
  ]);
  const summaries = await Promise.all(appIds.map((appId) => AppDelivery.of(env, appRows.find((a) => a.id === appId)!).userSummary(userId)));
  const data = appIds.map((appId, i): AppAccess => {
    const app = appRows.find((a) => a.id === appId)!;
    return {
      app_id: appId,
      name: app.name,
      status: app.status,
      authorizations: grants
        .filter((g) => g.appId === appId)
        .map((g) => ({ scope: g.scope, granted_at: iso(g.createdAt), ended_at: iso(g.endedAt), end_reason: g.endReason })),
      subscriptions: subscriptionRows
        .filter((s) => s.appId === appId)
        .map((s) => ({ webhook_id: s.webhookId, subscribed_at: iso(s.createdAt), ended_at: iso(s.endedAt), end_reason: s.endReason })),
      xaa_subscriptions: xaaRows
        .filter((s) => s.appId === appId)
        .map((s) => ({
          subscription_id: s.id,
          event_type: s.eventType,
          webhook_id: s.webhookId,
          subscribed_at: iso(s.createdAt),
          ended_at: iso(s.endedAt),
          end_reason: s.endReason,
        })),
      // What the app received or may have received of this user's data: acknowledged, answered
      // with an error (the receiver got the request), outcome unknown (it may have), or written
      // to the app's XAA stream.
      received: summaries[i].map((s) => ({
        event_type: s.event_type,
        delivered: s.delivered,
        answered_non_2xx: s.answered_non_2xx,
        outcome_unknown: s.outcome_unknown,
        streamed: s.streamed,
        first_at: iso(s.first_at),
        last_at: iso(s.last_at),
      })),
    };
  });
  return { user_id: userId, apps: data };
}
