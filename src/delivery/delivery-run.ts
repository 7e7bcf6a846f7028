import type { AttemptReport, ClaimResult, DeliveryMessage, HandOut, ReportResult } from '../domain/delivery-protocol';
import type { AttemptResult } from '../domain/retry';

/** Cloudflare lets one invocation have at most this many connections open at once; more would queue unsent. */
export const MAX_CONNECTIONS = 6;

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
 * POSTs in flight, and claims a message only when a connection is free for it, so a hand-out starts
 * at once, well before its deadline; one it cannot start in time is reported unsent. A free
 * connection goes to the webhook with the fewest requests in flight, so a webhook that hangs can
 * hold at most its share; a webhook seen answering slowly is given no new connection here, and its
 * remaining messages go back to its object, which sends them on the slow queue. Reports are
 * coalesced per app; a report hands back the next message of the lanes it advanced.
 */
export class DeliveryRun {
  private readonly pending = new Map<string, RunItem[]>();
  private readonly inFlightByWebhook = new Map<string, number>();
  private readonly slowWebhooks = new Map<string, Set<string>>();
  private readonly finished = new Map<string, AttemptReport[]>();
  private readonly reporting = new Set<string>();
  private readonly gone = new Map<string, { ids: Set<string>; at: number }>();
  private readonly deadline: number;
  private inFlight = 0;
  private reserved = 0;
  private claiming = 0;
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

  private free(): number {
    return MAX_CONNECTIONS - this.inFlight - this.reserved;
  }

  private withinBudget(): boolean {
    return this.ports.now() < this.deadline;
  }

  /** Picks messages for the free connections, fewest-in-flight webhook first, and claims them per app. */
  private pump(): void {
    if (this.withinBudget()) {
      const picks = this.pick(this.free());
      for (const [appId, items] of picks) void this.claim(appId, items);
    }
    this.maybeDone();
  }

  private pick(slots: number): Map<string, RunItem[]> {
    const picks = new Map<string, RunItem[]>();
    const load = new Map(this.inFlightByWebhook);
    for (let slot = 0; slot < slots; slot++) {
      let best: { appId: string; index: number; webhook: string; load: number } | null = null;
      for (const [appId, items] of this.pending) {
        const slow = this.slowWebhooks.get(appId);
        items.forEach((item, index) => {
          const webhook = item.body.webhook;
          if (slow?.has(webhook)) return;
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
    this.reserved += items.length;
    this.claiming++;
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
      this.reserved -= items.length;
      this.start(appId, result.handOuts);
    } catch (err) {
      this.reserved -= items.length;
      this.ports.log(`app ${appId}: claim failed; its messages come back in ${RETRY_DELAY_SECONDS} s`, err);
      for (const item of items) item.retry(RETRY_DELAY_SECONDS);
    } finally {
      this.claiming--;
      this.pump();
    }
  }

  private requeue(appId: string, item: RunItem): void {
    const list = this.pending.get(appId) ?? [];
    list.push(item);
    this.pending.set(appId, list);
  }

  /** Starts each hand-out now if its deadline allows; otherwise reports it unsent. */
  private start(appId: string, handOuts: HandOut[]): void {
    const receivedAt = this.ports.now();
    for (const handOut of handOuts) {
      const startBy = Math.min(handOut.startBy, receivedAt + handOut.startWithinMs);
      const ref = { seq: handOut.seq, deliveryId: handOut.deliveryId, attempt: handOut.attempt, handOutId: handOut.handOutId };
      const now = this.ports.now();
      if (!this.startAllowed(now, startBy) || this.free() <= 0) {
        this.finish(appId, { ...ref, startedAt: null, result: null });
        continue;
      }
      this.inFlight++;
      this.inFlightByWebhook.set(handOut.webhookId, (this.inFlightByWebhook.get(handOut.webhookId) ?? 0) + 1);
      const onSlow = () => this.markSlow(appId, handOut.webhookId);
      void this.ports
        .post(handOut, onSlow)
        .catch(
          (err): AttemptResult => ({ error: `network: ${(err as Error)?.message ?? 'request failed'}`, latencyMs: this.ports.now() - now }),
        )
        .then((result) => {
          this.inFlight--;
          this.inFlightByWebhook.set(handOut.webhookId, (this.inFlightByWebhook.get(handOut.webhookId) ?? 1) - 1);
          this.finish(appId, { ...ref, startedAt: now, result });
        });
    }
  }

  /**
   * A request to this webhook went unanswered past the slow threshold: it gets no new connection in
   * this invocation, its object is told at once, and its unclaimed messages go back to be released on
   * the slow queue instead of waiting here behind the hanging ones.
   */
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
    this.claiming++;
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
        this.claiming--;
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
    const chain = this.withinBudget();
    const capacity = chain ? Math.max(0, Math.min(this.free(), batch.length)) : 0;
    this.reserved += capacity;
    const slowWebhooks = [...(this.slowWebhooks.get(appId) ?? [])];
    this.ports
      .object(appId)
      .report(appId, batch, { chain, capacity, slowWebhooks })
      .then(
        ({ goneWebhooks, at, next }) => {
          this.reserved -= capacity;
          if (goneWebhooks.length > 0) {
            const gone = this.gone.get(appId) ?? { ids: new Set<string>(), at };
            for (const id of goneWebhooks) gone.ids.add(id);
            gone.at = Math.max(gone.at, at);
            this.gone.set(appId, gone);
          }
          this.start(appId, next);
        },
        (err) => {
          this.reserved -= capacity;
          // The attempts stay on the ledger as outcome unknown; the object's lease takes it from there.
          this.ports.log(`app ${appId}: report of ${batch.length} attempts failed`, err);
        },
      )
      .finally(() => {
        this.reporting.delete(appId);
        this.flush(appId);
        this.pump();
      });
  }

  private maybeDone(): void {
    const idle = this.inFlight === 0 && this.claiming === 0 && this.reporting.size === 0 && this.finished.size === 0;
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
