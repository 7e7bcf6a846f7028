import { and, asc, eq, inArray } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { requirePlatform } from '../auth/platform';
import { getApp } from '../db/apps';
import { database } from '../db/client';
import { apps, authorizations, subscriptions } from '../db/schema';
import { appObject } from '../delivery/app-objects';
import { verifyPage } from '../delivery/audit-run';
import { invalid } from '../errors';
import { ledgerPageResponse } from '../http/ledger-view';
import { byPlatform, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { ledgerPage, pathId, query, timeQuery } from '../http/validation';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const DAY = 86_400_000;

const verifyQuery = z.object({
  from: timeQuery.optional(),
  to: timeQuery.optional(),
  app_id: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'must be a numeric id of 1-19 digits')
    .optional(),
  cursor: z
    .string()
    .regex(/^[0-9]{1,19}:[0-9]{1,19}$/, 'must be a next_cursor this endpoint returned')
    .optional(),
  max_entries: z.coerce.number().int().min(1).max(20_000).default(5_000),
});

const ledgerQuery = z.object({
  user_id: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'must be a numeric id of 1-19 digits')
    .optional(),
  from: timeQuery.optional(),
  to: timeQuery.optional(),
  ...ledgerPage,
});

function window(q: { from?: number; to?: number }, defaultSpanMs: number) {
  const to = q.to ?? Date.now() + 1;
  const from = q.from ?? to - defaultSpanMs;
  if (from >= to) throw invalid('from must be before to', 'QueryParamInvalid', [{ parameter: 'from', message: 'must be before to' }]);
  return { from, to };
}

const limited = rateLimit('platform:other', byPlatform);

export const internalAudit = new Hono<HonoEnv>()
  .use(requirePlatform)
  /** An app's delivery ledger, newest first. */
  .get('/apps/:app_id/deliveries', limited, query(ledgerQuery), async (c) => {
    const app = await getApp(database(c.env), pathId(c, 'app_id'));
    const q = c.req.valid('query');
    return ledgerPageResponse(c, app.id, { userId: q.user_id, from: q.from, to: q.to }, q);
  })
  /**
   * Transparency for one user: every app they ever authorized (scopes and times), their subscriptions,
   * and per app which of their events were delivered, by type, first and last. Only the objects of
   * apps the user authorized are asked.
   */
  .get('/users/:user_id/access', limited, async (c) => {
    const userId = pathId(c, 'user_id');
    const db = database(c.env);
    const grants = await db.select().from(authorizations).where(eq(authorizations.userId, userId)).orderBy(asc(authorizations.createdAt));
    const appIds = [...new Set(grants.map((g) => g.appId))];
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
        // What the app received or may have received of this user's data: acknowledged, answered
        // with an error (the receiver got the request), or outcome unknown (it may have).
        received: summaries[i].map((s) => ({
          event_type: s.event_type,
          delivered: s.delivered,
          answered_non_2xx: s.answered_non_2xx,
          outcome_unknown: s.outcome_unknown,
          first_at: iso(s.first_at),
          last_at: iso(s.last_at),
        })),
      };
    });
    return c.json({ data: { user_id: userId, apps: data } });
  })
  /**
   * Re-checks every request sent in [from, to) (default: the last 24 h) against the kept subscription,
   * authorization, webhook and app-status history in D1: independent of the objects that decided to
   * send. Each violation names the app, the user and the event, enough to notify the user.
   */
  .get('/audit/verify', limited, query(verifyQuery), async (c) => {
    const q = c.req.valid('query');
    const { from, to } = window(q, DAY);
    const page = await verifyPage(c.env, { from, to, appId: q.app_id, cursor: q.cursor, budget: q.max_entries });
    return c.json({
      data: { from: iso(from), to: iso(to), checked: page.checked, violations: page.violations },
      meta: page.nextCursor ? { next_cursor: page.nextCursor } : {},
    });
  });
