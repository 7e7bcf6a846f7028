import { platform } from './http';

/** A user object as activities carry it. */
export const testUser = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `User ${id}`,
  screen_name: `user${id}`,
  ...extra,
});

let lastId = 0;
/** An activity id not used before in this test file (ingest is idempotent by id, across tests too). */
export const uniqueId = (prefix: string) => `${prefix}-${++lastId}`;

/** Posts one activity, or a batch of several, as the platform does; expects 202. */
export async function ingest(...activities: Record<string, unknown>[]) {
  const res = await platform('POST', '/internal/activity', activities.length === 1 ? activities[0] : { activities });
  if (res.status !== 202) throw new Error(`ingest: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { accepted: number; event_ids: string[]; duplicates: number };
}
