import { appShare, LatencyEstimate, MAX_CONNECTIONS } from '../domain/consumer-pacing';
import type { AttemptReport, HandOut } from '../domain/delivery-protocol';
import type { AttemptResult } from '../domain/retry';
import { appIdOf, objectKeyOf } from '../domain/shards';
import type { RunItem, RunOptions, RunPorts } from './delivery-run-ports';
import { handBack, RETRY_DELAY_SECONDS } from './run-handback';
import { RunIdleShards } from './run-idle-shards';
import { RunOccupancy } from './run-occupancy';
import { RunPending } from './run-pending';
import { type ReadyHandOut, RunReady } from './run-ready';
import { RunReports } from './run-reports';

export { MAX_CONNECTIONS };

/** Assumed until a hand-out says otherwise. */
const DEFAULT_START_WINDOW_MS = 3_000;

/**
 * One consumer invocation (docs/delivery.md, "Fairness"). It never has more than MAX_CONNECTIONS
 * POSTs in flight. To keep them busy it claims ahead (domain/consumer-pacing.ts): as many hand-outs
 * as its connections would start in half a start window, which is safe because a hand-out that
 * cannot start before its deadline is reported unsent instead. Each app with work may hold an even
 * share of that, and a claim or report asks its object for the app's whole share, so one call
 * carries several deliveries. A free connection goes to the ready request whose webhook has the
 * fewest requests in flight, so a webhook that hangs holds at most its share; a webhook seen
 * answering slowly gets no new connection here, and its remaining messages go back to its object,
 * which sends them on the slow queue. Finished attempts are reported per app, lingering a moment
 * while more of the app's requests are about to finish; a report hands back the app's next work.
 */
export class DeliveryRun {
  private readonly ready = new RunReady();
  private readonly occupancy = new RunOccupancy();
  private readonly pending = new RunPending((objectKey, webhookId) => this.occupancy.isSlow(objectKey, webhookId));
  private readonly reports: RunReports;
  private readonly latency = new LatencyEstimate();
  private readonly idleShards = new RunIdleShards();
  private readonly deadline: number;
  private startWindowMs = DEFAULT_START_WINDOW_MS;
  private calls = 0;
  private done: () => void = () => {};

  constructor(
    private readonly ports: RunPorts,
    items: RunItem[],
    private readonly options: RunOptions,
  ) {
    this.deadline = ports.now() + options.budgetMs;
    this.reports = new RunReports(ports, options.path, {
      reportNow: (objectKey) =>
        this.ready.of(objectKey) + this.occupancy.inFlightOf(objectKey) === 0 || this.starving() || !this.withinBudget(),
      chainCapacity: (objectKey) => Math.max(0, Math.min(this.wanted(), this.appShare() - this.held(objectKey))),
      ask: (objectKey, n) => this.ask(objectKey, n),
      slowWebhooks: (objectKey) => this.occupancy.slowOf(objectKey),
      accept: (objectKey, next) => this.accept(objectKey, next),
      settled: () => this.pump(),
    });
    for (const item of items) this.requeue(objectKeyOf(item.body), item);
  }

