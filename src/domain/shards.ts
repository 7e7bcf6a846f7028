/**
 * An app's deliveries can be spread over several Durable Objects ("delivery shards", docs/scaling.md)
 * when one object cannot carry them. Everything about one user lives in exactly one shard: the user's
 * authorizations and subscriptions, the lanes of their deliveries (so order per lane holds) and the
 * ledger rows of those deliveries. Everything about the app as a whole (its status, consumer secret,
 * webhooks and their signing secrets) is copied to every shard. The shard count is fixed when the app
 * is created: moving a user to another shard would split a lane's history over two objects.
 */
export const MAX_DELIVERY_SHARDS = 16;

/**
 * Which of `shards` objects holds `userId`: FNV-1a (32 bit) of the id, modulo the count. Stable
 * across builds and runtimes; it must never change for an app that exists, or users would be looked
 * for in the wrong shard.
 */
export function shardOfUser(userId: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** The Durable Object name of an app's shard. Shard 0 keeps the name an unsharded app always had. */
export const appObjectName = (appId: string, shard: number): string => (shard === 0 ? `app:${appId}` : `app:${appId}:${shard}`);

/**
 * Ledger ids of a sharded app are unique across its shards and ordered roughly by time, so that the
 * app's ledger can be paged newest first over every shard with one cursor: a shard writes ids that
 * are congruent to its index modulo the shard count, and never smaller than the time of the write
 * times this factor times the count. An unsharded app keeps SQLite's own ids (1, 2, 3, ...).
 */
export const LEDGER_IDS_PER_MS = 64;

/** The shard a ledger id of an app with `shards` shards was written by. */
export const shardOfLedgerId = (id: number, shards: number): number => (shards <= 1 ? 0 : id % shards);

/**
 * How a consumer run names the object a queue message came from: the app id for shard 0 (what an
 * unsharded app always was), `app/shard` for the others. The run keeps its bookkeeping per object.
 */
export const objectKeyOf = (message: { app: string; shard?: number }): string =>
  message.shard ? `${message.app}/${message.shard}` : message.app;

export function parseObjectKey(key: string): { appId: string; shard: number } {
  const [appId, shard] = key.split('/');
  return { appId, shard: shard === undefined ? 0 : Number(shard) };
}

export const appIdOf = (key: string): string => parseObjectKey(key).appId;
