import type { HandOut } from '../domain/delivery-protocol';

/** A hand-out a consumer run holds, waiting for a connection, with the deadline it must start by. */
export interface ReadyHandOut {
  objectKey: string;
  handOut: HandOut;
  startBy: number;
}

/**
 * A consumer run's hand-outs waiting for a connection, and which one goes next (delivery-run.ts): one
 * that will not start (`dead`: its deadline passed or its webhook turned slow) is taken at once, to be
 * reported unsent; otherwise the one whose webhook has the fewest requests in flight, among webhooks
 * still under their share of the connections. Counted per object too, since the run asks that of
 * every object on every step.
 */
export class RunReady {
  private readonly entries: ReadyHandOut[] = [];
  private readonly countByObject = new Map<string, number>();

  get size(): number {
    return this.entries.length;
  }

  add(entry: ReadyHandOut): void {
    this.entries.push(entry);
    this.countByObject.set(entry.objectKey, this.of(entry.objectKey) + 1);
  }

  /** How many of the object's hand-outs are ready. */
  of(objectKey: string): number {
    return this.countByObject.get(objectKey) ?? 0;
  }

  *objectKeys(): Iterable<string> {
    for (const [objectKey, n] of this.countByObject) if (n > 0) yield objectKey;
  }

  *webhooks(): Iterable<string> {
    for (const entry of this.entries) yield entry.handOut.webhookId;
  }

  /** The next hand-out to start or report unsent, taken out; none if every webhook with one is at its share. */
  takeNext(share: number, dead: (entry: ReadyHandOut) => boolean, load: (webhookId: string) => number): ReadyHandOut | undefined {
    let best = -1;
    for (let i = 0; i < this.entries.length; i++) {
      const entry = this.entries[i];
      const gone = dead(entry);
      if (!gone && load(entry.handOut.webhookId) >= share) continue;
      if (best === -1 || gone || load(entry.handOut.webhookId) < load(this.entries[best].handOut.webhookId)) best = i;
      if (gone) break;
    }
    if (best === -1) return undefined;
    const [next] = this.entries.splice(best, 1);
    this.countByObject.set(next.objectKey, this.of(next.objectKey) - 1);
    return next;
  }
}
