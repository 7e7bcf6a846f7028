import type { AttemptReport, ClaimResult, DeliveryMessage, HandOut, ReportResult } from '../domain/delivery-protocol';
import type { AttemptResult } from '../domain/retry';

/** Cloudflare lets one invocation have at most this many connections open at once; more would queue unsent. */
export const MAX_CONNECTIONS = 6;
/** Hand-outs claimed ahead of a free connection, so the connections never wait for the object. */
export const PREFETCH = 24;

/** What one consumer invocation may do to an app's object (its RPC stub, or the simulator's). */
export interface ObjectApi {
  claim(appId: string, items: DeliveryMessage[], capacity: number): Promise<ClaimResult>;
  report(
    appId: string,
    reports: AttemptReport[],
    options: { chain?: boolean; capacity?: number; slowWebhooks?: string[] },
  ): Promise<ReportResult>;
  returnUnclaimed(appId: string, items: DeliveryMessage[]): Promise<void>;
}

/** A queue message in the batch, with what the run may do to it. */
export interface RunItem {
  body: DeliveryMessage;
  ack(): void;
  retry(delaySeconds: number): void;
}

export interface RunPorts {
  now(): number;
  object(appId: string): ObjectApi;
  /** Starts the POST now and resolves with its result; `onSlow` fires if no answer came within the slow threshold. */
  post(handOut: HandOut, onSlow: () => void): Promise<AttemptResult>;
  markGone(appId: string, webhookIds: string[], at: number): Promise<void>;
  log(message: string, err?: unknown): void;
}

export interface RunOptions {
  /** Stop claiming and chaining after this long; what is left goes back to its object. */
  budgetMs: number;
}

/** When an app's object cannot be reached, its messages come back after this. */
const RETRY_DELAY_SECONDS = 5;

/**
 * One consumer invocation (docs/delivery.md, "Fairness"). It never has more than MAX_CONNECTIONS
 * POSTs in flight. To keep them busy it claims ahead: up to PREFETCH hand-outs wait, ready to start,
 * which is safe because a hand-out that cannot start before its deadline is reported unsent instead.
 * A free connection goes to the ready request whose webhook has the fewest requests in flight, so a
 * webhook that hangs holds at most its share; a webhook seen answering slowly gets no new connection
 * here, and its remaining messages go back to its object, which sends them on the slow queue.
 * Reports are coalesced per app; a report hands back the next message of the lanes it advanced.
 */
export class DeliveryRun {
  private readonly pending = new Map<string, RunItem[]>();
  private readonly ready: { appId: string; handOut: HandOut; startBy: number }[] = [];
  private readonly inFlightByWebhook = new Map<string, number>();
  private readonly slowWebhooks = new Map<string, Set<string>>();
  private readonly finished = new Map<string, AttemptReport[]>();
  private readonly reporting = new Set<string>();
  private readonly gone = new Map<string, { ids: Set<string>; at: number }>();
  private readonly deadline: number;
  private inFlight = 0;
  /** Hand-outs asked for and not yet answered (claims and chained reports). */
  private expected = 0;
  private calls = 0;
  private done: () => void = () => {};

  constructor(
    private readonly ports: RunPorts,
    items: RunItem[],
    options: RunOptions,
  ) {
    this.deadline = ports.now() + options.budgetMs;
    for (const item of items) {
      const list = this.pending.get(item.body.app) ?? [];
      list.push(item);
      this.pending.set(item.body.app, list);
    }
  }

