import { hmacSha256Base64, secretKeyBytes } from './crypto';

/**
 * The headers that sign one delivery attempt (docs/delivery.md, "Signing"): X's
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
  /**
   * During a signing-secret rotation's grace window, the previous key: its signature follows the new
   * one in `webhook-signature`, space-separated, so receivers pinned to either verify.
   */
  previousSigningKey?: string | CryptoKey | null;
}): Promise<Record<string, string>> {
  const { body, webhookMessageId, timestampSeconds } = input;
  const asKey = (k: string | CryptoKey) => (typeof k === 'string' ? secretKeyBytes(k) : k);
  const signedContent = `${webhookMessageId}.${timestampSeconds}.${body}`;
  const standardKeys = [input.signingKey, ...(input.previousSigningKey ? [input.previousSigningKey] : [])];
  const [xSignature, ...standardSignatures] = await Promise.all([
    hmacSha256Base64(input.consumerKey, body),
    ...standardKeys.map((k) => hmacSha256Base64(asKey(k), signedContent)),
  ]);
  return {
    'x-twitter-webhooks-signature': `sha256=${xSignature}`,
    'webhook-id': webhookMessageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': standardSignatures.map((sig) => `v1,${sig}`).join(' '),
  };
}
