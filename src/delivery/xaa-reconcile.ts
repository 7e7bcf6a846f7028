import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { ReconcileActions } from '../app-object/reconcile';
import type { Database } from '../db/client';
import { xaaSubscriptions } from '../db/schema';
import { xaaRecordOf } from '../db/xaa-subscriptions';
import { compareXaaRows } from '../domain/drift';
import type { AppObjectStub } from './app-objects';
import type { DriftReport, SharedPages } from './reconcile';

/** D1 rows compared per object call. */
const PAGE = 500;

/**
 * The drift check's part for X Activity API subscriptions (docs/delivery.md, "D1 and the objects
 * agree"): D1's live rows page by page against the object's mirror of the same ids. What the object
 * has not heard of, or holds in another version, is put to it as D1 has it; what it ended is ended
 * in D1 at the object's time; what it holds live that D1 does not is ended in the object.
 */
export async function reconcileXaa(
  db: Database,
  object: AppObjectStub,
  appId: string,
  shard: { belongs: (userId: string) => boolean; pages: SharedPages },
  plan: { differences: DriftReport['differences']; actions: ReconcileActions; d1Writes: Promise<unknown>[] | null },
): Promise<void> {
  for (let after = '0'; ; ) {
    const fullPage = await shard.pages.read(`xaa_subscriptions:${after}`, () =>
      db
        .select()
        .from(xaaSubscriptions)
        .where(
          and(
            eq(xaaSubscriptions.appId, appId),
            isNull(xaaSubscriptions.endedAt),
            sql`CAST(${xaaSubscriptions.id} AS INTEGER) > CAST(${after} AS INTEGER)`,
          ),
        )
        .orderBy(asc(sql`CAST(${xaaSubscriptions.id} AS INTEGER)`))
        .limit(PAGE),
    );
    const upTo = fullPage.length === PAGE ? fullPage[fullPage.length - 1].id : null;
    const page = fullPage.filter((r) => shard.belongs(r.userId));
    const mirrored = await object.xaaMirrorRows(
      appId,
      page.map((r) => r.id),
      { after, upTo },
    );
    const toState = (r: (typeof mirrored.rows)[number]) => ({
      id: r.id,
      userId: r.user_id,
      eventType: r.event_type,
      webhookId: r.webhook_id,
      tag: r.tag,
      ended: r.ended_at !== null,
      endedAt: r.ended_at,
    });
    const drifts = compareXaaRows(page, mirrored.rows.map(toState), mirrored.liveInRange.map(toState));
    for (const drift of drifts) {
      plan.differences.push({
        kind: drift.kind,
        table: 'xaa_subscriptions',
        id: drift.id,
        user_id: drift.userId,
        ...('detail' in drift ? { detail: drift.detail } : {}),
      });
      if (drift.kind === 'object_behind' || drift.kind === 'object_differs') {
        plan.actions.xaaPuts.push(xaaRecordOf(page.find((r) => r.id === drift.id)!));
      } else if (drift.kind === 'object_wider') {
        plan.actions.endXaa.push({ id: drift.id, userId: drift.userId });
      } else if (plan.d1Writes) {
        plan.d1Writes.push(
          db
            .update(xaaSubscriptions)
            .set({ endedAt: drift.endedAt, endReason: 'deleted' })
            .where(and(inArray(xaaSubscriptions.id, [drift.id]), isNull(xaaSubscriptions.endedAt))),
        );
      }
    }
    if (upTo === null) return;
    after = upTo;
  }
}
