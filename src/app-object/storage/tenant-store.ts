import { type MirrorCache, mirrorCacheOf } from './mirror-cache';

/**
 * The app object's tenant record: which app it serves, its consumer secret (with the previous one
 * during a rotation's grace window) and its status, as D1 last told it (docs/delivery.md, "D1 and
 * the objects agree"). Status changes carry their time and only a newer one applies.
 */
export type AppStatus = 'pending' | 'active' | 'suspended';

export interface Tenant {
  appId: string;
  consumerSecret: string;
  /** The secret before the last rotation, still honoured until `previousConsumerSecretUntil`. */
  previousConsumerSecret: string | null;
  previousConsumerSecretUntil: number | null;
  status: AppStatus;
  statusChangedAt: number;
  /** Which of its app's delivery shards this object is (src/domain/shards.ts). */
  placement: Placement;
}

/** One shard of an app: its index and the app's shard count. An unsharded app is shard 0 of 1. */
export interface Placement {
  shard: number;
  shards: number;
}

export const ONLY_SHARD: Placement = { shard: 0, shards: 1 };

export class TenantStore {
  private readonly cache: MirrorCache;

  constructor(private readonly sql: SqlStorage) {
    this.cache = mirrorCacheOf(sql);
  }

  get(): Tenant | null {
    if (this.cache.tenant === undefined) this.cache.tenant = this.readTenant();
    return this.cache.tenant;
  }

  private readTenant(): Tenant | null {
    const row = this.sql
      .exec<{
        app_id: string;
        consumer_secret: string;
        previous_consumer_secret: string | null;
        previous_consumer_secret_until: number | null;
        status: AppStatus;
        status_changed_at: number;
        shard: number;
        shard_count: number;
      }>('SELECT * FROM tenant WHERE singleton = 1')
      .toArray()[0];
    return row
      ? {
          appId: row.app_id,
          consumerSecret: row.consumer_secret,
          previousConsumerSecret: row.previous_consumer_secret,
          previousConsumerSecretUntil: row.previous_consumer_secret_until,
          status: row.status,
          statusChangedAt: row.status_changed_at,
          placement: { shard: row.shard, shards: row.shard_count },
        }
      : null;
  }

  /** The placement is set once: a provision again (the same app) only replaces the consumer secret. */
  provision(appId: string, consumerSecret: string, status: AppStatus, at: number, placement: Placement = ONLY_SHARD): void {
    this.cache.tenant = undefined;
    this.sql.exec(
      `INSERT INTO tenant (singleton, app_id, consumer_secret, status, status_changed_at, shard, shard_count) VALUES (1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET consumer_secret = excluded.consumer_secret`,
      appId,
      consumerSecret,
      status,
      at,
      placement.shard,
      placement.shards,
    );
  }

  /**
   * A rotation in two steps, so the object never signs with a secret the developer was not given: the
   * new secret is staged here, D1 records its hash, and only then is it committed (and the previous
   * one kept for the grace window).
   */
  stageConsumerSecret(secret: string, previousUntil: number): void {
    this.sql.exec('UPDATE tenant SET staged_consumer_secret = ?, staged_previous_until = ? WHERE singleton = 1', secret, previousUntil);
  }

  stagedConsumerSecret(): string | null {
    return (
      this.sql.exec<{ s: string | null }>('SELECT staged_consumer_secret AS s FROM tenant WHERE singleton = 1').toArray()[0]?.s ?? null
    );
  }

  /** Commits the staged secret if it is `secret`; true if the consumer secret is now `secret`. */
  commitConsumerSecret(secret: string): boolean {
    this.cache.tenant = undefined;
    this.sql.exec(
      `UPDATE tenant SET previous_consumer_secret = consumer_secret, previous_consumer_secret_until = staged_previous_until,
         consumer_secret = staged_consumer_secret, staged_consumer_secret = NULL, staged_previous_until = NULL
       WHERE singleton = 1 AND staged_consumer_secret = ?`,
      secret,
    );
    return this.get()?.consumerSecret === secret;
  }

  /** Applies a status change unless a newer one was applied already; true if it applied. */
  setStatus(status: AppStatus, at: number): boolean {
    const tenant = this.get();
    if (!tenant || at < tenant.statusChangedAt) return false;
    this.cache.tenant = undefined;
    this.sql.exec('UPDATE tenant SET status = ?, status_changed_at = ? WHERE singleton = 1', status, at);
    return true;
  }
}
