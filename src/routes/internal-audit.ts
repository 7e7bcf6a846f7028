import { asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { requirePlatform } from '../auth/platform';
import { type Database, database } from '../db/client';
import { appStatusHistory, apps, authorizations, subscriptions, webhooks } from '../db/schema';
import { appObject } from '../delivery/app-delivery-object';
import { type AppHistory, violationOf } from '../domain/audit';
import { invalid } from '../errors';
import { byPlatform, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { query, timeQuery } from '../http/validation';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const DAY = 86_400_000;
/** Ledger entries fetched from an object per call while verifying. */
const VERIFY_PAGE = 2000;

async function appHistory(db: Database, appId: string): Promise<AppHistory> {
  const [statusRows, webhookRows, subscriptionRows, authorizationRows] = await Promise.all([
    db.select().from(appStatusHistory).where(eq(appStatusHistory.appId, appId)).orderBy(asc(appStatusHistory.at)),
    db.select().from(webhooks).where(eq(webhooks.appId, appId)),
    db.select().from(subscriptions).where(eq(subscriptions.appId, appId)),
    db.select().from(authorizations).where(eq(authorizations.appId, appId)),
  ]);
  return {
    statusChanges: statusRows.map((r) => ({ status: r.status, at: r.at })),
    webhooks: webhookRows.map((w) => ({ id: w.id, createdAt: w.createdAt, deletedAt: w.deletedAt })),
    subscriptions: subscriptionRows.map((s) => ({ webhookId: s.webhookId, userId: s.userId, createdAt: s.createdAt, endedAt: s.endedAt })),
    authorizations: authorizationRows.map((a) => ({ userId: a.userId, scope: a.scope, createdAt: a.createdAt, endedAt: a.endedAt })),
  };
}

const windowQuery = z.object({ from: timeQuery.optional(), to: timeQuery.optional() });

function window(q: { from?: number; to?: number }, defaultSpanMs: number) {
  const to = q.to ?? Date.now() + 1;
  const from = q.from ?? to - defaultSpanMs;
  if (from >= to) throw invalid('from must be before to', 'QueryParamInvalid', [{ parameter: 'from', message: 'must be before to' }]);
  return { from, to };
}

export const internalAudit = new Hono<HonoEnv>()
  .use(requirePlatform, rateLimit('platform:other', byPlatform))
  /**
   * Re-checks every request sent in [from, to) (default: the last 24 h) against the kept subscription,
   * authorization, webhook and app-status history in D1: independent of the objects that decided to
   * send. Each violation names the app, the user and the event, enough to notify the user.
   */
  .get('/verify', query(windowQuery), async (c) => {
    const { from, to } = window(c.req.valid('query'), DAY);
    const db = database(c.env);
    const appRows = await db.select({ id: apps.id, name: apps.name }).from(apps);
    let checked = 0;
    const violations: Record<string, unknown>[] = [];
    // One app at a time keeps memory bounded; each object is paged through.
    for (const app of appRows) {
      const object = appObject(c.env, app.id);
      let history: AppHistory | null = null;
      for (let afterId = 0; ; ) {
        const entries = await object.sentIn(app.id, from, to, afterId, VERIFY_PAGE);
        if (entries.length === 0) break;
        history ??= await appHistory(db, app.id);
        for (const e of entries) {
          checked++;
          const reason = violationOf(
            {
              kind: e.kind,
              eventType: e.event_type,
              webhookId: e.webhook_id,
              forUserId: e.for_user_id,
              ingestedAt: e.ingested_at,
              at: e.at,
            },
            history,
          );
          if (reason) {
            violations.push({
              app_id: app.id,
              app_name: app.name,
              for_user_id: e.for_user_id || null,
              event_type: e.event_type,
              event_id: e.event_id,
              delivery_id: e.delivery_id,
              webhook_id: e.webhook_id,
              attempt: e.attempt,
              outcome: e.outcome,
              ingested_at: iso(e.ingested_at),
              attempted_at: iso(e.at),
              reason,
            });
          }
        }
        afterId = entries[entries.length - 1].id;
        if (entries.length < VERIFY_PAGE) break;
      }
    }
    return c.json({ data: { from: iso(from), to: iso(to), apps: appRows.length, checked, violations } });
  });
