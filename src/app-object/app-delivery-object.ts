import { DurableObject } from 'cloudflare:workers';
import { settings } from '../config';
import { enqueueDeliveries } from '../delivery/enqueue';
import type { TimedActivity } from '../domain/activities';
import type { AttemptReport, DeliveryMessage, DeliveryPath, ReportOptions } from '../domain/delivery-protocol';
import { appObjectName } from '../domain/shards';
import { countingCalls, countingSql } from '../observability/work-counters';
import { AppObjectApi } from './app-object-api';
import { AppObjectViews } from './app-object-views';
import type { DeliverySettings } from './ports';
import type { ReconcileActions } from './reconcile';
import { DeliverySigner } from './signer';
import { AppStore } from './storage/app-store';
import type { LedgerFilter } from './storage/ledger-views';
import type { ReplayPartJob } from './storage/replay-store';
import type { AppStatus, Placement } from './storage/tenant-store';
import type { XaaSubscriptionRecord } from './storage/xaa-mirror-store';

/** The slice of the settings the object's delivery logic runs on. */
export function deliverySettings(env: Env): DeliverySettings {
  const s = settings(env);
  return {
    deliveryTimeoutMs: s.deliveryTimeoutMs,
    releaseLeaseMs: s.deliveryLeaseMs,
    handOutStartWindowMs: s.handOutStartWindowMs,
    reportGraceMs: s.reportGraceMs,
    retryScheduleSeconds: s.retryScheduleSeconds,
    retention: s.retention,
    replayRatePerSecond: s.replayRatePerSecond,
    slowWebhookMs: s.slowWebhookMs,
    stream: s.stream,
  };
}

/**
 * One object per developer app, addressed by `app:<app id>` (src/delivery/app-objects.ts). It alone
 * holds the app's consumer secret and webhook signing secrets, its outbox and its ledger. This class
 * is the RPC surface and the runtime's ports (clock, queues, alarm, WebCrypto signing); what each call
 * does is AppObjectApi (which the simulator runs too), and AppObjectViews for what only reads.
 */
