import type { RunItem } from './delivery-run-ports';

/** Whether a webhook of an object is known slow in this run (RunOccupancy.isSlow). */
type IsSlow = (objectKey: string, webhookId: string) => boolean;

/**
 * A consumer run's queue messages not yet claimed, per object (delivery-run.ts): which objects still
 * have one the run could claim (not for a webhook seen slow), taking an object's claimable ones for a
 * claim, taking a webhook's away when it turns slow, and what is left to hand back at the end.
 */
export class RunPending {
  private readonly byObject = new Map<string, RunItem[]>();

  constructor(private readonly isSlow: IsSlow) {}

  add(objectKey: string, item: RunItem): void {
    const list = this.byObject.get(objectKey);
    if (list) list.push(item);
    else this.byObject.set(objectKey, [item]);
  }

  /** Whether the object has a message this run could claim (the run asks this of every object, every step). */
  hasClaimable(objectKey: string): boolean {
    return (this.byObject.get(objectKey) ?? []).some((i) => !this.isSlow(objectKey, i.body.webhook));
  }

  /** Objects with a message this run could claim. */
  *claimableObjects(): Iterable<string> {
    for (const objectKey of this.byObject.keys()) if (this.hasClaimable(objectKey)) yield objectKey;
  }

  anyClaimable(): boolean {
    for (const _ of this.claimableObjects()) return true;
    return false;
  }

  /** Up to `room` of the object's claimable messages, taken out; the rest stay. */
  take(objectKey: string, room: number): RunItem[] {
    const taken: RunItem[] = [];
    const rest: RunItem[] = [];
    for (const item of this.byObject.get(objectKey) ?? []) {
      if (taken.length < room && !this.isSlow(objectKey, item.body.webhook)) taken.push(item);
      else rest.push(item);
    }
    this.byObject.set(objectKey, rest);
    return taken;
  }

  /** Every message of one webhook of the object, taken out (it turned slow: they go back to the object). */
  takeWebhook(objectKey: string, webhookId: string): RunItem[] {
    const items = this.byObject.get(objectKey) ?? [];
    this.byObject.set(
      objectKey,
      items.filter((i) => i.body.webhook !== webhookId),
    );
    return items.filter((i) => i.body.webhook === webhookId);
  }

  /** Webhooks of claimable messages, adding to `into` until it holds `limit` (the connection share counts no further). */
  addClaimableWebhooks(into: Set<string>, limit: number): void {
    for (const [objectKey, items] of this.byObject) {
      if (into.size >= limit) return;
      for (const item of items) if (!this.isSlow(objectKey, item.body.webhook)) into.add(item.body.webhook);
    }
  }

  /** Everything left, per object, and forgotten here (the run hands it back). */
  drain(): [string, RunItem[]][] {
    const left = [...this.byObject];
    this.byObject.clear();
    return left;
  }
}
