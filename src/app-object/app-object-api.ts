import type { TimedActivity } from '../domain/activities';
import { type CrcChallenge, crcRequestSignature, crcResponseToken } from '../domain/crc';
import { newWebhookSigningSecret, randomToken } from '../domain/crypto';
import type {
  AttemptReport,
  ClaimResult,
  DeliveryMessage,
  DeliveryPath,
  ReportOptions,
  ReportResult,
  Withdrawal,
} from '../domain/delivery-protocol';
import { shardOfUser } from '../domain/shards';
import { ControlPlane } from './control-plane';
import type { DeliverySettings, ObjectPorts } from './ports';
import { applyReconcile, type ReconcileActions } from './reconcile';
import { startReplay } from './replay';
import { type ReplayPartState, replayPartFinished, startReplayPart } from './replay-shards';
import { reportAttempts, returnUnclaimed } from './reports';
import { inGrace } from './signer';
import type { AppStore } from './storage/app-store';
import type { AddRefusal } from './storage/mirror-store';
import type { ReplayPartJob } from './storage/replay-store';
import { type AppStatus, ONLY_SHARD, type Placement } from './storage/tenant-store';
import type { XaaSubscriptionRecord } from './storage/xaa-mirror-store';
import { alarmPass } from './sweep';
import { TenantDelivery } from './tenant-delivery';
import { queueTestEvent, type TestEventResult } from './test-event';
import { XaaControl } from './xaa-control';

/**
 * Everything an app's object answers, apart from the Durable Object runtime itself: the object class
 * delegates each RPC here, and the simulator calls it directly with its own ports. Every call names
 * the app it is meant for, and a call for any other app is refused.
 */
export class AppObjectApi {
  readonly delivery: TenantDelivery;
  private readonly control: ControlPlane;
  private readonly xaa: XaaControl;

  constructor(
    readonly store: AppStore,
    ports: ObjectPorts,
    settings: DeliverySettings,
  ) {
    this.delivery = new TenantDelivery(store, ports, settings);
    this.control = new ControlPlane(this.delivery);
    this.xaa = new XaaControl(this.delivery, this.control);
  }

  // ---- control plane mirror ---------------------------------------------------------------------

  /**
   * A shard of a sharded app holds only its own users (src/domain/shards.ts): a grant or subscription
   * for anyone else was routed wrongly, and is refused rather than delivered from the wrong object.
   */
  private assertUserHere(appId: string, userId: string): void {
    const { shard, shards } = this.delivery.tenantFor(appId).placement;
    if (shardOfUser(userId, shards) !== shard) {
      throw new Error(`app ${appId}: user ${userId} belongs to shard ${shardOfUser(userId, shards)} of ${shards}, not shard ${shard}`);
    }
  }

  async provision(appId: string, consumerSecret: string, status: AppStatus, at: number, placement: Placement = ONLY_SHARD): Promise<void> {
    const existing = this.store.tenant.get();
    if (existing && existing.appId !== appId) {
      throw new Error(`app object of app ${existing.appId} refused to be provisioned for app ${appId}`);
    }
    if (existing && (existing.placement.shard !== placement.shard || existing.placement.shards !== placement.shards)) {
      throw new Error(
        `app object of app ${appId} is shard ${existing.placement.shard} of ${existing.placement.shards}; refused to become shard ${placement.shard} of ${placement.shards}`,
      );
    }
    this.store.tenant.provision(appId, consumerSecret, status, at, placement);
  }

  setAppStatus(appId: string, status: AppStatus, at: number): Promise<Withdrawal> {
    return this.control.setAppStatus(appId, status, at);
  }

  /**
   * Everything the Worker needs to run a CRC without seeing the consumer secret: a fresh token and
   * nonce, the request signature, and the response token a correct webhook must send back.
   */
  async prepareCrc(appId: string): Promise<CrcChallenge> {
    const tenant = this.delivery.tenantFor(appId);
    const crcToken = randomToken();
    const nonce = randomToken(16);
    const previous = inGrace(tenant.previousConsumerSecret, tenant.previousConsumerSecretUntil, this.delivery.ports.now());
    const [signature, ...expectedResponseTokens] = await Promise.all([
      crcRequestSignature(tenant.consumerSecret, crcToken, nonce),
      crcResponseToken(tenant.consumerSecret, crcToken),
      ...(previous ? [crcResponseToken(previous, crcToken)] : []),
    ]);
    return { crcToken, nonce, signature, expectedResponseTokens };
  }

  /** Step one of a consumer-secret rotation: nothing signs with it until it is committed. */
  async stageConsumerSecret(appId: string, secret: string, previousUntil: number): Promise<void> {
    this.delivery.tenantFor(appId);
    this.store.tenant.stageConsumerSecret(secret, previousUntil);
  }

  /** Step two, once D1 holds the new secret's hash; true if `secret` is now the consumer secret. */
  async commitConsumerSecret(appId: string, secret: string): Promise<boolean> {
    this.delivery.tenantFor(appId);
    return this.store.tenant.commitConsumerSecret(secret);
  }

  /**
   * A new signing secret for one webhook; the previous one still signs too until `previousUntil`.
   * The other shards of a sharded app are given the secret their first shard drew (`secret`).
   */
  async rotateSigningSecret(appId: string, webhookId: string, previousUntil: number, given?: string): Promise<string | null> {
    this.delivery.tenantFor(appId);
    const webhook = this.store.webhooks.get(webhookId);
    if (!webhook || webhook.deleted_at !== null) return null;
    const secret = given ?? newWebhookSigningSecret();
    this.store.webhooks.rotateSigningSecret(webhookId, secret, previousUntil);
    return secret;
  }

