import { and, eq, isNull, lte } from 'drizzle-orm';
import { settings } from '../config';
import { type Database, database } from '../db/client';
import { fanOutRetries } from '../db/schema';
import type { TimedActivity } from '../domain/activities';
import { audienceOf } from '../domain/audience';
import type { DeliveryMessage } from '../domain/delivery-protocol';
import { objectKeyOf, shardOfUser } from '../domain/shards';
import { xaaUsersOf } from '../domain/xaa-events';
import { unavailableTryAgain } from '../errors';
import { AppDelivery, appObject } from './app-objects';
import { enqueueDeliveries } from './enqueue';
import { fanOutIndex } from './fan-out-index';

/**
 * Puts the releases of several objects on their queues (fast and slow): one sendBatch per 100
 * releases across all of them, not one per object. Ids only, keyed by app and shard.
 */
const enqueueReleases = (env: Env, results: { releases: DeliveryMessage[][] }[]) =>
  Promise.all([
    enqueueDeliveries(
      env.DELIVERY_QUEUE,
      results.flatMap((r) => r.releases[0]),
    ),
    enqueueDeliveries(
      env.DELIVERY_SLOW_QUEUE,
      results.flatMap((r) => r.releases[1]),
    ),
  ]);

/** Whom an activity concerns on either API: its AAA audience and the users XAA filters can name. */
const audienceUsersOf = (activity: TimedActivity): string[] => [...new Set([...audienceOf(activity), ...xaaUsersOf(activity)])];

/**
 * Forgets activity ids older than the dedupe window (docs/operations.md): re-posting such an id
 * later delivers it again. Bounded work per call; the cron calls it every minute.
 */
export async function purgeActivities(env: Env, now: number, limit = 1_000): Promise<number> {
  const cutoff = now - settings(env).activityDedupeMs;
  const result = await env.DB.prepare(
    'DELETE FROM activities WHERE rowid IN (SELECT rowid FROM activities WHERE received_at < ? AND fanned_out_at IS NOT NULL LIMIT ?)',
  )
    .bind(cutoff, limit)
    .run();
  return result.meta.changes;
}

/** First retry of a failed share after this; each later one waits twice as long, up to an hour. */
const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 3_600_000;
export const fanOutBackoff = (attempts: number) => Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1), RETRY_MAX_MS);

async function keepForRetry(
  db: Database,
  failed: { appId: string; eventId: string; activity: TimedActivity; error: string }[],
  now: number,
) {
  const rows = failed.map((f) =>
    db
      .insert(fanOutRetries)
      .values({
        eventId: f.eventId,
        appId: f.appId,
        activity: JSON.stringify(f.activity),
        attempts: 1,
        nextAt: now + fanOutBackoff(1),
        createdAt: now,
        lastError: f.error.slice(0, 500),
      })
      .onConflictDoNothing(),
  );
  await db.batch(rows as [(typeof rows)[number], ...typeof rows]);
}

/**
 * Finishes shares of activities that an app's object could not take at ingest (the cron runs this
 * every minute): each due one is handed over again; a success removes it, a failure waits longer.
 * Past the payload retention it is given up and stays on the record with `gave_up_at`.
 */
export async function retryFanOuts(env: Env, now: number, limit = 100): Promise<{ retried: number; done: number; gaveUp: number }> {
  const db = database(env);
  const due = await db
    .select()
    .from(fanOutRetries)
    .where(and(isNull(fanOutRetries.gaveUpAt), lte(fanOutRetries.nextAt, now)))
    .orderBy(fanOutRetries.nextAt)
    .limit(limit);
  const retentionMs = settings(env).retention.payloadMs;
  const report = { retried: due.length, done: 0, gaveUp: 0 };
  await Promise.all(
    due.map(async (row) => {
      const key = and(eq(fanOutRetries.eventId, row.eventId), eq(fanOutRetries.appId, row.appId));
      if (now - row.createdAt > retentionMs || row.activity === null) {
        report.gaveUp++;
        await db.update(fanOutRetries).set({ gaveUpAt: now, activity: null }).where(key);
        return;
      }
      try {
        // Every shard of the app the activity concerns takes it again: a shard that took it before
        // ignores it (ingest is idempotent per event id).
        const activity: TimedActivity = JSON.parse(row.activity);
        const app = await AppDelivery.load(env, row.appId);
        const shards = new Set(audienceUsersOf(activity).map((u) => app.shardOf(u)));
        const results = await Promise.all([...shards].map((k) => app.shard(k).ingest(row.appId, [{ eventId: row.eventId, activity }])));
        await enqueueReleases(env, results);
        await db.delete(fanOutRetries).where(key);
        report.done++;
      } catch (err) {
        await db
          .update(fanOutRetries)
          .set({ attempts: row.attempts + 1, nextAt: now + fanOutBackoff(row.attempts + 1), lastError: String(err).slice(0, 500) })
          .where(key);
      }
    }),
  );
  return report;
}

