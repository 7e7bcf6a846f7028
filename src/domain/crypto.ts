/** Hashing, HMAC, random secrets and constant-time comparison, on WebCrypto only. */
const encoder = new TextEncoder();

const toBase64 = (bytes: Uint8Array): string => {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
};
const toBase64Url = (bytes: Uint8Array): string => toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const toHex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

const randomBytes = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

/** 256 random bits, base64url, behind a prefix that secret scanners can match. */
export const randomSecret = (prefix: string): string => `${prefix}${toBase64Url(randomBytes(32))}`;

/** A token for one-off use on the wire (CRC token, nonce): url-safe, no padding. */
export const randomToken = (bytes = 24): string => toBase64Url(randomBytes(bytes));

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** An identifier (not a secret) in X's consumer-key alphabet. */
export function randomAlnum(length: number): string {
  const out: string[] = [];
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      // 248 = 4 * 62: rejecting the top values keeps the distribution uniform.
      if (b < 248 && out.length < length) out.push(ALNUM[b % 62]);
    }
  }
  return out.join('');
}

/** SHA-256 of the UTF-8 text as base64url without padding (PKCE's S256, RFC 7636 §4.2). */
export async function sha256Base64Url(value: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value))));
}

/** SHA-256 as standard base64 (a CSP hash source). */
export async function sha256Base64(value: string): Promise<string> {
  return toBase64(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value))));
}

export async function sha256Hex(value: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value))));
}

/** Standard Webhooks keys are `whsec_<base64>`: the HMAC key is the decoded bytes. */
export function secretKeyBytes(secret: string): Uint8Array {
  if (secret.startsWith('whsec_')) {
    return Uint8Array.from(atob(secret.slice('whsec_'.length)), (c) => c.charCodeAt(0));
  }
  return encoder.encode(secret);
}

export const importHmacKey = (key: string | Uint8Array): Promise<CryptoKey> =>
  crypto.subtle.importKey('raw', typeof key === 'string' ? encoder.encode(key) : key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);

/** `key` may be an imported key, so that a caller signing many messages imports it once. */
export async function hmacSha256Base64(key: string | Uint8Array | CryptoKey, message: string | Uint8Array): Promise<string> {
  const cryptoKey = key instanceof CryptoKey ? key : await importHmacKey(key);
  const data = typeof message === 'string' ? encoder.encode(message) : message;
  return toBase64(new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, data)));
}

/** Compares two strings without leaking where they differ: both are hashed to equal length first. */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

export const TOKEN_PREFIX = {
  consumerSecret: 'aae_cs_',
  appToken: 'aae_at_',
  userToken: 'aae_ut_',
  platformToken: 'aae_pt_',
  refreshToken: 'aae_rt_',
  authorizationCode: 'aae_ac_',
} as const;

/** Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes. */
export const newWebhookSigningSecret = (): string => `whsec_${toBase64(randomBytes(32))}`;
