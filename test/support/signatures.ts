import { Webhook } from 'standardwebhooks';
import { hmacSha256Base64 } from '../../src/domain/crypto';
import type { SeenRequest } from './receivers';

/**
 * Which of `webhooks` this POST was signed for: exactly one must verify the Standard Webhooks signature
 * (its own `whsec_` key), and the X signature must verify with that webhook's app secret and no other.
 */
export async function signerOf(post: SeenRequest, webhooks: { name: string; consumerSecret: string; signingSecret: string }[]) {
  const standard = webhooks.filter((w) => {
    try {
      new Webhook(w.signingSecret).verify(post.body, Object.fromEntries(post.headers));
      return true;
    } catch {
      return false;
    }
  });
  if (standard.length !== 1) throw new Error(`Standard Webhooks signature matches ${standard.length} known webhooks`);
  const xSig = post.headers.get('x-twitter-webhooks-signature');
  const secrets = [...new Set(webhooks.map((w) => w.consumerSecret))];
  const xMatches = [];
  for (const secret of secrets) {
    if (xSig === `sha256=${await hmacSha256Base64(secret, post.body)}`) xMatches.push(secret);
  }
  if (xMatches.length !== 1 || xMatches[0] !== standard[0].consumerSecret) {
    throw new Error(`X signature does not belong to the app of ${standard[0].name}`);
  }
  return standard[0].name;
}