  /**
   * Registers a webhook and returns its Standard Webhooks signing secret (shown to the developer
   * once). The other shards of a sharded app are given the secret their first shard drew (`given`).
   */
  async addWebhook(appId: string, webhook: { id: string; url: string; createdAt: number }, given?: string): Promise<string> {
    this.delivery.tenantFor(appId);
    const signingSecret = given ?? newWebhookSigningSecret();
    this.store.webhooks.addWebhook(webhook, signingSecret);
    return this.store.webhooks.get(webhook.id)?.signing_secret ?? signingSecret;
  }

  setWebhookValid(appId: string, webhookId: string, valid: boolean, at: number): Promise<void> {
    return this.control.setWebhookValid(appId, webhookId, valid, at);
  }

  deleteWebhook(appId: string, webhookId: string): Promise<Withdrawal> {
    return this.control.deleteWebhook(appId, webhookId);
  }

  restrictAuthorization(appId: string, userId: string, scope: string, previousId?: string): Promise<Withdrawal> {
    return this.control.restrictAuthorization(appId, userId, scope, previousId);
  }

  grantAuthorization(
    appId: string,
    grant: { authorizationId: string; userId: string; scope: string; at: number; supersedes?: string[] },
  ): Promise<Withdrawal & { refused: AddRefusal | null }> {
    this.assertUserHere(appId, grant.userId);
    return this.control.grantAuthorization(appId, grant);
  }

  revokeAuthorization(appId: string, userId: string, authorizationId?: string): Promise<Withdrawal> {
    return this.control.revokeAuthorization(appId, userId, authorizationId);
  }

  async addSubscription(
    appId: string,
    sub: { id: string; webhookId: string; userId: string; authorizationId: string; at: number },
  ): Promise<AddRefusal | null> {
    this.assertUserHere(appId, sub.userId);
    return this.control.addSubscription(appId, sub);
  }

  endSubscription(appId: string, webhookId: string, userId: string, subscriptionId?: string): Promise<Withdrawal> {
    return this.control.endSubscription(appId, webhookId, userId, subscriptionId);
  }

  // ---- X Activity API subscriptions and the stream (docs/xaa.md) --------------------------------

  async putXaaSubscription(appId: string, record: XaaSubscriptionRecord): Promise<AddRefusal | null> {
    this.assertUserHere(appId, record.userId);
    return this.xaa.put(appId, record);
  }

  endXaaSubscriptions(appId: string, subscriptions: { id: string; userId: string }[]): Promise<Withdrawal> {
    return this.xaa.end(appId, subscriptions);
  }

  untargetXaaSubscription(appId: string, id: string, userId: string, asOf: number): Promise<Withdrawal> {
    return this.xaa.untarget(appId, id, userId, asOf);
  }

  /**
   * A new connection to the app's stream, from the first line ingested at or after `from` (null: from
   * now on); null when the app is not active or has its maximum of open connections.
   */
  async openStream(
    appId: string,
    options: { from: number | null; endAt: number | null },
  ): Promise<{ id: string; stream: ReadableStream<Uint8Array> } | { refused: 'not_active' | 'too_many_connections' }> {
    const tenant = this.delivery.tenantFor(appId);
    if (tenant.status !== 'active') return { refused: 'not_active' };
    return this.delivery.streams.open(options) ?? { refused: 'too_many_connections' };
  }

  /** The stream's client went away: its connection is closed and no longer counts. */
  async closeStream(appId: string, connectionId: string): Promise<void> {
    this.delivery.tenantFor(appId);
    this.delivery.streams.disconnect(connectionId);
  }

  // ---- data plane -------------------------------------------------------------------------------

  async ingest(appId: string, events: { eventId: string; activity: TimedActivity }[]) {
    const result = this.delivery.ingest(appId, events);
    // The Worker puts the releases of every app it fanned out to on the queue; if that fails, the
    // release lease set here releases them again.
    if (result.messages > 0) await this.delivery.ports.wakeBy(this.delivery.ports.now() + this.delivery.settings.releaseLeaseMs);
    return result;
  }

  claim(appId: string, items: DeliveryMessage[], capacity: number, pull?: DeliveryPath): Promise<ClaimResult> {
    return this.delivery.claim(appId, items, capacity, pull);
  }

  report(appId: string, reports: AttemptReport[], options: ReportOptions = {}): Promise<ReportResult> {
    return reportAttempts(this.delivery, appId, reports, options);
  }

  returnUnclaimed(appId: string, items: DeliveryMessage[]): Promise<void> {
    return returnUnclaimed(this.delivery, appId, items);
  }

  startReplay(appId: string, job: ReplayPartJob) {
    return startReplay(this.delivery, appId, job);
  }

  /** Another shard's part of a replay job that shard 0 holds (replay-shards.ts). */
  startReplayPart(appId: string, job: ReplayPartJob): Promise<ReplayPartState> {
    return startReplayPart(this.delivery, appId, job);
  }

  replayPartFinished(appId: string, part: { jobId: string; shard: number; total: number; delivered: number }): Promise<void> {
    return replayPartFinished(this.delivery, appId, part);
  }

  /** A developer's test event to one webhook: synthetic, signed, on the ledger (test-event.ts). */
  sendTestEvent(appId: string, webhookId: string): Promise<TestEventResult> {
    return queueTestEvent(this.delivery, appId, webhookId);
  }

  alarm(): Promise<void> {
    return alarmPass(this.delivery);
  }

  // ---- reconcile (src/delivery/reconcile.ts; the drift check's reads are AppObjectViews) ----------

  applyReconcile(appId: string, actions: ReconcileActions): Promise<void> {
    return applyReconcile(this.delivery, this.control, appId, actions);
  }
}
