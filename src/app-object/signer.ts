import { USER_AGENT } from '../config';
import { importHmacKey, secretKeyBytes } from '../domain/crypto';
import { signDelivery } from '../domain/signing';
import type { MessageRow } from './storage/outbox-store';
import type { Tenant } from './storage/tenant-store';

export type WebhookSecrets = {
  url: string;
  signing_secret: string;
  previous_signing_secret: string | null;
  previous_signing_secret_until: number | null;
};

/** A request ready to POST, signed for one attempt. */
export interface SignedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What signs a message for its webhook: the object's DeliverySigner, or a stand-in in the simulator. */
export type Sign = (tenant: Tenant, message: MessageRow, webhook: WebhookSecrets, now: number) => Promise<SignedRequest>;

/** A secret kept after a rotation is honoured only until its grace window ends. */
export const inGrace = (secret: string | null, until: number | null, now: number): string | null =>
  secret && until !== null && now < until ? secret : null;

/**
 * Turns one outbox message into the request the consumer POSTs, signed now (fresh
 * `webhook-timestamp`). Lives inside one app's object: its key cache holds only that tenant's keys,
 * by webhook id ('' for the consumer secret), each with the secret it was imported from so a rotated
 * secret is never signed with a stale key.
 */
export class DeliverySigner {
  private readonly keys = new Map<string, { secret: string; key: CryptoKey }>();

  private async key(keyId: string, secret: string, raw: boolean): Promise<CryptoKey> {
    const cached = this.keys.get(keyId);
    if (cached?.secret === secret) return cached.key;
    const key = await importHmacKey(raw ? secret : secretKeyBytes(secret));
    this.keys.set(keyId, { secret, key });
    return key;
  }

  readonly sign: Sign = async (tenant, message, webhook, now) => {
    const previous = inGrace(webhook.previous_signing_secret, webhook.previous_signing_secret_until, now);
    const headers = await signDelivery({
      body: message.payload!,
      webhookMessageId: message.webhook_message_id,
      timestampSeconds: Math.floor(now / 1000),
      consumerKey: await this.key('', tenant.consumerSecret, true),
      signingKey: await this.key(message.webhook_id, webhook.signing_secret, false),
      previousSigningKey: previous ? await this.key(`${message.webhook_id}:previous`, previous, false) : null,
    });
    return {
      url: webhook.url,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        ...headers,
        ...(message.replay_job_id ? { 'x-replay-job-id': message.replay_job_id } : {}),
      },
      body: message.payload!,
    };
  };
}
