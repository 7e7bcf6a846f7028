import { hmacSha256Base64, secretKeyBytes } from './crypto';

/**
 * The headers that sign one delivery attempt (DELIVERY.md, "Signing every delivery"): X's
 * `x-twitter-webhooks-signature` over the body with the consumer secret, and Standard Webhooks
 * headers over `<id>.<timestamp>.<body>` with the webhook's own `whsec_` key.
 */
export async function signDelivery(input: {
  body: string;
  webhookMessageId: string;
  timestampSeconds: number;
  /** The consumer secret, or its imported HMAC key. */
  consumerKey: string | CryptoKey;
  /** The webhook's `whsec_` secret, or its imported HMAC key (of the decoded bytes). */
  signingKey: string | CryptoKey;
}): Promise<Record<string, string>> {
  const { body, webhookMessageId, timestampSeconds } = input;
  const signingKey = typeof input.signingKey === 'string' ? secretKeyBytes(input.signingKey) : input.signingKey;
  const [xSignature, standardSignature] = await Promise.all([
    hmacSha256Base64(input.consumerKey, body),
    hmacSha256Base64(signingKey, `${webhookMessageId}.${timestampSeconds}.${body}`),
  ]);
  return {
    'x-twitter-webhooks-signature': `sha256=${xSignature}`,
    'webhook-id': webhookMessageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${standardSignature}`,
  };
}