/**
 * Fan-out, in the Worker: records the activities (idempotent by activity id), asks D1 which apps
 * subscribe any audience user (AAA audience and XAA filter users), hands each app's events to that app's object (which re-checks
 * entitlement itself) and puts the releases on the queue.
 */
export async function fanOut(env: Env, list: TimedActivity[], now: number, requestId: string) {
  const db = database(env);
  // Whom each activity concerns on either API: the object sorts out which deliveries each app is entitled to.
  const audiences = new Map(list.map((a) => [a.id, audienceUsersOf(a)]));
  const users = [...new Set([...audiences.values()].flat())];
  const index = fanOutIndex(env);
  const { recorded, appsByUser, shardsByApp } = await index.recordAndLookUp(list, users, now).catch((err) => {
    console.error(`request ${requestId}: recording the activities failed`, err);
    throw unavailableTryAgain('the activities could not be recorded; nothing was delivered, post the same activities again');
  });

  // Events still to fan out: new ones, and earlier ones whose fan-out did not finish.
  const pending = new Map<string, { eventId: string; activity: TimedActivity; audience: string[] }>();
  for (const activity of list) {
    const row = recorded.get(activity.id)!;
    if (row.fannedOutAt === null && !pending.has(activity.id)) {
      pending.set(activity.id, { eventId: row.eventId, activity, audience: audiences.get(activity.id)! });
    }
  }
  // One share per object: an app's event goes to the shard of each of its users it concerns
  // (src/domain/shards.ts), and to an unsharded app's one object.
  const shares = new Map<string, { appId: string; shard: number; events: { eventId: string; activity: TimedActivity }[] }>();
  for (const event of pending.values()) {
    const objects = new Map<string, { appId: string; shard: number }>();
    for (const user of event.audience) {
      for (const appId of appsByUser.get(user) ?? []) {
        const shard = shardOfUser(user, shardsByApp.get(appId) ?? 1);
        objects.set(objectKeyOf({ app: appId, shard }), { appId, shard });
      }
    }
    for (const [key, object] of objects) {
      const share = shares.get(key) ?? { ...object, events: [] };
      share.events.push({ eventId: event.eventId, activity: event.activity });
      shares.set(key, share);
    }
  }
  // Each share is handed over on its own: one app's failing object delays only that app. A share
  // that fails is kept for the service to finish itself (retryFanOuts, run by the cron).
  const results = await Promise.allSettled(
    [...shares.values()].map(({ appId, shard, events }) => appObject(env, appId, shard).ingest(appId, events)),
  );
  const failed = [...shares.values()].flatMap(({ appId, events }, i) => {
    const result = results[i];
    return result.status === 'rejected' ? events.map((e) => ({ appId, ...e, error: String(result.reason) })) : [];
  });
  try {
    if (failed.length > 0) await keepForRetry(db, failed, now);
    const delivered = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    // If this fails, the objects' release lease puts them on the queue again.
    await enqueueReleases(env, delivered).catch((err) =>
      console.error(`request ${requestId}: queue send failed; the objects release again after their lease`, err),
    );
  } catch (err) {
    console.error(`request ${requestId}: fan-out failed`, err);
    throw unavailableTryAgain('fan-out did not finish; post the same activities again');
  }
  // Every object has its share by now: if the mark fails, the answer is still 202, and a repost fans
  // out again, which each object ignores (ingest is idempotent per event id there).
  await index
    .markFannedOut([...pending.keys()], Date.now())
    .catch((err) => console.error(`request ${requestId}: marking the fan-out done failed; a repost would fan out again`, err));
  return { eventIds: list.map((a) => recorded.get(a.id)!.eventId), duplicates: list.length - pending.size };
}
