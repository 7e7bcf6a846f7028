import { settings } from '../config';
import { type AudienceEntry, type AudienceRow, audienceEntryOf, byIndexShard } from '../domain/fan-out-index';
import { countingD1 } from '../observability/work-counters';
import { audienceIndexObject } from './fan-out-index';

/** Live (user, app) pairs the fill adds per page, and pages per cron run. */
const FILL_PAGE = 500;
const FILL_PAGES_PER_RUN = 4;
/** An entry not added again for this long is checked against D1, at most this many per shard per run. */
export const AUDIENCE_RECHECK_AFTER_MS = 7 * 24 * 3_600_000;
const RECHECK_PER_SHARD = 200;

type StateRow = { shards: number; after_user: string | null; after_app: string | null; complete_at: number | null };

/**
 * The cron's upkeep of the fan-out's audience index (fan-out-index.ts, docs/scaling.md), whatever
 * `FAN_OUT_INDEX` says: fills it from D1's live subscriptions until it is complete for the
 * configured shard count, and removes entries no live subscription stands behind any more.
 */
export async function keepAudienceIndex(
  env: Env,
  now: number,
): Promise<{ added: number; complete: boolean; checked: number; removed: number }> {
  const { shards } = settings(env).fanOutIndex;
  const [fill, prune] = await Promise.all([fillAudienceIndex(env, shards, now), pruneAudienceIndex(env, shards, now)]);
  return { ...fill, ...prune };
}

/**
 * Adds D1's live subscriptions to the index page by page, in (user, app) order, from where the last
 * run stopped; marks the index complete after the last page. Subscriptions created meanwhile are
 * added by their own request (addToAudienceIndex), so one pass suffices. A new shard count starts
 * the fill over, and ingest reads D1 until it completes.
 */
export async function fillAudienceIndex(env: Env, shards: number, now: number): Promise<{ added: number; complete: boolean }> {
  const db = countingD1(env.DB);
  let state = await db.prepare('SELECT shards, after_user, after_app, complete_at FROM fan_out_index_state WHERE id = 1').first<StateRow>();
  if (state?.shards !== shards) {
    await db
      .prepare(
        `INSERT INTO fan_out_index_state (id, shards, after_user, after_app, complete_at) VALUES (1, ?, NULL, NULL, NULL)
         ON CONFLICT (id) DO UPDATE SET shards = excluded.shards, after_user = NULL, after_app = NULL, complete_at = NULL`,
      )
      .bind(shards)
      .run();
    state = { shards, after_user: null, after_app: null, complete_at: null };
  }
  if (state.complete_at !== null) return { added: 0, complete: true };
  let added = 0;
  let after = { user: state.after_user ?? '', app: state.after_app ?? '' };
  for (let page = 0; page < FILL_PAGES_PER_RUN; page++) {
    const { results } = await db
      .prepare(
        `SELECT s.user_id, s.app_id, a.delivery_shards FROM (
           SELECT * FROM (SELECT user_id, app_id FROM subscriptions WHERE ended_at IS NULL AND (user_id, app_id) > (?1, ?2)
                          ORDER BY user_id, app_id LIMIT ?3)
           UNION
           SELECT * FROM (SELECT user_id, app_id FROM xaa_subscriptions WHERE ended_at IS NULL AND (user_id, app_id) > (?1, ?2)
                          ORDER BY user_id, app_id LIMIT ?3)
         ) s JOIN apps a ON a.id = s.app_id ORDER BY s.user_id, s.app_id LIMIT ?3`,
      )
      .bind(after.user, after.app, FILL_PAGE)
      .all<AudienceRow>();
    const entries = results.map(audienceEntryOf);
    await Promise.all(
      [...byIndexShard(entries, (e) => e.userId, shards)].map(([shard, part]) => audienceIndexObject(env, shard).add(part, now)),
    );
    added += entries.length;
    const last = entries.at(-1);
    if (last) after = { user: last.userId, app: last.appId };
    const done = entries.length < FILL_PAGE;
    await db
      .prepare('UPDATE fan_out_index_state SET after_user = ?, after_app = ?, complete_at = ? WHERE id = 1 AND shards = ?')
      .bind(after.user, after.app, done ? now : null, shards)
      .run();
    if (done) return { added, complete: true };
  }
  return { added, complete: false };
}

/**
 * Checks entries not added again for AUDIENCE_RECHECK_AFTER_MS against D1: kept (and not checked
 * again for as long) if a live subscription stands behind them, removed if none does. An entry added
 * again while it is checked is kept: the object removes only entries still untouched since then.
 */
export async function pruneAudienceIndex(env: Env, shards: number, now: number): Promise<{ checked: number; removed: number }> {
  const before = now - AUDIENCE_RECHECK_AFTER_MS;
  const results = await Promise.all(
    Array.from({ length: shards }, async (_, shard) => {
      const index = audienceIndexObject(env, shard);
      const candidates = await index.untouchedSince(before, RECHECK_PER_SHARD);
      if (candidates.length === 0) return { checked: 0, removed: 0 };
      const live = await livePairs(env, candidates);
      const verdict = {
        live: candidates.filter((e) => live.has(pairKey(e))),
        gone: candidates.filter((e) => !live.has(pairKey(e))),
      };
      return { checked: candidates.length, removed: await index.settle(verdict, before, now) };
    }),
  );
  return { checked: results.reduce((n, r) => n + r.checked, 0), removed: results.reduce((n, r) => n + r.removed, 0) };
}

const pairKey = (e: { userId: string; appId: string }) => JSON.stringify([e.userId, e.appId]);

/** Which of the (user, app) pairs have a live subscription of either API in D1, in one statement. */
async function livePairs(env: Env, entries: AudienceEntry[]): Promise<Set<string>> {
  const { results } = await countingD1(env.DB)
    .prepare(
      `SELECT p.u AS user_id, p.a AS app_id FROM (
         SELECT json_extract(value, '$[0]') AS u, json_extract(value, '$[1]') AS a FROM json_each(?)
       ) p
       WHERE EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = p.u AND s.app_id = p.a AND s.ended_at IS NULL)
          OR EXISTS (SELECT 1 FROM xaa_subscriptions x WHERE x.user_id = p.u AND x.app_id = p.a AND x.ended_at IS NULL)`,
    )
    .bind(JSON.stringify(entries.map((e) => [e.userId, e.appId])))
    .all<{ user_id: string; app_id: string }>();
  return new Set(results.map((r) => pairKey({ userId: r.user_id, appId: r.app_id })));
}
