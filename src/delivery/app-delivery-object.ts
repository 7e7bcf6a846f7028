import { DurableObject } from 'cloudflare:workers';
import { crcRequestSignature, crcResponseToken, type CrcChallenge } from '../domain/crc';
import { newWebhookSigningSecret, randomToken } from '../domain/crypto';
import { TenantState, type AppStatus, type Tenant } from './tenant-state';

/**
 * One object per developer app, addressed by `app:<app id>` (see `appObject`). It alone holds the
 * app's consumer secret and webhook signing secrets. Every RPC names the app it is meant for; a call
 * for any other app is refused, so a routing mix-up fails loudly instead of crossing tenants.
 */
export class AppDeliveryObject extends DurableObject<Env> {
  private readonly state: TenantState;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.state = new TenantState(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => this.state.migrate());
  }

  /** Throws unless this object was provisioned for `appId`. */
  private tenantFor(appId: string): Tenant {
    const tenant = this.state.tenant();
    if (!tenant) throw new Error(`app object refused a call for app ${appId}: it is not provisioned`);
    if (tenant.appId !== appId) {
      throw new Error(`app object of app ${tenant.appId} refused a call for app ${appId}`);
    }
    return tenant;
  }

  async provision(appId: string, consumerSecret: string, status: AppStatus, at: number): Promise<void> {
    const existing = this.state.tenant();
    if (existing && existing.appId !== appId) {
      throw new Error(`app object of app ${existing.appId} refused to be provisioned for app ${appId}`);
    }
    this.state.provision(appId, consumerSecret, status, at);
  }

  async setAppStatus(appId: string, status: AppStatus, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.setStatus(status, at);
  }

  /**
   * Everything the Worker needs to run a CRC without seeing the consumer secret: a fresh token and
   * nonce, the request signature, and the response token a correct webhook must send back.
   */
  async prepareCrc(appId: string): Promise<CrcChallenge> {
    const { consumerSecret } = this.tenantFor(appId);
    const crcToken = randomToken();
    const nonce = randomToken(16);
    const [signature, expectedResponseToken] = await Promise.all([
      crcRequestSignature(consumerSecret, crcToken, nonce),
      crcResponseToken(consumerSecret, crcToken),
    ]);
    return { crcToken, nonce, signature, expectedResponseToken };
  }

  /** Registers a webhook and returns its Standard Webhooks signing secret (shown to the developer once). */
  async addWebhook(appId: string, webhook: { id: string; url: string; createdAt: number }): Promise<string> {
    this.tenantFor(appId);
    const signingSecret = newWebhookSigningSecret();
    this.state.addWebhook(webhook, signingSecret);
    return signingSecret;
  }

  async setWebhookValid(appId: string, webhookId: string, valid: boolean): Promise<void> {
    this.tenantFor(appId);
    this.state.setWebhookValid(webhookId, valid);
  }

  async deleteWebhook(appId: string, webhookId: string, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.deleteWebhook(webhookId, at);
  }

  async grantAuthorization(appId: string, userId: string, scope: string, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.grantAuthorization(userId, scope, at);
  }

  async revokeAuthorization(appId: string, userId: string, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.revokeAuthorization(userId, at);
  }

  async addSubscription(appId: string, webhookId: string, userId: string, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.addSubscription(webhookId, userId, at);
  }

  async endSubscription(appId: string, webhookId: string, userId: string, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.endSubscription(webhookId, userId, at);
  }
}

/** The one way to reach an app's object: by app id, never by anything about its webhooks. */
export const appObject = (env: Env, appId: string) => env.APP_DELIVERY.get(env.APP_DELIVERY.idFromName(`app:${appId}`));
