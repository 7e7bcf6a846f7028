import { perStorage } from './mirror-cache';
import type { MessageRow, OutboxRow } from './outbox-rows';

/**
 * Outbox rows and their messages, kept in memory between calls. A delivery's rows are read again on
 * every step (release, claim, hand-out, report, retry): without this, each delivery ran about eight
 * `SELECT ... WHERE seq = ?` statements, a third of the object's statements (docs/scaling.md). It is
 * one object's own memory (an object holds one app), so nothing in it can answer for another tenant.
 *
 * Why it cannot go stale: every write to `outbox` and to a message still in it goes through Outbox,
 * which puts the row as written here (`RETURNING *`) or drops it, in the same synchronous step;
 * retention, which rewrites and deletes messages by age, drops the whole cache; and the object's
 * SQLite writes are never rolled back under a live instance (a failed commit restarts the object, and
 * its memory with it). Code that writes those tables by raw SQL (test helpers moving time) must call
 * `forgetOutboxCache`.
 */
export interface OutboxCache {
  messages: Map<number, MessageRow>;
  rows: Map<number, OutboxRow>;
}

/** Rows kept before the cache starts over: bounds memory when a replay fills the outbox. */
const MAX_ROWS = 5_000;

const caches = perStorage<OutboxCache>(() => ({ messages: new Map(), rows: new Map() }));

export const outboxCacheOf = (sql: SqlStorage): OutboxCache => caches.of(sql);

/** Drops everything cached for this database: after writing `outbox` or `messages` other than through Outbox. */
export function forgetOutboxCache(sql: SqlStorage): void {
  const cache = caches.peek(sql);
  cache?.messages.clear();
  cache?.rows.clear();
}

/** Keeps a row as last written or read (`cache.messages` or `cache.rows`), starting over past MAX_ROWS. */
export function keep<T extends { seq: number }>(rows: Map<number, T>, row: T): T {
  if (rows.size >= MAX_ROWS) rows.clear();
  rows.set(row.seq, row);
  return row;
}
