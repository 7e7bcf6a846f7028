import { inArray, sql } from 'drizzle-orm';
import { type Database, database } from '../db/client';
import { activities } from '../db/schema';
import type { TimedActivity } from '../domain/activities';
import { audienceOf } from '../domain/audience';
import { newId } from '../domain/ids';
import { ApiError } from '../errors';
import { appObject } from './app-objects';
import { enqueueDeliveries } from './enqueue';

/** D1 allows 100 bound parameters per statement; lists are sent in chunks below that. */
const IN_CHUNK = 90;

export const chunks = <T>(items: T[], size = IN_CHUNK): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * Records each activity id once and returns, per id, its event id and whether its fan-out is still
 * to be done. Concurrent posts of the same id agree on one event id: the insert is OR IGNORE and the
 * read-back sees the winner.
 */
async function claimActivities(db: Database, list: TimedActivity[], now: number) {
  const inserts = list.map((a) =>
    db
      .insert(activities)
      .values({ id: a.id, eventId: newId(now), type: a.type, receivedAt: now })
      .onConflictDoNothing(),
  );
  await db.batch(inserts as [(typeof inserts)[number], ...typeof inserts]);
  const ids = [...new Set(list.map((a) => a.id))];
  const rows = (await Promise.all(chunks(ids).map((part) => db.select().from(activities).where(inArray(activities.id, part))))).flat();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Which apps have a live subscription for which of these users: one indexed lookup per chunk. */
async function subscribedApps(db: Database, users: string[]): Promise<Map<string, Set<string>>> {
  const appsByUser = new Map<string, Set<string>>();
  const results = await Promise.all(
    chunks(users).map((part) =>
      db.all<{ app_id: string; user_id: string }>(
        sql`SELECT DISTINCT app_id, user_id FROM subscriptions WHERE ended_at IS NULL AND user_id IN ${part}`,
      ),
    ),
  );
  for (const { app_id, user_id } of results.flat()) {
    const set = appsByUser.get(user_id) ?? new Set<string>();
    set.add(app_id);
    appsByUser.set(user_id, set);
  }
  return appsByUser;
}

/**
 * Fan-out, in the Worker: records the activities (idempotent by activity id), asks D1 which apps
 * subscribe any audience user, hands each app's events to that app's object (which re-checks
 * entitlement itself) and puts the releases on the queue.
 */
export async function fanOut(env: Env, list: TimedActivity[], now: number, requestId: string) {
  const db = database(env);
  const recorded = await claimActivities(db, list, now);

  // Events still to fan out: new ones, and earlier ones whose fan-out did not finish.
  const pending = new Map<string, { eventId: string; activity: TimedActivity; audience: string[] }>();
  for (const activity of list) {
    const row = recorded.get(activity.id)!;
    if (row.fannedOutAt === null && !pending.has(activity.id)) {
      pending.set(activity.id, { eventId: row.eventId, activity, audience: audienceOf(activity) });
    }
  }
  const users = [...new Set([...pending.values()].flatMap((e) => e.audience))];
  const appsByUser = users.length ? await subscribedApps(db, users) : new Map<string, Set<string>>();
  const eventsByApp = new Map<string, { eventId: string; activity: TimedActivity }[]>();
  for (const event of pending.values()) {
    const apps = new Set(event.audience.flatMap((u) => [...(appsByUser.get(u) ?? [])]));
    for (const appId of apps) {
      const list = eventsByApp.get(appId) ?? [];
      list.push({ eventId: event.eventId, activity: event.activity });
      eventsByApp.set(appId, list);
    }
  }
  try {
    const results = await Promise.all([...eventsByApp].map(([appId, events]) => appObject(env, appId).ingest(appId, events)));
    // One sendBatch per 100 releases across all apps, not one per app: ids only, keyed by app.
    await Promise.all([
      enqueueDeliveries(
        env.DELIVERY_QUEUE,
        results.flatMap((r) => r.releases[0]),
      ),
      enqueueDeliveries(
        env.DELIVERY_SLOW_QUEUE,
        results.flatMap((r) => r.releases[1]),
      ),
    ]);
  } catch (err) {
    console.error(`request ${requestId}: fan-out failed`, err);
    throw new ApiError('service-unavailable', 'fan-out did not finish; post the same activities again', {
      headers: { 'retry-after': '1' },
    });
  }
  const done = [...pending.keys()];
  await Promise.all(chunks(done).map((part) => db.update(activities).set({ fannedOutAt: Date.now() }).where(inArray(activities.id, part))));
  return { eventIds: list.map((a) => recorded.get(a.id)!.eventId), duplicates: list.length - pending.size };
}
