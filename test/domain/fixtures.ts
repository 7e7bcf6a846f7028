import { activitySchema, type TimedActivity } from '../../src/domain/activities';
import { type AaaActivity, isAaa } from '../../src/domain/audience';

export const u = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: `User ${id}`, screen_name: `user${id}`, ...extra });
export const tweet = (id: string, author: ReturnType<typeof u>, extra: Record<string, unknown> = {}) => ({
  id,
  text: `tweet ${id}`,
  author,
  ...extra,
});

export const AT = Date.UTC(2018, 9, 10, 20, 19, 24); // Wed Oct 10 20:19:24 +0000 2018

/** Parses like ingest does, so tests exercise the same shapes the service sees. */
export function activity(input: Record<string, unknown>): TimedActivity {
  const parsed = activitySchema.parse({ id: 'a1', created_at: AT, ...input });
  return { ...parsed, created_at: parsed.created_at ?? AT };
}

/** An activity Account Activity webhooks receive (the test fails if it is an XAA-only type). */
export function aaaActivity(input: Record<string, unknown>): AaaActivity {
  const parsed = activity(input);
  if (!isAaa(parsed)) throw new Error(`${parsed.type} has no Account Activity event`);
  return parsed;
}
