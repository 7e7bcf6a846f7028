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

  postStarted(appId: string, webhookId: string): void {
    this.inFlight++;
    this.inFlightByWebhook.set(webhookId, this.load(webhookId) + 1);
    this.inFlightByApp.set(appId, this.inFlightOf(appId) + 1);
  }

  postEnded(appId: string, webhookId: string): void {
    this.inFlight--;
    this.inFlightByWebhook.set(webhookId, this.load(webhookId) - 1);
    this.inFlightByApp.set(appId, this.inFlightOf(appId) - 1);
  }

  /** `n` more hand-outs asked of the app (negative: answered). */
  ask(appId: string, n: number): void {
    this.expected += n;
    this.askedByApp.set(appId, this.askedOf(appId) + n);
  }

  /** The app has work for the webhook in this run. */
  served(appId: string, webhookId: string): void {
    const set = this.webhooksByApp.get(appId) ?? new Set<string>();
    set.add(webhookId);
    this.webhooksByApp.set(appId, set);
  }

  /**
   * Webhooks whose next hand-outs are on their way: those of apps with a claim or chained report
   * out. They hold nothing in the run yet, but their requests are about to want connections (a
   * webhook seen answering slowly gets no new ones here).
   */
  *awaitedWebhooks(): Iterable<string> {
    for (const [appId, n] of this.askedByApp) {
      if (n <= 0) continue;
      for (const webhookId of this.webhooksByApp.get(appId) ?? []) if (!this.isSlow(appId, webhookId)) yield webhookId;
    }
  }

  /** POSTs in flight to the webhook. */
  load(webhookId: string): number {
    return this.inFlightByWebhook.get(webhookId) ?? 0;
  }

  inFlightOf(appId: string): number {
    return this.inFlightByApp.get(appId) ?? 0;
  }

  askedOf(appId: string): number {
    return this.askedByApp.get(appId) ?? 0;
  }

  /** Apps with a POST in flight. */
  *busyApps(): Iterable<string> {
    for (const [appId, n] of this.inFlightByApp) if (n > 0) yield appId;
  }

  /** Webhooks with a POST in flight. */
  *busyWebhooks(): Iterable<string> {
    for (const [webhookId, n] of this.inFlightByWebhook) if (n > 0) yield webhookId;
  }

  isSlow(appId: string, webhookId: string): boolean {
    return this.slowWebhooks.get(appId)?.has(webhookId) ?? false;
  }

  /** Records that the webhook answered slowly; false if this run knew already. */
  markSlow(appId: string, webhookId: string): boolean {
    const set = this.slowWebhooks.get(appId) ?? new Set<string>();
    if (set.has(webhookId)) return false;
    set.add(webhookId);
    this.slowWebhooks.set(appId, set);
    return true;
  }

  /** The app's webhooks this run saw answer slowly, for its object to move to the slow path. */
  slowOf(appId: string): string[] {
    return [...(this.slowWebhooks.get(appId) ?? [])];
  }
}
