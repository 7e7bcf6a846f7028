import { and, asc, eq, inArray } from 'drizzle-orm';
import { Hono } from 'hono';
import { requirePlatform } from '../auth/platform';
import { database } from '../db/client';
import { apps, authorizations, subscriptions, xaaSubscriptions } from '../db/schema';
import { appObject } from '../delivery/app-objects';
import { byPlatform, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { pathIds } from '../http/validation';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const internalUsers = new Hono<HonoEnv>()
  .use(requirePlatform, rateLimit('platform:other', byPlatform))
  /**
   * Transparency for one user: every app they ever authorized (scopes and times) or that ever held an
   * X Activity API subscription naming them (public events need no authorization), their
   * subscriptions, and per app what of their events it received or may have received, by type, first
   * and last. Only the objects of those apps are asked.
   */
  .get('/:user_id/access', pathIds({ user_id: undefined }), async (c) => {
    const userId = c.req.valid('param').user_id;
    const db = database(c.env);
    const [grants, xaaRows] = await Promise.all([
      db.select().from(authorizations).where(eq(authorizations.userId, userId)).orderBy(asc(authorizations.createdAt)),
      db.select().from(xaaSubscriptions).where(eq(xaaSubscriptions.userId, userId)).orderBy(asc(xaaSubscriptions.createdAt)),
    ]);
    const appIds = [...new Set([...grants.map((g) => g.appId), ...xaaRows.map((s) => s.appId)])];
    if (appIds.length === 0) return c.json({ data: { user_id: userId, apps: [] } });
    const [appRows, subscriptionRows] = await Promise.all([
      db.select().from(apps).where(inArray(apps.id, appIds)),
      db
        .select()
        .from(subscriptions)
        .where(and(eq(subscriptions.userId, userId), inArray(subscriptions.appId, appIds))),
    ]);
    const summaries = await Promise.all(appIds.map((appId) => appObject(c.env, appId).userSummary(appId, userId)));
    const data = appIds.map((appId, i) => {
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
        // X Activity API subscriptions naming this user (webhook_id null: the app's stream only).
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
    return c.json({ data: { user_id: userId, apps: data } });
  });
