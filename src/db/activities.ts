import { type AudienceRow, audienceEntryOf, collectSubscribers, type RecordedActivity, type Subscribers } from '../domain/fan-out-index';
import { countingD1 } from '../observability/work-counters';

/**
 * The ingest path's D1 statements, as plain prepared SQL over the same tables drizzle describes in
 * schema.ts (`activities`, `subscriptions`, `xaa_subscriptions`). Ingest runs them for every activity
 * posted; building them through drizzle cost about a tenth of the local runtime's CPU in a
 * many-app flood (`bench/profile.mjs`), and one multi-row insert replaces one statement per activity.
 */

/** D1 allows 100 bound parameters per statement. */
const MAX_PARAMS = 100;

const split = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** `?, ?, …`: one placeholder per value, for an `IN (…)` list. */
const marks = (values: unknown[]) => values.map(() => '?').join(', ');

/** An `activities` row as the statements below return it. */
type ActivityRow = { id: string; event_id: string; fanned_out_at: number | null };

const toRecorded = (r: ActivityRow): RecordedActivity => ({
  id: r.id,
  eventId: r.event_id,
  fannedOutAt: r.fanned_out_at,
});

/**
 * Records each activity id once and, in the same round trip, asks which apps have a live
 * subscription (AAA or XAA) for any of `users`. Returns the rows this call inserted (an id already
 * known, or repeated in `list`, is not among them), the subscribers per user, and the delivery shard
 * count of each subscriber (src/domain/shards.ts).
 */
export async function insertActivitiesAndLookUp(
  binding: D1Database,
  list: { id: string; eventId: string; type: string }[],
  users: string[],
  now: number,
): Promise<{ inserted: RecordedActivity[] } & Subscribers> {
  const db = countingD1(binding);
  const inserts = split(list, Math.floor(MAX_PARAMS / 4)).map((part) =>
    db
      .prepare(
        `INSERT INTO activities (id, event_id, type, received_at) VALUES ${part.map(() => '(?, ?, ?, ?)').join(', ')}
         ON CONFLICT (id) DO NOTHING RETURNING id, event_id, fanned_out_at`,
      )
      .bind(...part.flatMap((a) => [a.id, a.eventId, a.type, now])),
  );
  const lookups = lookUpStatements(db, users);
  const results = await db.batch([...inserts, ...lookups]);
  const inserted = results.slice(0, inserts.length).flatMap((r) => (r.results as ActivityRow[]).map(toRecorded));
  return { inserted, ...subscribersFrom(results.slice(inserts.length)) };
}

/** The look-up alone, in D1 (`FAN_OUT_INDEX=objects` before its audience index is complete). */
export async function lookUpSubscribers(binding: D1Database, users: string[]): Promise<Subscribers> {
  const db = countingD1(binding);
  const lookups = lookUpStatements(db, users);
  return subscribersFrom(lookups.length === 0 ? [] : await db.batch(lookups));
}

function lookUpStatements(db: D1Database, users: string[]): D1PreparedStatement[] {
  return split(users, Math.floor(MAX_PARAMS / 2)).map((part) =>
    db
      .prepare(
        `SELECT s.app_id, s.user_id, a.delivery_shards FROM (
           SELECT app_id, user_id FROM subscriptions WHERE ended_at IS NULL AND user_id IN (${marks(part)})
           UNION SELECT app_id, user_id FROM xaa_subscriptions WHERE ended_at IS NULL AND user_id IN (${marks(part)})
         ) s JOIN apps a ON a.id = s.app_id`,
      )
      .bind(...part, ...part),
  );
}

function subscribersFrom(results: D1Result[]): Subscribers {
  return collectSubscribers(results.flatMap((r) => (r.results as AudienceRow[]).map(audienceEntryOf)));
}

/** The recorded rows of activity ids already known (a repeat post, or a concurrent one that won). */
export async function knownActivities(binding: D1Database, ids: string[]): Promise<RecordedActivity[]> {
  const db = countingD1(binding);
  const parts = split(ids, MAX_PARAMS);
  const results = await Promise.all(
    parts.map((part) =>
      db
        .prepare(`SELECT id, event_id, fanned_out_at FROM activities WHERE id IN (${marks(part)})`)
        .bind(...part)
        .all<ActivityRow>(),
    ),
  );
  return results.flatMap((r) => r.results.map(toRecorded));
}

/** Marks the activities' fan-out done: a repeat post of them delivers nothing again. */
export async function markFannedOut(binding: D1Database, ids: string[], at: number): Promise<void> {
  const db = countingD1(binding);
  await Promise.all(
    split(ids, MAX_PARAMS - 1).map((part) =>
      db
        .prepare(`UPDATE activities SET fanned_out_at = ? WHERE id IN (${marks(part)})`)
        .bind(at, ...part)
        .run(),
    ),
  );
}
