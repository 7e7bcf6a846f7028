/**
 * What one consumer run holds, counted: POSTs in flight (in all, per webhook, per app), hand-outs
 * asked of each app's object and not yet answered, and the webhooks this run saw answer slowly. The
 * run's scheduling (delivery-run.ts) reads these to share connections and prefetch fairly.
 */
export class RunOccupancy {
  /** POSTs in flight. */
  inFlight = 0;
  /** Hand-outs asked for and not yet answered, over all apps. */
  expected = 0;
  private readonly inFlightByWebhook = new Map<string, number>();
  private readonly inFlightByApp = new Map<string, number>();
  /** Hand-outs asked of each app (claims and chained reports) and not yet answered. */
  private readonly askedByApp = new Map<string, number>();
  private readonly slowWebhooks = new Map<string, Set<string>>();
  /** Each app's webhooks this run has had work for (queue messages or hand-outs). */
  private readonly webhooksByApp = new Map<string, Set<string>>();

  postStarted(objectKey: string, webhookId: string): void {
    this.inFlight++;
    this.inFlightByWebhook.set(webhookId, this.load(webhookId) + 1);
    this.inFlightByApp.set(objectKey, this.inFlightOf(objectKey) + 1);
  }

  postEnded(objectKey: string, webhookId: string): void {
    this.inFlight--;
    this.inFlightByWebhook.set(webhookId, this.load(webhookId) - 1);
    this.inFlightByApp.set(objectKey, this.inFlightOf(objectKey) - 1);
  }

  /** `n` more hand-outs asked of the app (negative: answered). */
  ask(objectKey: string, n: number): void {
    this.expected += n;
    this.askedByApp.set(objectKey, this.askedOf(objectKey) + n);
  }

  /** The app has work for the webhook in this run. */
  served(objectKey: string, webhookId: string): void {
    const set = this.webhooksByApp.get(objectKey) ?? new Set<string>();
    set.add(webhookId);
    this.webhooksByApp.set(objectKey, set);
  }

  /**
   * Webhooks whose next hand-outs are on their way: those of apps with a claim or chained report
   * out. They hold nothing in the run yet, but their requests are about to want connections (a
   * webhook seen answering slowly gets no new ones here).
   */
  *awaitedWebhooks(): Iterable<string> {
    for (const [objectKey, n] of this.askedByApp) {
      if (n <= 0) continue;
      for (const webhookId of this.webhooksByApp.get(objectKey) ?? []) if (!this.isSlow(objectKey, webhookId)) yield webhookId;
    }
  }

  /** POSTs in flight to the webhook. */
  load(webhookId: string): number {
    return this.inFlightByWebhook.get(webhookId) ?? 0;
  }

  inFlightOf(objectKey: string): number {
    return this.inFlightByApp.get(objectKey) ?? 0;
  }

  askedOf(objectKey: string): number {
    return this.askedByApp.get(objectKey) ?? 0;
  }

  /** Apps with a POST in flight. */
  *busyApps(): Iterable<string> {
    for (const [objectKey, n] of this.inFlightByApp) if (n > 0) yield objectKey;
  }

  /** Webhooks with a POST in flight. */
  *busyWebhooks(): Iterable<string> {
    for (const [webhookId, n] of this.inFlightByWebhook) if (n > 0) yield webhookId;
  }

  isSlow(objectKey: string, webhookId: string): boolean {
    return this.slowWebhooks.get(objectKey)?.has(webhookId) ?? false;
  }

  /** Records that the webhook answered slowly; false if this run knew already. */
  markSlow(objectKey: string, webhookId: string): boolean {
    const set = this.slowWebhooks.get(objectKey) ?? new Set<string>();
    if (set.has(webhookId)) return false;
    set.add(webhookId);
    this.slowWebhooks.set(objectKey, set);
    return true;
  }

  /** The app's webhooks this run saw answer slowly, for its object to move to the slow path. */
  slowOf(objectKey: string): string[] {
    return [...(this.slowWebhooks.get(objectKey) ?? [])];
  }
}
