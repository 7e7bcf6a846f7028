import { and, asc, eq, gte } from 'drizzle-orm';
import { type Database, database } from '../db/client';
import {
  appStatusHistory,
  apps,
  authorizations,
  subscriptions,
  webhookHistory,
  webhooks,
  xaaSubscriptions,
  xaaSubscriptionTargets,
} from '../db/schema';
import { type AppHistory, violationOf } from '../domain/audit';
import { AppDelivery } from './app-objects';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Ledger entries read from an object per call. */
const PAGE = 500;
/** Apps looked at per request. */
const APPS_PER_REQUEST = 50;

/** Everything D1 kept about one app's control plane: what the audit re-derives entitlement from. */
export async function appHistory(db: Database, appId: string): Promise<AppHistory> {
  const [statusRows, webhookRows, stateRows, subscriptionRows, authorizationRows, xaaRows, targetRows] = await Promise.all([
    db.select().from(appStatusHistory).where(eq(appStatusHistory.appId, appId)).orderBy(asc(appStatusHistory.at)),
    db.select().from(webhooks).where(eq(webhooks.appId, appId)),
    db.select().from(webhookHistory).where(eq(webhookHistory.appId, appId)).orderBy(asc(webhookHistory.at)),
    db.select().from(subscriptions).where(eq(subscriptions.appId, appId)),
    db.select().from(authorizations).where(eq(authorizations.appId, appId)),
    db.select().from(xaaSubscriptions).where(eq(xaaSubscriptions.appId, appId)),
    db.select().from(xaaSubscriptionTargets).where(eq(xaaSubscriptionTargets.appId, appId)).orderBy(asc(xaaSubscriptionTargets.at)),
  ]);
  const targetsBySubscription = new Map<string, { webhookId: string | null; at: number }[]>();
  for (const t of targetRows) {
    const list = targetsBySubscription.get(t.subscriptionId) ?? [];
    list.push({ webhookId: t.webhookId, at: t.at });
    targetsBySubscription.set(t.subscriptionId, list);
  }
  return {
    statusChanges: statusRows.map((r) => ({ status: r.status, at: r.at })),
    webhooks: webhookRows.map((w) => ({
      id: w.id,
      createdAt: w.createdAt,
      deletedAt: w.deletedAt,
      states: stateRows.filter((s) => s.webhookId === w.id).map((s) => ({ at: s.at, url: s.url, valid: s.valid, deleted: s.deleted })),
    })),
    subscriptions: subscriptionRows.map((s) => ({ webhookId: s.webhookId, userId: s.userId, createdAt: s.createdAt, endedAt: s.endedAt })),
    authorizations: authorizationRows.map((a) => ({ userId: a.userId, scope: a.scope, createdAt: a.createdAt, endedAt: a.endedAt })),
    xaaSubscriptions: xaaRows.map((s) => ({
      id: s.id,
      userId: s.userId,
      createdAt: s.createdAt,
      endedAt: s.endedAt,
      targets: targetsBySubscription.get(s.id) ?? [],
    })),
  };
}

/** An attempt the kept history does not entitle: enough to tell the user what went where. */
export interface AuditViolation {
  app_id: string;
  app_name: string;
  for_user_id: string | null;
  event_type: string;
  event_id: string;
  delivery_id: string;
  /** null for a line on the app's XAA stream. */
  webhook_id: string | null;
  /** The XAA subscription the delivery was for. */
  subscription_id?: string;
  destination: string | null;
  attempt: number;
  outcome: string;
  ingested_at: string | null;
  attempted_at: string | null;
  started_at: string | null;
  reason: string;
}

export interface VerifyPage {
  checked: number;
  violations: AuditViolation[];
  /** Pass it back as `cursor` to go on; null when the window is fully checked. */
  nextCursor: string | null;
}

/**
 * One bounded page of the audit (docs/delivery.md, "Audit"): from `cursor` (`<app id>:<ledger id>`),
 * app by app in id order, it reads up to `budget` ledger entries of attempts that did or may have
 * reach a receiver in [from, to) and re-derives each one from D1's kept history, independently of
 * the objects that decided to send. Work per request is bounded, so the audit scales to millions of
 * ledger rows by following the cursor.
 */
export async function verifyPage(
  env: Env,
  options: { from: number; to: number; appId?: string; cursor?: string; budget: number },
): Promise<VerifyPage> {
  const db = database(env);
  const [startApp, startAfter] = options.cursor ? options.cursor.split(':') : [options.appId ?? '', '0'];
  const appRows = options.appId
    ? await db.select({ id: apps.id, name: apps.name, deliveryShards: apps.deliveryShards }).from(apps).where(eq(apps.id, options.appId))
    : await db
        .select({ id: apps.id, name: apps.name, deliveryShards: apps.deliveryShards })
        .from(apps)
        .where(and(gte(apps.id, startApp)))
        .orderBy(asc(apps.id))
        .limit(APPS_PER_REQUEST + 1);
  const result: VerifyPage = { checked: 0, violations: [], nextCursor: null };
  for (const [index, app] of appRows.entries()) {
    if (index === APPS_PER_REQUEST) {
      result.nextCursor = `${app.id}:0`;
      break;
    }
    const object = AppDelivery.of(env, app);
    let afterId = app.id === startApp ? Number(startAfter) : 0;
    let history: AppHistory | null = null;
    for (;;) {
      if (result.checked >= options.budget) {
        result.nextCursor = `${app.id}:${afterId}`;
        return result;
      }
      const entries = await object.sentIn(options.from, options.to, afterId, Math.min(PAGE, options.budget - result.checked));
      if (entries.length === 0) break;
      history ??= await appHistory(db, app.id);
      for (const e of entries) {
        result.checked++;
        const reason = violationOf(
          {
            kind: e.kind,
            eventType: e.event_type,
            webhookId: e.webhook_id,
            forUserId: e.for_user_id,
            ingestedAt: e.ingested_at,
            at: e.at,
            url: e.url,
            startBy: e.start_by,
            startedAt: e.started_at,
            xaaSubscriptionId: e.xaa_subscription_id,
          },
          history,
        );
        if (reason) {
          result.violations.push({
            app_id: app.id,
            app_name: app.name,
            for_user_id: e.for_user_id || null,
            event_type: e.event_type,
            event_id: e.event_id,
            delivery_id: e.delivery_id,
            webhook_id: e.webhook_id || null,
            ...(e.xaa_subscription_id ? { subscription_id: e.xaa_subscription_id } : {}),
            destination: e.url,
            attempt: e.attempt,
            outcome: e.outcome,
            ingested_at: iso(e.ingested_at),
            attempted_at: iso(e.at),
            started_at: iso(e.started_at),
            reason,
          });
        }
      }
      afterId = entries[entries.length - 1].id;
    }
  }
  return result;
}
