import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { ReconcileActions } from '../app-object/reconcile';
import { type Database, database } from '../db/client';
import { apps, authorizations, subscriptions, webhooks } from '../db/schema';
import { compareRows, compareStatus, type D1Row, type Drift } from '../domain/drift';
import { AppDelivery, type AppObjectStub } from './app-objects';
import { reconcileXaa } from './xaa-reconcile';

/** D1 rows compared per object call. */
const PAGE = 500;

export interface DriftReport {
  app_id: string;
  in_step: boolean;
  status: string;
  /** `shard`: which of a sharded app's objects differs (src/domain/shards.ts). */
  differences: { kind: string; table: string; id: string; user_id?: string; detail?: string; shard?: number }[];
}

/**
 * The drift check and reconcile (docs/delivery.md, "D1 and the objects agree"): reads one app's live
 * control plane from D1 page by page, asks the app's object for its mirror of the same rows, and lists
 * every difference (src/domain/drift.ts). With `apply`, it then brings the two together: what the
 * object has not heard of is pushed to it, what the object ended is ended in D1 at the object's time,
 * and anything live in the object but not in D1 is ended in the object.
 */
export async function reconcileApp(env: Env, appId: string, apply: boolean): Promise<DriftReport> {
  const db = database(env);
  const [app] = await db.select().from(apps).where(eq(apps.id, appId));
  const delivery = AppDelivery.of(env, app);
  // Each shard against the part of D1 it mirrors: the app-wide rows, and its own users' rows. D1 is
  // read once for all of them.
  const pages = new SharedPages(delivery.shards);
  const d1Webhooks = await db.select().from(webhooks).where(eq(webhooks.appId, appId));
  const reports = await delivery.every((object, shard) =>
    reconcileShard(db, object, { app, d1Webhooks, pages }, (userId) => delivery.shardOf(userId) === shard, apply),
  );
  if (reports.length === 1) return reports[0];
  return {
    app_id: appId,
    in_step: reports.every((r) => r.in_step),
    status: app.status,
    differences: reports.flatMap((r, shard) => r.differences.map((d) => ({ ...d, shard }))),
  };
}

/**
 * D1 pages of one reconcile, read once and handed to every shard's comparison. A page is forgotten
 * once every shard has taken it, so only the pages between the fastest and the slowest shard are held.
 */
export class SharedPages {
  private readonly pages = new Map<string, { rows: Promise<unknown[]>; taken: number }>();

  constructor(private readonly readers: number) {}

  read<T>(key: string, load: () => Promise<T[]>): Promise<T[]> {
    const page = this.pages.get(key) ?? { rows: load(), taken: 0 };
    this.pages.set(key, page);
    if (++page.taken === this.readers) this.pages.delete(key);
    return page.rows as Promise<T[]>;
  }
}

async function reconcileShard(
  db: Database,
  object: AppObjectStub,
  d1: { app: typeof apps.$inferSelect; d1Webhooks: (typeof webhooks.$inferSelect)[]; pages: SharedPages },
  belongs: (userId: string) => boolean,
  apply: boolean,
): Promise<DriftReport> {
  const { app, d1Webhooks, pages } = d1;
  const appId = app.id;
  const summary = await object.mirrorSummary(appId);
  const actions: ReconcileActions = {
    grants: [],
    scopes: [],
    subscriptions: [],
    endAuthorizations: [],
    endSubscriptions: [],
    webhookValidity: [],
    deleteWebhooks: [],
    xaaPuts: [],
    endXaa: [],
    consumerSecretHash: summary.stagedConsumerSecret ? app.consumerSecretHash : undefined,
  };
  const differences: DriftReport['differences'] = [];
  const d1Writes: Promise<unknown>[] = [];

  const status = compareStatus({ status: app.status, at: app.statusChangedAt }, { status: summary.status, at: summary.statusChangedAt });
  if (status.kind !== 'in_step') {
    differences.push({ kind: status.kind, table: 'apps', id: appId, detail: `D1 ${app.status}, object ${summary.status}` });
    if (status.kind === 'object_behind') actions.status = { status: app.status, at: app.statusChangedAt };
    else if (apply)
      d1Writes.push(db.update(apps).set({ status: summary.status, statusChangedAt: summary.statusChangedAt }).where(eq(apps.id, appId)));
  }

  for (const w of d1Webhooks) {
    const mirrored = summary.webhooks.find((m) => m.id === w.id);
    if (!mirrored) continue;
    if (w.deletedAt !== null && !mirrored.deleted) {
      differences.push({ kind: 'object_wider', table: 'webhooks', id: w.id, detail: 'deleted in D1, live in the object' });
      actions.deleteWebhooks.push(w.id);
    } else if (w.deletedAt === null && w.valid !== mirrored.valid) {
      const d1At = w.lastCrcAt ?? w.createdAt;
      const objectAt = mirrored.validChangedAt ?? 0;
      differences.push({
        kind: d1At >= objectAt ? 'object_behind' : 'd1_behind',
        table: 'webhooks',
        id: w.id,
        detail: `valid: D1 ${w.valid}, object ${mirrored.valid}`,
      });
      if (d1At >= objectAt) actions.webhookValidity.push({ id: w.id, valid: w.valid, at: d1At });
      else if (apply) d1Writes.push(db.update(webhooks).set({ valid: mirrored.valid, lastCrcAt: objectAt }).where(eq(webhooks.id, w.id)));
    }
  }

  const liveAuths = new Map<string, string>(); // user -> live D1 authorization id
  for (const table of ['authorizations', 'subscriptions'] as const) {
    for (let after = '0'; ; ) {
      const fullPage = await pages.read(`${table}:${after}`, () => livePage(db, table, appId, after));
      const upTo = fullPage.length === PAGE ? fullPage[fullPage.length - 1].id : null;
      const page = fullPage.filter((r) => belongs(r.userId));
      if (table === 'authorizations') for (const r of page) liveAuths.set(r.userId, r.id);
      const mirrored = await object.mirrorRows(
        appId,
        table,
        page.map((r) => r.id),
        { after, upTo },
      );
      const toState = (r: (typeof mirrored.rows)[number]) => ({
        id: r.id ?? '',
        userId: r.user_id,
        ended: r.ended_at !== null,
        endedAt: r.ended_at,
        scope: 'scope' in r ? (r.scope as string) : undefined,
        webhookId: 'webhook_id' in r ? (r.webhook_id as string) : undefined,
      });
      for (const drift of compareRows(table, page, mirrored.rows.map(toState), mirrored.liveInRange.map(toState))) {
        record(drift, differences);
        plan(drift, actions, liveAuths, apply ? d1Writes : null, db);
      }
      if (upTo === null) break;
      after = upTo;
    }
  }

  await reconcileXaa(db, object, appId, { belongs, pages }, { differences, actions, d1Writes: apply ? d1Writes : null });

  if (apply) {
    await object.applyReconcile(appId, actions);
    await Promise.all(d1Writes);
  }
  return { app_id: appId, in_step: differences.length === 0 && !actions.consumerSecretHash, status: app.status, differences };
}

