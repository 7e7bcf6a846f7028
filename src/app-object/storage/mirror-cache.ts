import type { MirrorAuthorization } from './mirror-store';
import type { Tenant } from './tenant-store';
import type { MirrorWebhook } from './webhook-mirror-store';

/**
 * The mirror rows the entitlement rule reads on every append, hand-out and report, kept in memory
 * between calls: without it each hand-out cost a dozen SELECTs (docs/scaling.md). It is one object's
 * own memory (an object holds one app), so nothing in it can answer for another tenant.
 *
 * Why it cannot go stale: every write to the mirror tables goes through MirrorStore, which drops what
 * it changed here in the same synchronous step, after its last write (a read inside the method may
 * have cached the row as it was before), so no later read can see the old row; the object's SQLite writes
 * are never rolled back under a live instance (a failed commit restarts the object, and its memory
 * with it). Code that writes those tables by raw SQL (test helpers moving time) must call
 * `forgetMirrorCache`.
 */
export interface MirrorCache {
  /** undefined: not read yet; null: not provisioned. */
  tenant: Tenant | null | undefined;
  webhooks: Map<string, MirrorWebhook | null>;
  /** Per user: the live authorization (null: none). */
  authorizations: Map<string, MirrorAuthorization | null>;
  /** Per user: the live subscriptions' webhook and start. */
  subscriptions: Map<string, { webhook_id: string; started_at: number }[]>;
  /** Event types with a live X Activity API subscription (undefined: not read yet). */
  xaaEventTypes: Set<string> | undefined;
}

/** Users kept before the per-user maps start over; bounds memory for apps with very many users. */
const MAX_USERS = 20_000;

/** A wrapped SqlStorage (the work counters' proxy) names the storage it wraps under this symbol. */
export const WRAPPED_SQL = Symbol('wrapped SqlStorage');

/** The object's own SqlStorage under any wrapper: what the in-memory caches are keyed by. */
function storageKeyOf(sql: SqlStorage): object {
  return (sql as unknown as { [WRAPPED_SQL]?: SqlStorage })[WRAPPED_SQL] ?? sql;
}

/**
 * Memory kept per object database, created on first use: keyed by the SqlStorage itself (under any
 * wrapper), so every AppStore over one object's database shares it, and no other object's can.
 */
export function perStorage<T>(create: () => T): { of(sql: SqlStorage): T; peek(sql: SqlStorage): T | undefined } {
  const memory = new WeakMap<object, T>();
  return {
    of(sql) {
      const key = storageKeyOf(sql);
      let value = memory.get(key);
      if (value === undefined) {
        value = create();
        memory.set(key, value);
      }
      return value;
    },
    peek: (sql) => memory.get(storageKeyOf(sql)),
  };
}

const caches = perStorage<MirrorCache>(() => ({
  tenant: undefined,
  webhooks: new Map(),
  authorizations: new Map(),
  subscriptions: new Map(),
  xaaEventTypes: undefined,
}));

export const mirrorCacheOf = (sql: SqlStorage): MirrorCache => caches.of(sql);

/** Drops everything cached for this database: after writing mirror tables other than through MirrorStore. */
export function forgetMirrorCache(sql: SqlStorage): void {
  const cache = caches.peek(sql);
  if (!cache) return;
  cache.tenant = undefined;
  cache.webhooks.clear();
  cache.xaaEventTypes = undefined;
  forgetGrants(cache);
}

/** Drops what the users' authorizations and subscriptions say (any grant, revoke, subscribe or end). */
export function forgetGrants(cache: MirrorCache): void {
  cache.authorizations.clear();
  cache.subscriptions.clear();
}

/** Keeps the per-user maps bounded: they start over rather than grow without limit. */
export function boundUsers(cache: MirrorCache): void {
  if (cache.authorizations.size > MAX_USERS || cache.subscriptions.size > MAX_USERS) forgetGrants(cache);
}
