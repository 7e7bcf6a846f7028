import { shardOfUser } from './shards';

/**
 * The two indexes ingest reads with `FAN_OUT_INDEX=objects` (docs/scaling.md), each spread over
 * `FAN_OUT_INDEX_SHARDS` objects: activity ids (the idempotency record) by the id, users (who
 * subscribes to them) by the user id. Same stable hash as delivery shards.
 */
export const indexShardOf = (key: string, shards: number): number => shardOfUser(key, shards);

export const activityKeysObjectName = (shard: number) => `activity-keys:${shard}`;
export const audienceIndexObjectName = (shard: number) => `audience:${shard}`;

/** An activity id as ingest recorded it: the event id it was given, and when its fan-out finished. */
export type RecordedActivity = { id: string; eventId: string; fannedOutAt: number | null };

/** One app that may want activities concerning one user, and how many delivery shards the app has. */
export type AudienceEntry = { userId: string; appId: string; shards: number };

/** An entry as D1's look-up and the index objects' tables give it. */
export type AudienceRow = { user_id: string; app_id: string; delivery_shards: number };

export const audienceEntryOf = (r: AudienceRow): AudienceEntry => ({ userId: r.user_id, appId: r.app_id, shards: r.delivery_shards });

/** Who subscribes: per user, the apps with a live subscription for them; per app, its delivery shard count. */
export type Subscribers = { appsByUser: Map<string, Set<string>>; shardsByApp: Map<string, number> };

/** The look-up's answer, from D1's rows or the audience index's entries alike. */
export function collectSubscribers(entries: Iterable<AudienceEntry>): Subscribers {
  const appsByUser = new Map<string, Set<string>>();
  const shardsByApp = new Map<string, number>();
  for (const { userId, appId, shards } of entries) {
    appsByUser.set(userId, (appsByUser.get(userId) ?? new Set<string>()).add(appId));
    shardsByApp.set(appId, shards);
  }
  return { appsByUser, shardsByApp };
}

/** Groups `items` by the index shard of their key. */
export function byIndexShard<T>(items: T[], keyOf: (item: T) => string, shards: number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const shard = indexShardOf(keyOf(item), shards);
    const group = groups.get(shard);
    if (group) group.push(item);
    else groups.set(shard, [item]);
  }
  return groups;
}
