import { appShare, LatencyEstimate, MAX_CONNECTIONS } from '../domain/consumer-pacing';
import type { AttemptReport, HandOut } from '../domain/delivery-protocol';
import type { AttemptResult } from '../domain/retry';
import { appIdOf, objectKeyOf } from '../domain/shards';
import type { RunItem, RunOptions, RunPorts } from './delivery-run-ports';
import { handBack, RETRY_DELAY_SECONDS } from './run-handback';
import { RunOccupancy } from './run-occupancy';
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
  private readonly pending = new Map<string, RunItem[]>();
  private readonly ready: { appId: string; handOut: HandOut; startBy: number }[] = [];
  private readonly occupancy = new RunOccupancy();
  private readonly reports: RunReports;
  private readonly latency = new LatencyEstimate();
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
      reportNow: (appId) => this.readyOf(appId) + this.occupancy.inFlightOf(appId) === 0 || this.starving() || !this.withinBudget(),
      chainCapacity: (appId) => Math.max(0, Math.min(this.wanted(), this.appShare() - this.held(appId))),
      ask: (appId, n) => this.ask(appId, n),
      slowWebhooks: (appId) => this.occupancy.slowOf(appId),
      accept: (appId, next) => this.accept(appId, next),
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
    return this.withinBudget() ? Math.max(0, this.prefetch() - this.ready.length - this.occupancy.expected) : 0;
  }

  /** Too little ready or coming to keep the connections busy: reports should not wait. */
  private starving(): boolean {
    return this.ready.length + this.occupancy.expected < MAX_CONNECTIONS;
  }

  private isSlow(appId: string, webhookId: string): boolean {
    return this.occupancy.isSlow(appId, webhookId);
  }

  private load(webhookId: string): number {
    return this.occupancy.load(webhookId);
  }

  private readyOf(appId: string): number {
    let n = 0;
    for (const r of this.ready) if (r.appId === appId) n++;
    return n;
  }

  /** What one app holds in this run: ready, in flight, or asked for. */
  private held(appId: string): number {
    return this.readyOf(appId) + this.occupancy.inFlightOf(appId) + this.occupancy.askedOf(appId);
  }

  /** Whether the app has a message this run could claim (pump asks this of every app, every time). */
  private hasClaimable(appId: string): boolean {
    return (this.pending.get(appId) ?? []).some((i) => !this.isSlow(appId, i.body.webhook));
  }

  /** Each app's share of the prefetch, among the apps this run has work for. */
  private appShare(): number {
    const apps = new Set<string>();
    for (const [appId] of this.pending) if (this.hasClaimable(appId)) apps.add(appId);
    for (const r of this.ready) apps.add(r.appId);
    for (const appId of this.occupancy.busyApps()) apps.add(appId);
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
    for (const r of this.ready) if (active.size < MAX_CONNECTIONS) active.add(r.handOut.webhookId);
    for (const [appId, items] of this.pending) {
      if (active.size >= MAX_CONNECTIONS) break;
      for (const item of items) if (!this.isSlow(appId, item.body.webhook)) active.add(item.body.webhook);
    }
    return Math.max(1, Math.floor(MAX_CONNECTIONS / Math.max(1, active.size)));
  }

  /** Starts ready requests on free connections, fewest-in-flight webhook first, then claims ahead. */
  private pump(): void {
    const share = this.connectionShare();
    while (this.occupancy.inFlight < MAX_CONNECTIONS && this.ready.length > 0) {
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
    if (want > 0) for (const [appId, claim] of this.pick(want)) void this.claim(appId, claim.items, claim.capacity);
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
    const apps = [...this.pending.keys()]
      .filter((appId) => this.hasClaimable(appId))
      .map((appId) => ({ appId, held: this.held(appId) }))
      .sort((a, b) => a.held - b.held);
    for (const { appId, held } of apps) {
      if (count <= 0) break;
      const room = Math.min(count, share - held);
      if (room <= 0) continue;
      const list = this.pending.get(appId)!;
      const items: RunItem[] = [];
      const rest: RunItem[] = [];
      for (const item of list) {
        if (items.length < room && !this.isSlow(appId, item.body.webhook)) items.push(item);
        else rest.push(item);
      }
      this.pending.set(appId, rest);
      picks.set(appId, { items, capacity: room });
      count -= room;
    }
    return picks;
  }

  private ask(appId: string, n: number): void {
    this.occupancy.ask(appId, n);
  }

  private async claim(appId: string, items: RunItem[], capacity: number): Promise<void> {
    this.ask(appId, capacity);
    this.calls++;
    try {
      const result = await this.ports.object(appId).claim(
        appIdOf(appId),
        items.map((i) => i.body),
        capacity,
        this.options.path,
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
      this.ask(appId, -capacity);
      this.calls--;
      this.pump();
    }
  }

  private requeue(appId: string, item: RunItem): void {
    this.occupancy.served(appId, item.body.webhook);
    const list = this.pending.get(appId) ?? [];
    list.push(item);
    this.pending.set(appId, list);
  }

  /** Hand-outs received: each must start before the earlier of its two deadlines. */
  private accept(appId: string, handOuts: HandOut[]): void {
    const receivedAt = this.ports.now();
    for (const handOut of handOuts) {
      this.occupancy.served(appId, handOut.webhookId);
      this.startWindowMs = handOut.startWithinMs;
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
    this.occupancy.postStarted(appId, handOut.webhookId);
    // A slow answer moves a webhook off the fast path; on the slow path it is why the request is there.
    const onSlow = this.options.path === 'fast' ? () => this.markSlow(appId, handOut.webhookId) : () => {};
    void this.ports
      .post(handOut, onSlow)
      .catch(
        (err): AttemptResult => ({ error: `network: ${(err as Error)?.message ?? 'request failed'}`, latencyMs: this.ports.now() - now }),
      )
      .then((result) => {
        this.occupancy.postEnded(appId, handOut.webhookId);
        this.latency.observe(result.latencyMs);
        this.finish(appId, { ...ref, startedAt: now, result });
      });
  }

  /** A hand-out may start only before its deadline (the simulator's mutants override this to prove the fence needs it). */
  protected startAllowed(now: number, startBy: number): boolean {
    return now < startBy;
  }

  private markSlow(appId: string, webhookId: string): void {
    if (!this.occupancy.markSlow(appId, webhookId)) return;
    const items = this.pending.get(appId) ?? [];
    const back = items.filter((i) => i.body.webhook === webhookId);
    this.pending.set(
      appId,
      items.filter((i) => i.body.webhook !== webhookId),
    );
    this.calls++;
    const object = this.ports.object(appId);
    void handBack(object, appIdOf(appId), back, this.ports.log, () =>
      object.report(appIdOf(appId), [], { slowWebhooks: [webhookId] }),
    ).finally(() => {
      this.calls--;
      this.pump();
    });
  }

  private finish(appId: string, report: AttemptReport): void {
    this.reports.add(appId, report);
    this.pump();
  }

  private maybeDone(): void {
    const idle = this.occupancy.inFlight === 0 && this.calls === 0 && this.ready.length === 0 && this.reports.idle();
    if (!idle) return;
    const eligible = this.withinBudget() && [...this.pending.keys()].some((appId) => this.hasClaimable(appId));
    if (!eligible) this.done();
  }

  /** Messages never claimed (budget spent, or their webhook turned slow) go back to their objects. */
  private async handBack(): Promise<void> {
    await Promise.all([...this.pending].map(([appId, items]) => handBack(this.ports.object(appId), appIdOf(appId), items, this.ports.log)));
    this.pending.clear();
  }
}
