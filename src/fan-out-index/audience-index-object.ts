import { DurableObject } from 'cloudflare:workers';
import { type AudienceEntry, type AudienceRow, audienceEntryOf } from '../domain/fan-out-index';
import { countCall, countingSql } from '../observability/work-counters';

/** An entry's columns, named as D1's look-up names them. */
const COLUMNS = 'user_id, app_id, shards AS delivery_shards';

/**
 * The fan-out look-up for the users that hash to this object (`FAN_OUT_INDEX=objects`,
 * docs/scaling.md): user → apps that may hold a live subscription (Account Activity or X Activity)
 * for them. It is a superset of D1's live subscriptions, never less: a subscription is added here
 * before D1 records it, and an entry goes only when the reconcile finds no live subscription behind
 * it long after it was last added. An app that is looked up but no longer entitled is harmless: its
 * own object re-checks every event against its mirror and drops what it is not entitled to.
 */
export class AudienceIndexObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = countingSql(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS audience (
        user_id TEXT NOT NULL, app_id TEXT NOT NULL, shards INTEGER NOT NULL, touched_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, app_id)
      ) WITHOUT ROWID`);
      this.sql.exec('CREATE INDEX IF NOT EXISTS audience_touched ON audience (touched_at)');
    });
  }

  /** Adds or refreshes entries; `touched_at` is what keeps an entry from the reconcile's pruning. */
  async add(entries: AudienceEntry[], now: number): Promise<void> {
    countCall('audience_index.add');
    this.ctx.storage.transactionSync(() => {
      for (const e of entries) {
        this.sql.exec(
          `INSERT INTO audience (user_id, app_id, shards, touched_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (user_id, app_id) DO UPDATE SET shards = excluded.shards, touched_at = max(touched_at, excluded.touched_at)`,
          e.userId,
          e.appId,
          e.shards,
          now,
        );
      }
    });
  }

  /** The entries of `users` (one statement, whatever their number). */
  async lookUp(users: string[]): Promise<AudienceEntry[]> {
    countCall('audience_index.look_up');
    return this.sql
      .exec<AudienceRow>(`SELECT ${COLUMNS} FROM audience WHERE user_id IN (SELECT value FROM json_each(?))`, JSON.stringify(users))
      .toArray()
      .map(audienceEntryOf);
  }

  /** Entries last added before `before`, oldest first: what the reconcile checks against D1. */
  async untouchedSince(before: number, limit: number): Promise<AudienceEntry[]> {
    countCall('audience_index.untouched_since');
    return this.sql
      .exec<AudienceRow>(`SELECT ${COLUMNS} FROM audience WHERE touched_at < ? ORDER BY touched_at LIMIT ?`, before, limit)
      .toArray()
      .map(audienceEntryOf);
  }

  /**
   * The reconcile's verdict on entries it read as untouched before `before`: those with a live
   * subscription are touched again (`now`), the others removed, unless added again meanwhile.
   */
  async settle(verdict: { live: AudienceEntry[]; gone: AudienceEntry[] }, before: number, now: number): Promise<number> {
    countCall('audience_index.settle');
    let removed = 0;
    this.ctx.storage.transactionSync(() => {
      for (const e of verdict.live) {
        this.sql.exec(
          'UPDATE audience SET touched_at = ? WHERE user_id = ? AND app_id = ? AND touched_at < ?',
          now,
          e.userId,
          e.appId,
          now,
        );
      }
      for (const e of verdict.gone) {
        removed += this.sql
          .exec('DELETE FROM audience WHERE user_id = ? AND app_id = ? AND touched_at < ? RETURNING app_id', e.userId, e.appId, before)
          .toArray().length;
      }
    });
    return removed;
  }
}