  /** Runs until every claimed request finished and was reported, and what is left was handed back. */
  async run(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.done = resolve;
      this.pump();
    });
    await this.handBack();
    await Promise.all(
      [...this.gone].map(([appId, { ids, at }]) =>
        this.ports.markGone(appId, [...ids], at).catch((err) => this.ports.log(`app ${appId}: marking 410 webhooks invalid failed`, err)),
      ),
    );
  }

  private withinBudget(): boolean {
    return this.ports.now() < this.deadline;
  }

  /** How many more hand-outs to ask for, to keep PREFETCH ready or on their way. */
  private wanted(): number {
    return this.withinBudget() ? Math.max(0, PREFETCH - this.ready.length - this.expected) : 0;
  }

  private isSlow(appId: string, webhookId: string): boolean {
    return this.slowWebhooks.get(appId)?.has(webhookId) ?? false;
  }

  private load(webhookId: string): number {
    return this.inFlightByWebhook.get(webhookId) ?? 0;
  }

  /**
   * Each webhook's share of the connections: they are split evenly among the webhooks this run has
   * work for, so one that hangs cannot take them all while another waits for its claim to come back.
   */
  private share(): number {
    const active = new Set<string>();
    for (const [webhook, n] of this.inFlightByWebhook) if (n > 0) active.add(webhook);
    for (const r of this.ready) active.add(r.handOut.webhookId);
    for (const [appId, items] of this.pending)
      for (const item of items) if (!this.isSlow(appId, item.body.webhook)) active.add(item.body.webhook);
    return Math.max(1, Math.floor(MAX_CONNECTIONS / Math.max(1, active.size)));
  }

  /** Starts ready requests on free connections, fewest-in-flight webhook first, then claims ahead. */
  private pump(): void {
    const share = this.share();
    while (this.inFlight < MAX_CONNECTIONS && this.ready.length > 0) {
      let best = -1;
      for (let i = 0; i < this.ready.length; i++) {
        const entry = this.ready[i];
        // Requests that will not start (deadline passed, webhook turned slow) are reported at once.
        const dead = !this.startAllowed(this.ports.now(), entry.startBy) || this.isSlow(entry.appId, entry.handOut.webhookId);
        if (!dead && this.load(entry.handOut.webhookId) >= share) continue;
        if (best === -1 || dead || this.load(entry.handOut.webhookId) < this.load(this.ready[best].handOut.webhookId)) best = i;
        if (dead) break;
      }
      if (best === -1) break;
      const [next] = this.ready.splice(best, 1);
      this.start(next.appId, next.handOut, next.startBy);
    }
    const want = this.wanted();
    if (want > 0) for (const [appId, items] of this.pick(want)) void this.claim(appId, items);
    this.maybeDone();
  }

  /** Messages to claim, fairly: each goes to the webhook with the fewest requests in flight or ready. */
  private pick(count: number): Map<string, RunItem[]> {
    const picks = new Map<string, RunItem[]>();
    const load = new Map(this.inFlightByWebhook);
    for (const r of this.ready) load.set(r.handOut.webhookId, (load.get(r.handOut.webhookId) ?? 0) + 1);
    for (let n = 0; n < count; n++) {
      let best: { appId: string; index: number; webhook: string; load: number } | null = null;
      for (const [appId, items] of this.pending) {
        items.forEach((item, index) => {
          const webhook = item.body.webhook;
          if (this.isSlow(appId, webhook)) return;
          const l = load.get(webhook) ?? 0;
          if (!best || l < best.load) best = { appId, index, webhook, load: l };
        });
      }
      if (!best) break;
      const { appId, index, webhook } = best as { appId: string; index: number; webhook: string };
      const [item] = this.pending.get(appId)!.splice(index, 1);
      load.set(webhook, (load.get(webhook) ?? 0) + 1);
      const list = picks.get(appId) ?? [];
      list.push(item);
      picks.set(appId, list);
    }
    return picks;
  }

  private async claim(appId: string, items: RunItem[]): Promise<void> {
    this.expected += items.length;
    this.calls++;
    try {
      const result = await this.ports.object(appId).claim(
        appId,
        items.map((i) => i.body),
        items.length,
      );
      const deferred = new Set(result.deferred);
      for (const item of items) {
        if (deferred.has(item.body.seq)) this.requeue(appId, item);
        else item.ack(); // handed out (the object owns its fate now), or no longer live
      }
      this.accept(appId, result.handOuts);
    } catch (err) {
      this.ports.log(`app ${appId}: claim failed; its messages come back in ${RETRY_DELAY_SECONDS} s`, err);
      for (const item of items) item.retry(RETRY_DELAY_SECONDS);
    } finally {
      this.expected -= items.length;
      this.calls--;
      this.pump();
    }
  }

  private requeue(appId: string, item: RunItem): void {
    const list = this.pending.get(appId) ?? [];
    list.push(item);
    this.pending.set(appId, list);
  }

  /** Hand-outs received: each must start before the earlier of its two deadlines. */
  private accept(appId: string, handOuts: HandOut[]): void {
    const receivedAt = this.ports.now();
    for (const handOut of handOuts) {
      this.ready.push({ appId, handOut, startBy: Math.min(handOut.startBy, receivedAt + handOut.startWithinMs) });
    }
  }

  /** Starts one hand-out now if its deadline allows and its webhook is not slow; otherwise reports it unsent. */
  private start(appId: string, handOut: HandOut, startBy: number): void {
    const ref = { seq: handOut.seq, deliveryId: handOut.deliveryId, attempt: handOut.attempt, handOutId: handOut.handOutId };
    const now = this.ports.now();
    if (!this.startAllowed(now, startBy) || this.isSlow(appId, handOut.webhookId)) {
      this.finish(appId, { ...ref, startedAt: null, result: null });
      return;
    }
    this.inFlight++;
    this.inFlightByWebhook.set(handOut.webhookId, this.load(handOut.webhookId) + 1);
    const onSlow = () => this.markSlow(appId, handOut.webhookId);
    void this.ports
      .post(handOut, onSlow)
      .catch(
        (err): AttemptResult => ({ error: `network: ${(err as Error)?.message ?? 'request failed'}`, latencyMs: this.ports.now() - now }),
      )
      .then((result) => {
        this.inFlight--;
        this.inFlightByWebhook.set(handOut.webhookId, this.load(handOut.webhookId) - 1);
        this.finish(appId, { ...ref, startedAt: now, result });
      });
  }

  /** A hand-out may start only before its deadline (the simulator's mutants override this to prove the fence needs it). */
  protected startAllowed(now: number, startBy: number): boolean {
    return now < startBy;
  }

  private markSlow(appId: string, webhookId: string): void {
    const set = this.slowWebhooks.get(appId) ?? new Set<string>();
    if (set.has(webhookId)) return;
    set.add(webhookId);
    this.slowWebhooks.set(appId, set);
    const items = this.pending.get(appId) ?? [];
    const back = items.filter((i) => i.body.webhook === webhookId);
    this.pending.set(
      appId,
      items.filter((i) => i.body.webhook !== webhookId),
    );
    this.calls++;
    const object = this.ports.object(appId);
    object
      .report(appId, [], { slowWebhooks: [webhookId] })
      .then(() =>
        back.length > 0
          ? object.returnUnclaimed(
              appId,
              back.map((i) => i.body),
            )
          : undefined,
      )
      .then(
        () => {
          for (const item of back) item.ack();
        },
        (err) => {
          this.ports.log(`app ${appId}: moving webhook ${webhookId} to the slow path failed`, err);
          for (const item of back) item.retry(RETRY_DELAY_SECONDS);
        },
      )
      .finally(() => {
        this.calls--;
        this.pump();
      });
  }

  private finish(appId: string, report: AttemptReport): void {
    const list = this.finished.get(appId) ?? [];
    list.push(report);
    this.finished.set(appId, list);
    this.flush(appId);
    this.pump();
  }

  /** One report call per app at a time; attempts finishing meanwhile ride on the next one. */
  private flush(appId: string): void {
    const batch = this.finished.get(appId);
    if (this.reporting.has(appId) || !batch || batch.length === 0) return;
    this.finished.delete(appId);
    this.reporting.add(appId);
    const capacity = this.wanted();
    const chain = capacity > 0;
    this.expected += capacity;
    const slowWebhooks = [...(this.slowWebhooks.get(appId) ?? [])];
    this.ports
      .object(appId)
      .report(appId, batch, { chain, capacity, slowWebhooks })
      .then(
        ({ goneWebhooks, at, next }) => {
          if (goneWebhooks.length > 0) {
            const gone = this.gone.get(appId) ?? { ids: new Set<string>(), at };
            for (const id of goneWebhooks) gone.ids.add(id);
            gone.at = Math.max(gone.at, at);
            this.gone.set(appId, gone);
          }
          this.accept(appId, next);
        },
        (err) => {
          // The attempts stay on the ledger as outcome unknown; the object's lease takes it from there.
          this.ports.log(`app ${appId}: report of ${batch.length} attempts failed`, err);
        },
      )
      .finally(() => {
        this.expected -= capacity;
        this.reporting.delete(appId);
        this.flush(appId);
        this.pump();
      });
  }

  private maybeDone(): void {
    const idle =
      this.inFlight === 0 && this.calls === 0 && this.ready.length === 0 && this.reporting.size === 0 && this.finished.size === 0;
    if (!idle) return;
    const eligible =
      this.withinBudget() &&
      [...this.pending].some(([appId, items]) => items.some((i) => !this.slowWebhooks.get(appId)?.has(i.body.webhook)));
    if (!eligible) this.done();
  }

  /** Messages never claimed (budget spent, or their webhook turned slow) go back to their objects. */
  private async handBack(): Promise<void> {
    await Promise.all(
      [...this.pending].map(async ([appId, items]) => {
        if (items.length === 0) return;
        try {
          await this.ports.object(appId).returnUnclaimed(
            appId,
            items.map((i) => i.body),
          );
          for (const item of items) item.ack();
        } catch (err) {
          this.ports.log(`app ${appId}: handing back ${items.length} messages failed; the queue retries them`, err);
          for (const item of items) item.retry(RETRY_DELAY_SECONDS);
        }
      }),
    );
    this.pending.clear();
  }
}
