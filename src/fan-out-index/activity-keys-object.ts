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

  /** Event ids minted here: this object's shard is their node, so no other object or isolate mints the same. */
  private mint: ((nowMs?: number) => string) | null = null;
  private mintShard: number | null = null;
  /** Known to have the purge alarm set, so a record call need not ask storage each time (the ingest path). */
  private purgeArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = countingSql(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS activity_keys (
        id TEXT PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, received_at INTEGER NOT NULL, fanned_out_at INTEGER
      ) WITHOUT ROWID`);
      this.sql.exec('CREATE INDEX IF NOT EXISTS activity_keys_received ON activity_keys (received_at)');
      // The shard this object is, kept from its first call: ids minted under another number could repeat another object's.
      this.sql.exec('CREATE TABLE IF NOT EXISTS shard (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), shard INTEGER NOT NULL)');
    });
  }

  /** This object's id generator, after checking `shard` is the number it has always been called with. */
  private minter(shard: number): (nowMs?: number) => string {
    if (this.mint && this.mintShard === shard) return this.mint;
    if (!Number.isInteger(shard) || shard < 0 || shard >= RESERVED_NODES) throw new Error(`activity keys: shard ${shard} is out of range`);
    this.sql.exec('INSERT INTO shard (singleton, shard) VALUES (1, ?) ON CONFLICT DO NOTHING', shard);
    const own = this.sql.exec<{ shard: number }>('SELECT shard FROM shard').one().shard;
    if (own !== shard) throw new Error(`activity keys: this object is shard ${own}; refused a call meant for shard ${shard}`);
    this.mintShard = shard;
    this.mint = idGenerator(shard);
    return this.mint;
  }

  /**
   * Records each id not known yet, giving it an event id minted here; returns every id's row as kept
   * (a known id keeps the event id it was first given). The ids are the shard's own: the caller routes
   * them by `indexShardOf`, and `shard` is this object's number.
   */
  async record(shard: number, ids: string[], now: number): Promise<RecordedActivity[]> {
    countCall('activity_keys.record');
    const kept = new Map<string, RecordedActivity>();
    this.ctx.storage.transactionSync(() => {
      const mint = this.minter(shard);
      for (const id of ids) {
        if (!kept.has(id)) kept.set(id, this.recordOne(id, mint, now));
      }
    });
    // The purge runs on the object's clock, whatever time the caller recorded the ids at.
    if (!this.purgeArmed) {
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PURGE_EVERY_MS);
      this.purgeArmed = true;
    }
    return [...kept.values()];
  }

  /**
   * One insert for a new id. Nothing inserted means the id is known (its row is read back) or the
   * minted event id repeats one this object made before a restart on a clock that stepped back (one
   * object, one sequence: nothing else can repeat it), and the next one is drawn.
   */
  private recordOne(id: string, mint: (nowMs?: number) => string, now: number): RecordedActivity {
    for (;;) {
      const eventId = mint(now);
      const inserted = this.sql
        .exec(
          'INSERT INTO activity_keys (id, event_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING id',
          id,
          eventId,
          now,
        )
        .toArray();
      if (inserted.length > 0) return { id, eventId, fannedOutAt: null };
      const known = this.sql
        .exec<{ event_id: string; fanned_out_at: number | null }>('SELECT event_id, fanned_out_at FROM activity_keys WHERE id = ?', id)
        .toArray()[0];
      if (known) return { id, eventId: known.event_id, fannedOutAt: known.fanned_out_at };
    }
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
    // With nothing left to forget no alarm is set: the next record sets one.
    this.purgeArmed = forgotten >= PURGE_BATCH || left > 0;
  }

  /** How many ids the object remembers (operations and tests). */
  async size(): Promise<number> {
    countCall('activity_keys.size');
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM activity_keys').one().n;
  }
}