export class AppDeliveryObject extends DurableObject<Env> {
  private readonly api: AppObjectApi;
  private readonly views: AppObjectViews;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const store = new AppStore(countingSql(ctx.storage.sql));
    const signer = new DeliverySigner();
    // Another shard of the same app, by app id and shard index (src/domain/shards.ts), as the Worker reaches it.
    const sibling = (appId: string, shard: number) => env.APP_DELIVERY.get(env.APP_DELIVERY.idFromName(appObjectName(appId, shard)));
    // Every RPC call and alarm reaches the object through `api` or `views`: each is a billed request, counted.
    this.api = countingCalls(
      new AppObjectApi(
        store,
        {
          now: () => Date.now(),
          enqueue: (messages: DeliveryMessage[], path: DeliveryPath) =>
            enqueueDeliveries(path === 'slow' ? env.DELIVERY_SLOW_QUEUE : env.DELIVERY_QUEUE, messages),
          wakeBy: async (at) => {
            const current = await ctx.storage.getAlarm();
            if (current === null || current > at) await ctx.storage.setAlarm(at);
          },
          setAlarm: async (at) => {
            if (at === null) await ctx.storage.deleteAlarm();
            else await ctx.storage.setAlarm(at);
          },
          sign: signer.sign,
          every: (ms, tick) => {
            const timer = setInterval(tick, ms);
            return () => clearInterval(timer);
          },
          shards: {
            startReplayPart: (appId, shard, job) => sibling(appId, shard).startReplayPart(appId, job),
            replayPartFinished: (appId, part) => sibling(appId, 0).replayPartFinished(appId, part),
          },
        },
        deliverySettings(env),
      ),
    );
    // The read-only questions share the same delivery state (its tenant check and caches), counted the same way.
    this.views = countingCalls(new AppObjectViews(this.api.delivery));
    ctx.blockConcurrencyWhile(async () => store.migrate());
  }

  provision(appId: string, consumerSecret: string, status: AppStatus, at: number, placement?: Placement) {
    return this.api.provision(appId, consumerSecret, status, at, placement);
  }
  setAppStatus(appId: string, status: AppStatus, at: number) {
    return this.api.setAppStatus(appId, status, at);
  }
  prepareCrc(appId: string) {
    return this.api.prepareCrc(appId);
  }
  stageConsumerSecret(appId: string, secret: string, previousUntil: number) {
    return this.api.stageConsumerSecret(appId, secret, previousUntil);
  }
  commitConsumerSecret(appId: string, secret: string) {
    return this.api.commitConsumerSecret(appId, secret);
  }
  rotateSigningSecret(appId: string, webhookId: string, previousUntil: number, given?: string) {
    return this.api.rotateSigningSecret(appId, webhookId, previousUntil, given);
  }
  addWebhook(appId: string, webhook: { id: string; url: string; createdAt: number }, given?: string) {
    return this.api.addWebhook(appId, webhook, given);
  }
  setWebhookValid(appId: string, webhookId: string, valid: boolean, at: number) {
    return this.api.setWebhookValid(appId, webhookId, valid, at);
  }
  deleteWebhook(appId: string, webhookId: string) {
    return this.api.deleteWebhook(appId, webhookId);
  }
  restrictAuthorization(appId: string, userId: string, scope: string, previousId?: string) {
    return this.api.restrictAuthorization(appId, userId, scope, previousId);
  }
  grantAuthorization(appId: string, grant: { authorizationId: string; userId: string; scope: string; at: number; supersedes?: string[] }) {
    return this.api.grantAuthorization(appId, grant);
  }
  revokeAuthorization(appId: string, userId: string, authorizationId?: string) {
    return this.api.revokeAuthorization(appId, userId, authorizationId);
  }
  addSubscription(appId: string, sub: { id: string; webhookId: string; userId: string; authorizationId: string; at: number }) {
    return this.api.addSubscription(appId, sub);
  }
  endSubscription(appId: string, webhookId: string, userId: string, subscriptionId?: string) {
    return this.api.endSubscription(appId, webhookId, userId, subscriptionId);
  }
  putXaaSubscription(appId: string, record: XaaSubscriptionRecord) {
    return this.api.putXaaSubscription(appId, record);
  }
  endXaaSubscriptions(appId: string, subscriptions: { id: string; userId: string }[]) {
    return this.api.endXaaSubscriptions(appId, subscriptions);
  }
  untargetXaaSubscription(appId: string, id: string, userId: string, asOf: number) {
    return this.api.untargetXaaSubscription(appId, id, userId, asOf);
  }
  openStream(appId: string, options: { from: number | null; endAt: number | null }) {
    return this.api.openStream(appId, options);
  }
  closeStream(appId: string, connectionId: string) {
    return this.api.closeStream(appId, connectionId);
  }
  xaaMirrorRows(appId: string, ids: string[], range: { after: string; upTo: string | null }) {
    return this.views.xaaMirrorRows(appId, ids, range);
  }
  ingest(appId: string, events: { eventId: string; activity: TimedActivity }[]) {
    return this.api.ingest(appId, events);
  }
  claim(appId: string, items: DeliveryMessage[], capacity: number, pull?: DeliveryPath) {
    return this.api.claim(appId, items, capacity, pull);
  }
  report(appId: string, reports: AttemptReport[], options: ReportOptions = {}) {
    return this.api.report(appId, reports, options);
  }
  returnUnclaimed(appId: string, items: DeliveryMessage[]) {
    return this.api.returnUnclaimed(appId, items);
  }
  startReplay(appId: string, job: ReplayPartJob) {
    return this.api.startReplay(appId, job);
  }
  startReplayPart(appId: string, job: ReplayPartJob) {
    return this.api.startReplayPart(appId, job);
  }
  replayPartFinished(appId: string, part: { jobId: string; shard: number; total: number; delivered: number }) {
    return this.api.replayPartFinished(appId, part);
  }
  sendTestEvent(appId: string, webhookId: string) {
    return this.api.sendTestEvent(appId, webhookId);
  }
  mirrorSummary(appId: string) {
    return this.views.mirrorSummary(appId);
  }
  mirrorRows(appId: string, table: 'authorizations' | 'subscriptions', ids: string[], range: { after: string; upTo: string | null }) {
    return this.views.mirrorRows(appId, table, ids, range);
  }
  applyReconcile(appId: string, actions: ReconcileActions) {
    return this.api.applyReconcile(appId, actions);
  }
  alarm() {
    return this.api.alarm();
  }
  ledger(appId: string, filter: LedgerFilter) {
    return this.views.ledger(appId, filter);
  }
  ledgerEntry(appId: string, id: number) {
    return this.views.ledgerEntry(appId, id);
  }
  webhookHealth(appId: string) {
    return this.views.webhookHealth(appId);
  }
  userSummary(appId: string, userId: string) {
    return this.views.userSummary(appId, userId);
  }
  sentIn(appId: string, from: number, to: number, afterId: number, limit: number) {
    return this.views.sentIn(appId, from, to, afterId, limit);
  }
}
