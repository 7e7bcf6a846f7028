import { constantTimeEqual, sha256Base64Url } from './crypto';

/** PKCE (RFC 7636) with S256 only: `plain` would hand the verifier to whoever sees the authorization request. */
export const CODE_CHALLENGE_METHOD = 'S256';
/** A verifier: 43–128 unreserved characters (RFC 7636 §4.1). */
export const CODE_VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;
/** An S256 challenge: base64url of 32 bytes, without padding. */
export const CODE_CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Whether `verifier` is the one whose S256 challenge the client sent, compared in constant time. */
export async function verifierMatches(verifier: string, challenge: string): Promise<boolean> {
  return constantTimeEqual(await sha256Base64Url(verifier), challenge);
}
