import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { hmacSha256Base64, newWebhookSigningSecret } from '../../src/domain/crypto';
import { signDelivery } from '../../src/domain/signing';

describe('delivery signatures', () => {
  const body = JSON.stringify({ for_user_id: '1', tweet_create_events: [{ text: 'héllo ✓' }] });
  const consumerSecret = 's3cr3t-consumer';

  it('carries an X signature over the exact body bytes', async () => {
    const headers = await signDelivery({
      body,
      webhookMessageId: 'msg_1',
      timestampSeconds: 1_700_000_000,
      consumerKey: consumerSecret,
      signingKey: newWebhookSigningSecret(),
    });
    expect(headers['x-twitter-webhooks-signature']).toBe(`sha256=${await hmacSha256Base64(consumerSecret, body)}`);
  });

  it('verifies with the official standardwebhooks package', async () => {
    const signingSecret = newWebhookSigningSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = await signDelivery({
      body,
      webhookMessageId: 'msg_abc',
      timestampSeconds: now,
      consumerKey: consumerSecret,
      signingKey: signingSecret,
    });
    const verified = new Webhook(signingSecret).verify(body, headers);
    expect(verified).toEqual(JSON.parse(body));
  });

  it('fails verification under another secret or a changed body', async () => {
    const now = Math.floor(Date.now() / 1000);
    const signingSecret = newWebhookSigningSecret();
    const headers = await signDelivery({
      body,
      webhookMessageId: 'msg_abc',
      timestampSeconds: now,
      consumerKey: consumerSecret,
      signingKey: signingSecret,
    });
    expect(() => new Webhook(newWebhookSigningSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(signingSecret).verify(`${body} `, headers)).toThrow();
    expect(() => new Webhook(signingSecret).verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow();
  });
});
