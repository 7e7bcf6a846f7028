import { DurableObject } from 'cloudflare:workers';
import { settings } from '../config';
import type { RecordedActivity } from '../domain/fan-out-index';
import { countCall, countingSql } from '../observability/work-counters';

/** The purge runs this often while the object remembers any id. */
const PURGE_EVERY_MS = 3_600_000;
/** Ids forgotten per purge pass; the next pass follows at once while more are due. */
const PURGE_BATCH = 5_000;

/**
 * Ingest's idempotency record for the activity ids that hash to this object (`FAN_OUT_INDEX=objects`,
 * docs/scaling.md): each id is given one event id, the first time it is posted, and is marked once
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

  /**
   * Records each id not known yet with its proposed event id; returns every id's row as kept (a known
   * id keeps the event id it was first given). Throws, recording nothing, if a proposed event id is
   * already another activity's: the caller draws new ones.
   */
  async record(rows: { id: string; eventId: string }[], now: number): Promise<RecordedActivity[]> {
    countCall('activity_keys.record');
    const kept = new Map<string, RecordedActivity>();
    this.ctx.storage.transactionSync(() => {
      for (const { id, eventId } of rows) {
        if (kept.has(id)) continue;
        this.sql.exec(
          'INSERT INTO activity_keys (id, event_id, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
          id,
          eventId,
          now,
        );
        const row = this.sql
          .exec<{ event_id: string; fanned_out_at: number | null }>('SELECT event_id, fanned_out_at FROM activity_keys WHERE id = ?', id)
          .one();
        kept.set(id, { id, eventId: row.event_id, fannedOutAt: row.fanned_out_at });
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
