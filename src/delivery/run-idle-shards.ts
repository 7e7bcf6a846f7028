import { IDLE_SHARD_POLL_MS } from '../domain/consumer-pacing';
import { appIdOf } from '../domain/shards';

/**
 * The objects a consumer run has had work from, filed by app, and which of them it should ask for
 * released work now (delivery-run.ts, `pollIdleShards`): a shard of a sharded app that the run holds
 * nothing of while another shard of the same app keeps it busy, each at most every IDLE_SHARD_POLL_MS.
 * An app with one object in the run (unsharded, or the only shard seen) costs one map entry.
 */
export class RunIdleShards {
  /** app id → its object keys in this run → when each was last asked while idle. */
  private readonly objectsOfApp = new Map<string, Map<string, number>>();
  /** Apps with more than one object in this run: while there are none, there is nothing to ask. */
  private sharded = 0;

  /** The run has work from this object (a queue message or a hand-out). */
  know(objectKey: string): void {
    const appId = appIdOf(objectKey);
    const objects = this.objectsOfApp.get(appId) ?? new Map<string, number>();
    if (objects.has(objectKey)) return;
    objects.set(objectKey, Number.NEGATIVE_INFINITY);
    this.objectsOfApp.set(appId, objects);
    if (objects.size === 2) this.sharded++;
  }

  /** Whether any app has more than one object in this run. */
  anySharded(): boolean {
    return this.sharded > 0;
  }

  /**
   * Up to `limit` idle shards to ask now, marked as asked. `busy` says whether the run holds anything
   * of an object (ready, in flight or asked for); `claimable` whether it has a queue message of it to claim.
   */
  due(now: number, limit: number, busy: (objectKey: string) => boolean, claimable: (objectKey: string) => boolean): string[] {
    const ask: string[] = [];
    for (const objects of this.objectsOfApp.values()) {
      if (objects.size < 2) continue;
      const keys = [...objects.keys()];
      if (!keys.some(busy)) continue;
      for (const objectKey of keys) {
        if (ask.length >= limit) return ask;
        if (now - objects.get(objectKey)! < IDLE_SHARD_POLL_MS || busy(objectKey) || claimable(objectKey)) continue;
        objects.set(objectKey, now);
        ask.push(objectKey);
      }
    }
    return ask;
  }
}
