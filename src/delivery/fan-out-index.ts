import { settings } from '../config';
import { insertActivitiesAndLookUp, knownActivities, lookUpSubscribers, markFannedOut } from '../db/activities';
import {
  type AudienceEntry,
  activityKeysObjectName,
  audienceIndexObjectName,
  byIndexShard,
  collectSubscribers,
  indexShardOf,
  type RecordedActivity,
  type Subscribers,
} from '../domain/fan-out-index';
import { newId } from '../domain/ids';
import { unavailableTryAgain } from '../errors';
import { countingD1 } from '../observability/work-counters';

/**
 * What ingest asks of its index (docs/scaling.md): record each activity id once, giving it one
 * event id, and look up which apps have a live subscription for any of the activities' users (AAA or
 * XAA: a public-event XAA subscription needs no authorization by the user), in one round; then mark
 * the activities' fan-out done. In D1 (`FAN_OUT_INDEX=d1`), or in objects off D1's single writer.
 * Concurrent posts of one id agree on its event id.
 */
export interface FanOutIndex {
  recordAndLookUp(
    activities: { id: string; type: string }[],
    users: string[],
    now: number,
  ): Promise<{ recorded: Map<string, RecordedActivity> } & Subscribers>;
  markFannedOut(ids: string[], at: number): Promise<void>;
}

export const activityKeysObject = (env: Env, shard: number) =>
  env.ACTIVITY_KEYS.get(env.ACTIVITY_KEYS.idFromName(activityKeysObjectName(shard)));
export const audienceIndexObject = (env: Env, shard: number) =>
  env.AUDIENCE_INDEX.get(env.AUDIENCE_INDEX.idFromName(audienceIndexObjectName(shard)));

export function fanOutIndex(env: Env): FanOutIndex {
  const { kind, shards } = settings(env).fanOutIndex;
  return kind === 'objects' ? objectsIndex(env, shards) : d1Index(env);
}

function d1Index(env: Env): FanOutIndex {
  return {
    async recordAndLookUp(activities, users, now) {
      // This isolate proposes the event ids; one that collides with another isolate's fails the round
      // (the event id is unique too), and the round is drawn again.
      for (let round = 0; ; round++) {
        try {
          const rows = activities.map((a) => ({ id: a.id, eventId: newId(now), type: a.type }));
          const { inserted, ...subscribers } = await insertActivitiesAndLookUp(env.DB, rows, users, now);
          const recorded = new Map(inserted.map((row) => [row.id, row]));
          // Ids already known (a repeat post, or a concurrent one that won): read back what they were given.
          const known = [...new Set(rows.map((r) => r.id))].filter((id) => !recorded.has(id));
          if (known.length > 0) for (const row of await knownActivities(env.DB, known)) recorded.set(row.id, row);
          return { recorded, ...subscribers };
        } catch (err) {
          if (round >= 2 || !/UNIQUE/i.test(String(err))) throw err;
        }
      }
    },
    markFannedOut: (ids, at) => markFannedOut(env.DB, ids, at),
  };
}

function objectsIndex(env: Env, shards: number): FanOutIndex {
  return {
    async recordAndLookUp(activities, users, now) {
      const [records, subscribers] = await Promise.all([
        Promise.all(
          // The objects mint the event ids themselves (activity-keys-object.ts).
          [...byIndexShard(activities, (a) => a.id, shards)].map(([shard, part]) =>
            activityKeysObject(env, shard).record(
              shard,
              part.map((r) => r.id),
              now,
            ),
          ),
        ),
        lookUpAudience(env, users, shards),
      ]);
      return { recorded: new Map(records.flat().map((row) => [row.id, row])), ...subscribers };
    },
    async markFannedOut(ids, at) {
      await Promise.all(
        [...byIndexShard(ids, (id) => id, shards)].map(([shard, part]) => activityKeysObject(env, shard).markFannedOut(part, at)),
      );
    },
  };
}

/** Subscribers of `users` from the audience index once it is complete for `shards`; from D1 until then. */
async function lookUpAudience(env: Env, users: string[], shards: number): Promise<Subscribers> {
  if (users.length === 0 || !(await audienceIndexComplete(env, shards))) return lookUpSubscribers(env.DB, users);
  const parts = await Promise.all(
    [...byIndexShard(users, (u) => u, shards)].map(([shard, part]) => audienceIndexObject(env, shard).lookUp(part)),
  );
  return collectSubscribers(parts.flat());
}

/**
 * Shard counts whose audience index this isolate has seen complete. For a given count completeness
 * never goes back (the fill is started afresh only under another count), so a true answer is kept.
 */
const completeFor = new Set<number>();

export async function audienceIndexComplete(env: Env, shards: number): Promise<boolean> {
  if (completeFor.has(shards)) return true;
  const row = await countingD1(env.DB).prepare('SELECT shards, complete_at FROM fan_out_index_state WHERE id = 1').first<{
    shards: number;
    complete_at: number | null;
  }>();
  const complete = row?.shards === shards && row.complete_at !== null;
  if (complete) completeFor.add(shards);
  return complete;
}

/**
 * A subscription is about to be recorded for `entry.userId`: the audience index learns of it first,
 * so that it never holds less than D1 does (a failure here fails the request before D1 changes).
 * Done whatever `FAN_OUT_INDEX` says, so switching to `objects` finds the index current.
 */
export async function addToAudienceIndex(env: Env, entry: AudienceEntry): Promise<void> {
  const { shards } = settings(env).fanOutIndex;
  try {
    await audienceIndexObject(env, indexShardOf(entry.userId, shards)).add([entry], Date.now());
  } catch (err) {
    console.error(`audience index: adding app ${entry.appId} for user ${entry.userId} failed`, err);
    throw unavailableTryAgain('the subscription could not be recorded (the fan-out index did not answer); nothing changed, try again');
  }
}
