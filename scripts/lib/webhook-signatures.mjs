// The receiver's side of what the service signs, in the receiver's own code (independent of
// src/domain, so end-to-end runs check the service against the documented scheme, not itself):
//   - X's CRC: a GET signed `x-twitter-webhooks-signature: sha256=base64(HMAC(consumer secret,
//     "crc_token=<t>&nonce=<n>"))`, answered with `{"response_token": "sha256=base64(HMAC(consumer secret, t))"}`;
//   - X's delivery signature: `x-twitter-webhooks-signature: sha256=base64(HMAC(consumer secret, body))`;
//   - Standard Webhooks: `webhook-signature: v1,base64(HMAC(key, "<webhook-id>.<webhook-timestamp>.<body>"))`,
//     where the key is the base64 after `whsec_`; several space-separated signatures during a rotation.
// Keys are imported once (KeyObject); offered signatures are decoded once per request and compared as
// bytes in constant time.
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';

/** @typedef {import('node:crypto').KeyObject} KeyObject */

const SHA256_BASE64_LENGTH = 44;

/** An app's consumer secret as an HMAC key (its UTF-8 bytes, as X uses it). */
export function consumerKey(/** @type {string} */ secret) {
  if (typeof secret !== 'string' || secret.length === 0) throw new Error('a consumer secret must be a non-empty string');
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/** A webhook's Standard Webhooks signing secret (`whsec_<base64>`) as an HMAC key: the decoded bytes. */
export function signingKey(/** @type {string} */ secret) {
  const encoded = typeof secret === 'string' ? secret.replace(/^whsec_/, '') : '';
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length === 0 || bytes.toString('base64') !== encoded) {
    throw new Error('a webhook signing secret is whsec_ followed by base64, as POST /2/webhooks returned it');
  }
  return createSecretKey(bytes);
}

/** The 32 bytes of a base64 SHA-256 HMAC, or null unless `text` is exactly that in canonical base64. */
function digestBytes(/** @type {string} */ text) {
  if (text.length !== SHA256_BASE64_LENGTH) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === 32 && bytes.toString('base64') === text ? bytes : null;
}

/**
 * The digest an `x-twitter-webhooks-signature` header offers: null when it is absent or not
 * `sha256=<canonical base64 of 32 bytes>` (a lenient decode would let a wrongly encoded signature pass).
 * @param {string | string[] | undefined} header
 */
export function offeredXSignature(header) {
  return typeof header === 'string' && header.startsWith('sha256=') ? digestBytes(header.slice(7)) : null;
}

/**
 * The `v1` digests a `webhook-signature` header offers (other versions are skipped, as Standard
 * Webhooks asks); malformed entries offer nothing.
 * @param {string | string[] | undefined} header
 * @returns {Buffer[]}
 */
export function offeredStandardSignatures(header) {
  if (typeof header !== 'string') return [];
  const out = [];
  for (const entry of header.split(' ')) {
    if (!entry.startsWith('v1,')) continue;
    const bytes = digestBytes(entry.slice(3));
    if (bytes) out.push(bytes);
  }
  return out;
}

const hmac = (/** @type {KeyObject} */ key) => createHmac('sha256', key);

/** Does `offered` sign `body` with this consumer key? */
export const signsBody = (/** @type {KeyObject} */ key, /** @type {Buffer} */ body, /** @type {Buffer} */ offered) =>
  timingSafeEqual(hmac(key).update(body).digest(), offered);

/**
 * Does any offered signature sign this delivery with this webhook key?
 * @param {KeyObject} key
 * @param {string} id the `webhook-id` header
 * @param {string} timestamp the `webhook-timestamp` header
 * @param {Buffer} body
 * @param {Buffer[]} offered
 */
export function signsStandard(key, id, timestamp, body, offered) {
  const digest = hmac(key).update(`${id}.${timestamp}.`).update(body).digest();
  for (const o of offered) if (timingSafeEqual(digest, o)) return true;
  return false;
}

/** Does `offered` sign this CRC request with this consumer key? */
export const signsCrc = (
  /** @type {KeyObject} */ key,
  /** @type {string} */ crcToken,
  /** @type {string} */ nonce,
  /** @type {Buffer} */ offered,
) => timingSafeEqual(hmac(key).update(`crc_token=${crcToken}&nonce=${nonce}`).digest(), offered);

/** The CRC answer's `response_token` under this consumer key. */
export const crcResponseToken = (/** @type {KeyObject} */ key, /** @type {string} */ crcToken) =>
  `sha256=${hmac(key).update(crcToken).digest('base64')}`;
