import { inArray, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { requirePlatform } from '../auth/platform';
import { type Database, database } from '../db/client';
import { activities } from '../db/schema';
import { appObject } from '../delivery/app-delivery-object';
import { activitySchema, type TimedActivity } from '../domain/activities';
import { audienceOf } from '../domain/audience';
import { newId } from '../domain/ids';
import { renderPayload } from '../domain/payloads';
import { ApiError, type FieldError, invalid } from '../errors';
import { byPlatform, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { fieldErrors, parseJsonBody } from '../http/validation';

const MAX_BATCH = 100;
/** A rendered payload must fit one Cloudflare Queue message (128 KB), whatever carries it. */
const MAX_PAYLOAD_BYTES = 128 * 1024;
const encoder = new TextEncoder();
/** D1 allows 100 bound parameters per statement; lists are sent in chunks below that. */
const IN_CHUNK = 90;

const chunks = <T>(items: T[], size = IN_CHUNK): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** One activity, or `{"activities":[…]}` with 1-100; any invalid element rejects the whole batch. */
function parseActivities(body: unknown, now: number): TimedActivity[] {
  const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'activities' in body;
  const items = isBatch ? (body as { activities: unknown }).activities : [body];
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_BATCH) {
    throw invalid(`activities must be an array of 1-${MAX_BATCH} activities`, undefined, [
      { parameter: 'activities', message: `must hold 1-${MAX_BATCH} activities` },
    ]);
  }
  const errors: FieldError[] = [];
  const parsed: TimedActivity[] = [];
  items.forEach((item, index) => {
    const result = activitySchema.safeParse(item);
    if (result.success) parsed.push({ ...result.data, created_at: result.data.created_at ?? now });
    else errors.push(...fieldErrors(result.error, isBatch ? `activities[${index}]` : undefined));
  });
  if (errors.length > 0) {
    throw invalid(`invalid activity: ${errors[0].parameter}: ${errors[0].message}; nothing was accepted`, undefined, errors);
  }
  // The payload is the same for every audience user but for `for_user_id`: render it once to size it.
  parsed.forEach((activity, index) => {
    const size = encoder.encode(renderPayload(activity, '0'.repeat(19))).byteLength;
    if (size > MAX_PAYLOAD_BYTES) {
      const parameter = isBatch ? `activities[${index}]` : 'body';
      throw new ApiError(
        'payload-too-large',
        `${parameter} would render a ${size}-byte payload; at most ${MAX_PAYLOAD_BYTES} bytes fit one delivery; nothing was accepted`,
        {
          errors: [{ parameter, message: `renders to ${size} bytes, more than ${MAX_PAYLOAD_BYTES}` }],
        },
      );
    }
  });
  return parsed;
}

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

export const internalActivity = new Hono<HonoEnv>().post('/', requirePlatform, rateLimit('platform:ingest', byPlatform), async (c) => {
  const now = Date.now();
  const list = parseActivities(parseJsonBody(await c.req.arrayBuffer(), c.req.header('content-type')), now);
  const db = database(c.env);
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
    const results = await Promise.all([...eventsByApp].map(([appId, events]) => appObject(c.env, appId).ingest(appId, events)));
    // One sendBatch per 100 releases across all apps, not one per app: ids only, keyed by app.
    const releases = results.flatMap((r) => r.releases);
    await Promise.all(chunks(releases, 100).map((part) => c.env.DELIVERY_QUEUE.sendBatch(part.map((body) => ({ body })))));
  } catch (err) {
    console.error(`request ${c.get('requestId')}: fan-out failed`, err);
    throw new ApiError('service-unavailable', 'fan-out did not finish; post the same activities again', {
      headers: { 'retry-after': '1' },
    });
  }
  const done = [...pending.keys()];
  await Promise.all(chunks(done).map((part) => db.update(activities).set({ fannedOutAt: Date.now() }).where(inArray(activities.id, part))));
  const eventIds = list.map((a) => recorded.get(a.id)!.eventId);
  return c.json({ data: { accepted: list.length, event_ids: eventIds, duplicates: list.length - pending.size } }, 202);
});
