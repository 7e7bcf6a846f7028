import { DurableObject } from 'cloudflare:workers';
import { settings } from '../config';
import type { RecordedActivity } from '../domain/fan-out-index';
import { idGenerator, RESERVED_NODES } from '../domain/ids';
import { countCall, countingSql } from '../observability/work-counters';

/** The purge runs this often while the object remembers any id. */
const PURGE_EVERY_MS = 3_600_000;
/** Ids forgotten per purge pass; the next pass follows at once while more are due. */
const PURGE_BATCH = 5_000;

/**
 * Ingest's idempotency record for the activity ids that hash to this object (`FAN_OUT_INDEX=objects`,
 * docs/scaling.md): each id is given one event id, minted here the first time it is posted (ids.ts
 * explains why they cannot collide with any other), and is marked once
 * its fan-out is done, so a repeat post within the dedupe window delivers nothing again. The object
 * runs one call at a time, so two concurrent posts of one id agree on its event id.
 */
export class ActivityKeysObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = countingSql(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS activity_keys (
        id TEXT PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, received_at INTEGER NOT NULL, fanned_out_at INTEGER
      ) WITHOUT ROWID`);
      this.sql.exec('CREATE INDEX IF NOT EXISTS activity_keys_received ON activity_keys (received_at)');
    });
  }

  /** Event ids minted here: this object's shard is their node, so no other object or isolate mints the same. */
  private mint: ((nowMs?: number) => string) | null = null;

  /**
   * Records each id not known yet, giving it an event id minted here; returns every id's row as kept
   * (a known id keeps the event id it was first given). The ids are the shard's own: the caller routes
   * them by `indexShardOf`, and `shard` is this object's number.
   */
  async record(shard: number, ids: string[], now: number): Promise<RecordedActivity[]> {
    countCall('activity_keys.record');
    if (!Number.isInteger(shard) || shard < 0 || shard >= RESERVED_NODES) throw new Error(`activity keys: shard ${shard} is out of range`);
    this.mint ??= idGenerator(shard);
    const kept = new Map<string, RecordedActivity>();
    this.ctx.storage.transactionSync(() => {
      for (const id of ids) {
        if (kept.has(id)) continue;
        const known = this.sql
          .exec<{ event_id: string; fanned_out_at: number | null }>('SELECT event_id, fanned_out_at FROM activity_keys WHERE id = ?', id)
          .toArray()[0];
        if (known) {
          kept.set(id, { id, eventId: known.event_id, fannedOutAt: known.fanned_out_at });
          continue;
        }
        // One object, one sequence: a fresh id only repeats one this object made before a restart on a
        // clock that stepped back, which the unique event id catches; the next one is drawn then.
        let eventId = this.mint!(now);
        while (this.sql.exec('SELECT 1 FROM activity_keys WHERE event_id = ?', eventId).toArray().length > 0) eventId = this.mint!(now);
        this.sql.exec('INSERT INTO activity_keys (id, event_id, received_at) VALUES (?, ?, ?)', id, eventId, now);
        kept.set(id, { id, eventId, fannedOutAt: null });
      }
    });
    // The purge runs on the object's clock, whatever time the caller recorded the ids at.
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PURGE_EVERY_MS);
    return [...kept.values()];
  }

  /** The ids' fan-out is done: a repeat post of them delivers nothing again. */
  async markFannedOut(ids: string[], at: number): Promise<void> {
    countCall('activity_keys.mark_fanned_out');
    this.ctx.storage.transactionSync(() => {
      for (const id of ids) this.sql.exec('UPDATE activity_keys SET fanned_out_at = ? WHERE id = ? AND fanned_out_at IS NULL', at, id);
    });
  }

  /** Forgets fanned-out ids older than the dedupe window, as D1's purge does (src/delivery/fan-out.ts). */
  async alarm(): Promise<void> {
    countCall('activity_keys.alarm');
    const now = Date.now();
    const cutoff = now - settings(this.env).activityDedupeMs;
    const forgotten = this.sql
      .exec(
        `DELETE FROM activity_keys WHERE id IN (
           SELECT id FROM activity_keys WHERE received_at < ? AND fanned_out_at IS NOT NULL ORDER BY received_at LIMIT ?)
         RETURNING id`,
        cutoff,
        PURGE_BATCH,
      )
      .toArray().length;
    const left = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM (SELECT 1 FROM activity_keys LIMIT 1)').one().n;
    if (forgotten >= PURGE_BATCH) await this.ctx.storage.setAlarm(now);
    else if (left > 0) await this.ctx.storage.setAlarm(now + PURGE_EVERY_MS);
  }

  /** How many ids the object remembers (operations and tests). */
  async size(): Promise<number> {
    countCall('activity_keys.size');
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM activity_keys').one().n;
  }
}