  /** Runs until every claimed request finished and was reported, and what is left was handed back. */
  async run(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.done = resolve;
      this.pump();
    });
    await this.handBack();
    await this.reports.markGone();
  }

  private withinBudget(): boolean {
    return this.ports.now() < this.deadline;
  }

  private prefetch(): number {
    return this.latency.prefetch(this.startWindowMs);
  }

  /** How many more hand-outs to ask for, to keep the prefetch ready or on their way. */
  private wanted(): number {
    return this.withinBudget() ? Math.max(0, this.prefetch() - this.ready.size - this.occupancy.expected) : 0;
  }

  /** Too little ready or coming to keep the connections busy: reports should not wait. */
  private starving(): boolean {
    return this.ready.size + this.occupancy.expected < MAX_CONNECTIONS;
  }

  /** What one app holds in this run: ready, in flight, or asked for. */
  private held(objectKey: string): number {
    return this.ready.of(objectKey) + this.occupancy.inFlightOf(objectKey) + this.occupancy.askedOf(objectKey);
  }

  /** Each app's share of the prefetch, among the apps this run has work for. */
  private appShare(): number {
    const apps = new Set<string>();
    for (const objectKey of this.pending.claimableObjects()) apps.add(objectKey);
    for (const objectKey of this.ready.objectKeys()) apps.add(objectKey);
    for (const objectKey of this.occupancy.busyApps()) apps.add(objectKey);
    return appShare(this.prefetch(), apps.size);
  }

  /**
   * Each webhook's share of the connections: they are split evenly among the webhooks this run has
   * work for (in flight, ready, queued, or on its way back from a claim or report), so one that hangs
   * cannot take them all while another waits for its claim to come back.
   */
  private connectionShare(): number {
    // From MAX_CONNECTIONS webhooks on, the share is one connection each: counting further changes nothing.
    const active = new Set<string>();
    for (const webhook of this.occupancy.busyWebhooks()) active.add(webhook);
    for (const webhook of this.occupancy.awaitedWebhooks()) active.add(webhook);
    for (const webhook of this.ready.webhooks()) {
      if (active.size >= MAX_CONNECTIONS) break;
      active.add(webhook);
    }
    this.pending.addClaimableWebhooks(active, MAX_CONNECTIONS);
    return Math.max(1, Math.floor(MAX_CONNECTIONS / Math.max(1, active.size)));
  }

  /** Starts ready requests on free connections, fewest-in-flight webhook first, then claims ahead. */
  private pump(): void {
    const share = this.connectionShare();
    // Requests that will not start (deadline passed, webhook turned slow) are reported at once.
    const dead = (r: ReadyHandOut) =>
      !this.startAllowed(this.ports.now(), r.startBy) || this.occupancy.isSlow(r.objectKey, r.handOut.webhookId);
    while (this.occupancy.inFlight < MAX_CONNECTIONS && this.ready.size > 0) {
      const next = this.ready.takeNext(share, dead, (webhookId) => this.occupancy.load(webhookId));
      if (!next) break;
      this.start(next.objectKey, next.handOut, next.startBy);
    }
    const want = this.wanted();
    if (want > 0) for (const [objectKey, claim] of this.pick(want)) void this.claim(objectKey, claim.items, claim.capacity);
    this.pollIdleShards();
    if (this.starving()) this.reports.flushAll();
    this.maybeDone();
  }

  /**
   * Claims to make, up to `count` hand-outs: apps holding the least first, each asked for its whole
   * remaining share with all of its messages in the batch (the object adds other released work of
   * the app to fill the share).
   */
  private pick(count: number): Map<string, { items: RunItem[]; capacity: number }> {
    const picks = new Map<string, { items: RunItem[]; capacity: number }>();
    const share = this.appShare();
    const apps = [...this.pending.claimableObjects()]
      .map((objectKey) => ({ objectKey, held: this.held(objectKey) }))
      .sort((a, b) => a.held - b.held);
    for (const { objectKey, held } of apps) {
      if (count <= 0) break;
      const room = Math.min(count, share - held);
      if (room <= 0) continue;
      picks.set(objectKey, { items: this.pending.take(objectKey, room), capacity: room });
      count -= room;
    }
    return picks;
  }

  /**
   * An idle shard of a sharded app is asked for released work (a claim with no messages pulls live
   * work first) every IDLE_SHARD_POLL_MS while another shard of the app keeps this run busy: else its
   * live event waits for a queue message queued behind this very run (docs/delivery.md, "Fairness").
   * An unsharded app, or one with no other object busy here, is never asked.
   */
  private pollIdleShards(): void {
    if (!this.idleShards.anySharded()) return;
    const want = this.wanted();
    if (want <= 0) return;
    const share = this.appShare();
    const due = this.idleShards.due(
      this.ports.now(),
      Math.ceil(want / share),
      (k) => this.held(k) > 0,
      (k) => this.pending.hasClaimable(k),
    );
    for (const objectKey of due) void this.claim(objectKey, [], Math.min(want, share));
  }

  private ask(objectKey: string, n: number): void {
    this.occupancy.ask(objectKey, n);
  }

  private async claim(objectKey: string, items: RunItem[], capacity: number): Promise<void> {
    this.ask(objectKey, capacity);
    this.calls++;
    try {
      const result = await this.ports.object(objectKey).claim(
        appIdOf(objectKey),
        items.map((i) => i.body),
        capacity,
        this.options.path,
      );
      const deferred = new Set(result.deferred);
      for (const item of items) {
        if (deferred.has(item.body.seq)) this.requeue(objectKey, item);
        else item.ack(); // handed out (the object owns its fate now), or no longer live
      }
      this.accept(objectKey, result.handOuts);
    } catch (err) {
      this.ports.log(`app ${objectKey}: claim failed; its messages come back in ${RETRY_DELAY_SECONDS} s`, err);
      for (const item of items) item.retry(RETRY_DELAY_SECONDS);
    } finally {
      this.ask(objectKey, -capacity);
      this.calls--;
      this.pump();
    }
  }

  private requeue(objectKey: string, item: RunItem): void {
    this.idleShards.know(objectKey);
    this.occupancy.served(objectKey, item.body.webhook);
    this.pending.add(objectKey, item);
  }

  /** Hand-outs received: each must start before the earlier of its two deadlines. */
  private accept(objectKey: string, handOuts: HandOut[]): void {
    const receivedAt = this.ports.now();
    this.idleShards.know(objectKey);
    for (const handOut of handOuts) {
      this.occupancy.served(objectKey, handOut.webhookId);
      this.startWindowMs = handOut.startWithinMs;
      this.ready.add({ objectKey, handOut, startBy: Math.min(handOut.startBy, receivedAt + handOut.startWithinMs) });
    }
  }

  /** Starts one hand-out now if its deadline allows and its webhook is not slow; otherwise reports it unsent. */
  private start(objectKey: string, handOut: HandOut, startBy: number): void {
    const ref = { seq: handOut.seq, deliveryId: handOut.deliveryId, attempt: handOut.attempt, handOutId: handOut.handOutId };
    const now = this.ports.now();
    if (!this.startAllowed(now, startBy) || this.occupancy.isSlow(objectKey, handOut.webhookId)) {
      this.finish(objectKey, { ...ref, startedAt: null, result: null });
      return;
    }
    this.occupancy.postStarted(objectKey, handOut.webhookId);
    // A slow answer moves a webhook off the fast path; on the slow path it is why the request is there.
    const onSlow = this.options.path === 'fast' ? () => this.markSlow(objectKey, handOut.webhookId) : () => {};
    void this.ports
      .post(handOut, onSlow)
      .catch(
        (err): AttemptResult => ({ error: `network: ${(err as Error)?.message ?? 'request failed'}`, latencyMs: this.ports.now() - now }),
      )
      .then((result) => {
        this.occupancy.postEnded(objectKey, handOut.webhookId);
        this.latency.observe(result.latencyMs);
        this.finish(objectKey, { ...ref, startedAt: now, result });
      });
  }

  /** A hand-out may start only before its deadline (the simulator's mutants override this to prove the fence needs it). */
  protected startAllowed(now: number, startBy: number): boolean {
    return now < startBy;
  }

  private markSlow(objectKey: string, webhookId: string): void {
    if (!this.occupancy.markSlow(objectKey, webhookId)) return;
    const back = this.pending.takeWebhook(objectKey, webhookId);
    this.calls++;
    const object = this.ports.object(objectKey);
    void handBack(object, appIdOf(objectKey), back, this.ports.log, () =>
      object.report(appIdOf(objectKey), [], { slowWebhooks: [webhookId] }),
    ).finally(() => {
      this.calls--;
      this.pump();
    });
  }

  private finish(objectKey: string, report: AttemptReport): void {
    this.reports.add(objectKey, report);
    this.pump();
  }

  private maybeDone(): void {
    const idle = this.occupancy.inFlight === 0 && this.calls === 0 && this.ready.size === 0 && this.reports.idle();
    if (!idle) return;
    const eligible = this.withinBudget() && this.pending.anyClaimable();
    if (!eligible) this.done();
  }

  /** Messages never claimed (budget spent, or their webhook turned slow) go back to their objects. */
  private async handBack(): Promise<void> {
    await Promise.all(
      this.pending.drain().map(([objectKey, items]) => handBack(this.ports.object(objectKey), appIdOf(objectKey), items, this.ports.log)),
    );
  }
}
