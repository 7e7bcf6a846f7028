import { serialize } from 'hono/utils/cookie';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { constantTimeEqual, hmacSha256Base64, randomToken } from '../domain/crypto';
import { isLoopbackHost } from '../domain/redirect-uri';
import { ApiError } from '../errors';

/**
 * The signed-in user of the consent and Connected apps pages. Who the user is stays the platform's
 * call (src/auth/login.ts); once it said so, the service keeps a session in a signed, HttpOnly
 * cookie: a JWT (HS256, `jose`) with the user id, a random session id and an expiry. Nothing about
 * the session is stored server-side, so signing out clears the cookie and the lifetime bounds the rest.
 */
export interface UserSession {
  userId: string;
  /** Random per sign-in; binds CSRF tokens and consent forms to this session. */
  sessionId: string;
  expiresAt: number;
}

/** What each derived key signs; a value signed for one purpose never verifies for another. */
type Purpose = 'session' | 'login' | 'consent' | 'csrf' | 'dev-login';

const MIN_SECRET_LENGTH = 32;

/** The secret every page key derives from; a 503 naming the fix if it is missing or short. */
function sessionSecret(env: Env): string {
  const secret = env.SESSION_SECRET;
  if (!secret || secret.length < MIN_SECRET_LENGTH) {
    throw new ApiError(
      'service-unavailable',
      `user sign-in is not configured: set the SESSION_SECRET secret (at least ${MIN_SECRET_LENGTH} random characters)`,
    );
  }
  return secret;
}

/** HMAC-SHA256(SESSION_SECRET, purpose): one independent key per purpose. */
export async function purposeKey(env: Env, purpose: Purpose): Promise<Uint8Array> {
  const mac = await hmacSha256Base64(sessionSecret(env), `aae-page-key:${purpose}`);
  return Uint8Array.from(atob(mac), (ch) => ch.charCodeAt(0));
}

/** A short JWT only this service can sign, for one purpose. */
export async function signForPurpose(env: Env, purpose: Purpose, claims: JWTPayload, lifetimeMs: number): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: `aae-${purpose}` })
    .setIssuedAt()
    .setExpirationTime(Math.floor((Date.now() + lifetimeMs) / 1000))
    .sign(await purposeKey(env, purpose));
}

/** The claims of a value signed for `purpose`, or null if it is forged, expired or for another purpose. */
export async function verifyForPurpose(env: Env, purpose: Purpose, value: string): Promise<JWTPayload | null> {
  const key = await purposeKey(env, purpose);
  try {
    const { payload } = await jwtVerify(value, key, { algorithms: ['HS256'], typ: `aae-${purpose}`, requiredClaims: ['exp'] });
    return payload;
  } catch {
    return null;
  }
}

/** Cookie names and the Secure attribute: `__Host-` and Secure everywhere but plain http on a loopback host (local development). */
export function cookiePolicy(requestUrl: string) {
  const url = new URL(requestUrl);
  const secure = !(url.protocol === 'http:' && isLoopbackHost(url.hostname));
  const prefix = secure ? '__Host-' : '';
  return { secure, session: `${prefix}aae_session`, login: `${prefix}aae_login` };
}

/** A Set-Cookie value: HttpOnly, SameSite=Lax (the session must ride along the app's top-level redirect to the consent page), Path=/. */
export function cookieHeader(requestUrl: string, name: string, value: string, maxAgeSeconds: number): string {
  const { secure } = cookiePolicy(requestUrl);
  return serialize(name, value, { httpOnly: true, secure, sameSite: 'Lax', path: '/', maxAge: maxAgeSeconds });
}

export async function newSession(env: Env, userId: string, lifetimeMs: number): Promise<{ cookieValue: string; session: UserSession }> {
  const sessionId = randomToken(18);
  const cookieValue = await signForPurpose(env, 'session', { sub: userId, sid: sessionId }, lifetimeMs);
  return { cookieValue, session: { userId, sessionId, expiresAt: Date.now() + lifetimeMs } };
}

/** The session a cookie value carries, or null if there is none or it does not verify. */
export async function readSession(env: Env, cookieValue: string | undefined): Promise<UserSession | null> {
  if (!cookieValue) return null;
  const claims = await verifyForPurpose(env, 'session', cookieValue);
  if (!claims || typeof claims.sub !== 'string' || typeof claims.sid !== 'string' || !/^[0-9]{1,19}$/.test(claims.sub)) return null;
  return { userId: claims.sub, sessionId: claims.sid, expiresAt: (claims.exp ?? 0) * 1000 };
}

/** The CSRF token of a session's forms: an HMAC of its session id, so it cannot be made without the secret. */
export async function csrfToken(env: Env, session: UserSession): Promise<string> {
  return hmacSha256Base64(await purposeKey(env, 'csrf'), session.sessionId);
}

export async function csrfTokenMatches(env: Env, session: UserSession, presented: unknown): Promise<boolean> {
  return typeof presented === 'string' && constantTimeEqual(presented, await csrfToken(env, session));
}
