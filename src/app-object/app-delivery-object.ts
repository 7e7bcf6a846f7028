import { DurableObject } from 'cloudflare:workers';
import { settings } from '../config';
import { enqueueDeliveries } from '../delivery/enqueue';
import type { TimedActivity } from '../domain/activities';
import { type CrcChallenge, crcRequestSignature, crcResponseToken } from '../domain/crc';
import { newWebhookSigningSecret, randomToken } from '../domain/crypto';
import type { AttemptReport, ClaimResult, DeliveryMessage, DeliveryPath, ReportResult, Withdrawal } from '../domain/delivery-protocol';
import { ControlPlane } from './control-plane';
import type { DeliverySettings, ObjectPorts } from './ports';
import { startReplay } from './replay';
import { DeliverySigner, inGrace } from './signer';
import { AppStore } from './storage/app-store';
import type { LedgerFilter } from './storage/ledger-store';
import type { AddRefusal, AppStatus } from './storage/mirror-store';
import { alarmPass } from './sweep';
import { TenantDelivery } from './tenant-delivery';

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
  };
}

/**
 * One object per developer app, addressed by `app:<app id>` (src/delivery/app-objects.ts). It alone
 * holds the app's consumer secret and webhook signing secrets, its outbox and its ledger. Every RPC
 * names the app it is meant for and a call for any other app is refused, so a routing mix-up fails
 * loudly instead of crossing tenants. This class is only the RPC surface and the runtime's ports;
 * the delivery logic is TenantDelivery and ControlPlane, which the simulator runs too.
 */
export class AppDeliveryObject extends DurableObject<Env> {
  private readonly store: AppStore;
  private readonly delivery: TenantDelivery;
  private readonly control: ControlPlane;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new AppStore(ctx.storage.sql);
    const signer = new DeliverySigner();
    const ports: ObjectPorts = {
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
    };
    this.delivery = new TenantDelivery(this.store, ports, deliverySettings(env));
    this.control = new ControlPlane(this.delivery);
    ctx.blockConcurrencyWhile(async () => this.store.migrate());
  }

  // ---- control plane mirror ---------------------------------------------------------------------

  async provision(appId: string, consumerSecret: string, status: AppStatus, at: number): Promise<void> {
    const existing = this.store.mirror.tenant();
    if (existing && existing.appId !== appId) {
      throw new Error(`app object of app ${existing.appId} refused to be provisioned for app ${appId}`);
    }
    this.store.mirror.provision(appId, consumerSecret, status, at);
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
    const previous = inGrace(tenant.previousConsumerSecret, tenant.previousConsumerSecretUntil, Date.now());
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
    this.store.mirror.stageConsumerSecret(secret, previousUntil);
  }

  /** Step two, once D1 holds the new secret's hash; true if `secret` is now the consumer secret. */
  async commitConsumerSecret(appId: string, secret: string): Promise<boolean> {
    this.delivery.tenantFor(appId);
    return this.store.mirror.commitConsumerSecret(secret);
  }

  /** A new signing secret for one webhook; the previous one still signs too until `previousUntil`. */
  async rotateSigningSecret(appId: string, webhookId: string, previousUntil: number): Promise<string | null> {
    this.delivery.tenantFor(appId);
    const webhook = this.store.mirror.webhook(webhookId);
    if (!webhook || webhook.deleted_at !== null) return null;
    const secret = newWebhookSigningSecret();
    this.store.mirror.rotateSigningSecret(webhookId, secret, previousUntil);
    return secret;
  }

  /** Registers a webhook and returns its Standard Webhooks signing secret (shown to the developer once). */
  async addWebhook(appId: string, webhook: { id: string; url: string; createdAt: number }): Promise<string> {
    this.delivery.tenantFor(appId);
    const signingSecret = newWebhookSigningSecret();
    this.store.mirror.addWebhook(webhook, signingSecret);
    return this.store.mirror.webhook(webhook.id)?.signing_secret ?? signingSecret;
  }

  setWebhookValid(appId: string, webhookId: string, valid: boolean, at: number): Promise<void> {
    return this.control.setWebhookValid(appId, webhookId, valid, at);
  }

  deleteWebhook(appId: string, webhookId: string): Promise<Withdrawal> {
    return this.control.deleteWebhook(appId, webhookId);
  }

  restrictAuthorization(appId: string, userId: string, scope: string): Promise<Withdrawal> {
    return this.control.restrictAuthorization(appId, userId, scope);
  }

  grantAuthorization(
    appId: string,
    grant: { authorizationId: string; userId: string; scope: string; at: number },
  ): Promise<Withdrawal & { refused: AddRefusal | null }> {
    return this.control.grantAuthorization(appId, grant);
  }

  revokeAuthorization(appId: string, userId: string, authorizationId?: string): Promise<Withdrawal> {
    return this.control.revokeAuthorization(appId, userId, authorizationId);
  }

  async addSubscription(
    appId: string,
    sub: { id: string; webhookId: string; userId: string; authorizationId: string; at: number },
  ): Promise<AddRefusal | null> {
    return this.control.addSubscription(appId, sub);
  }

  endSubscription(appId: string, webhookId: string, userId: string, subscriptionId?: string): Promise<Withdrawal> {
    return this.control.endSubscription(appId, webhookId, userId, subscriptionId);
  }

  // ---- data plane -------------------------------------------------------------------------------

  async ingest(appId: string, events: { eventId: string; activity: TimedActivity }[]) {
    const result = this.delivery.ingest(appId, events);
    // The Worker puts the releases of every app it fanned out to on the queue; if that fails, the
    // release lease set here releases them again.
    if (result.messages > 0) await this.delivery.ports.wakeBy(Date.now() + this.delivery.settings.releaseLeaseMs);
    return result;
  }

  claim(appId: string, items: DeliveryMessage[], capacity: number): Promise<ClaimResult> {
    return this.delivery.claim(appId, items, capacity);
  }

  report(
    appId: string,
    reports: AttemptReport[],
    options: { chain?: boolean; capacity?: number; slowWebhooks?: string[] } = {},
  ): Promise<ReportResult> {
    return this.delivery.report(appId, reports, options);
  }

  returnUnclaimed(appId: string, items: DeliveryMessage[]): Promise<void> {
    return this.delivery.returnUnclaimed(appId, items);
  }

  startReplay(appId: string, job: { jobId: string; webhookId: string; from: number; to: number }) {
    return startReplay(this.delivery, appId, job);
  }

  async alarm(): Promise<void> {
    await alarmPass(this.delivery);
  }

  // ---- ledger questions -------------------------------------------------------------------------

  async ledger(appId: string, filter: LedgerFilter) {
    this.delivery.tenantFor(appId);
    return this.store.ledger.entries(filter);
  }

  async userSummary(appId: string, userId: string) {
    this.delivery.tenantFor(appId);
    return this.store.ledger.userSummary(userId);
  }

  async sentIn(appId: string, from: number, to: number, afterId: number, limit: number) {
    this.delivery.tenantFor(appId);
    return this.store.ledger.sentIn(from, to, afterId, limit);
  }
}