async function livePage(db: Database, table: 'authorizations' | 'subscriptions', appId: string, after: string): Promise<D1Row[]> {
  if (table === 'authorizations') {
    const rows = await db
      .select()
      .from(authorizations)
      .where(
        and(
          eq(authorizations.appId, appId),
          isNull(authorizations.endedAt),
          sql`CAST(${authorizations.id} AS INTEGER) > CAST(${after} AS INTEGER)`,
        ),
      )
      .orderBy(asc(sql`CAST(${authorizations.id} AS INTEGER)`))
      .limit(PAGE);
    return rows.map((r) => ({ id: r.id, userId: r.userId, scope: r.scope, createdAt: r.createdAt }));
  }
  const rows = await db
    .select()
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.appId, appId),
        isNull(subscriptions.endedAt),
        sql`CAST(${subscriptions.id} AS INTEGER) > CAST(${after} AS INTEGER)`,
      ),
    )
    .orderBy(asc(sql`CAST(${subscriptions.id} AS INTEGER)`))
    .limit(PAGE);
  return rows.map((r) => ({ id: r.id, userId: r.userId, webhookId: r.webhookId, createdAt: r.createdAt }));
}

function record(drift: Drift, differences: DriftReport['differences']): void {
  const id = 'row' in drift ? drift.row.id : drift.id;
  const userId = 'row' in drift ? drift.row.userId : 'userId' in drift ? drift.userId : undefined;
  differences.push({ kind: drift.kind, table: drift.table, id, ...(userId ? { user_id: userId } : {}) });
}

function plan(
  drift: Drift,
  actions: ReconcileActions,
  liveAuths: Map<string, string>,
  d1Writes: Promise<unknown>[] | null,
  db: Database,
): void {
  switch (drift.kind) {
    case 'object_behind':
      if (drift.table === 'authorizations') {
        actions.grants.push({
          authorizationId: drift.row.id,
          userId: drift.row.userId,
          scope: drift.row.scope ?? '',
          at: drift.row.createdAt,
        });
      } else {
        const authorizationId = liveAuths.get(drift.row.userId);
        if (authorizationId) {
          actions.subscriptions.push({
            id: drift.row.id,
            webhookId: drift.row.webhookId ?? '',
            userId: drift.row.userId,
            authorizationId,
            at: drift.row.createdAt,
          });
        }
      }
      return;
    case 'object_narrower':
      actions.scopes.push({ authorizationId: drift.row.id, userId: drift.row.userId, scope: drift.row.scope ?? '' });
      return;
    case 'd1_behind': {
      if (!d1Writes) return;
      const table = drift.table === 'authorizations' ? authorizations : subscriptions;
      d1Writes.push(
        db
          .update(table)
          .set({ endedAt: drift.endedAt })
          .where(and(inArray(table.id, [drift.id]), isNull(table.endedAt))),
      );
      return;
    }
    case 'object_wider':
      if (drift.table === 'authorizations') actions.endAuthorizations.push({ id: drift.id, userId: drift.userId });
      else actions.endSubscriptions.push({ id: drift.id, userId: drift.userId, webhookId: '' });
      return;
  }
}

/** Apps reconciled per cron run, least recently reconciled first. */
const APPS_PER_RUN = 20;

/** The cron's pass: reconciles the apps least recently compared, so every app converges in turn. */
export async function reconcileDueApps(env: Env, now: number): Promise<{ reconciled: number; drifted: string[] }> {
  const db = database(env);
  const due = await db
    .select({ id: apps.id })
    .from(apps)
    .orderBy(sql`${apps.reconciledAt} IS NOT NULL`, asc(apps.reconciledAt))
    .limit(APPS_PER_RUN);
  const drifted: string[] = [];
  for (const { id } of due) {
    try {
      const report = await reconcileApp(env, id, true);
      if (!report.in_step) drifted.push(id);
      await db.update(apps).set({ reconciledAt: now }).where(eq(apps.id, id));
    } catch (err) {
      console.error(`reconcile of app ${id} failed; the next run tries again`, err);
    }
  }
  return { reconciled: due.length, drifted };
}
