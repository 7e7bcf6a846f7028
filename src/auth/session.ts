import { serialize } from 'hono/utils/cookie';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { constantTimeEqual, hmacSha256Base64, randomToken } from '../domain/crypto';
import { isLoopbackHost } from '../domain/redirect-uri';
import { ApiError } from '../errors';

/**
 * Page sessions, for three kinds of principal: an end user (consent and Connected apps pages), a
 * developer app (the developer portal) and the platform operator (the operator console). Once the
 * principal proved who it is, the service keeps a session in a signed, HttpOnly cookie: a JWT
 * (HS256, `jose`) with the principal's id, a random session id and an expiry, signed with a key of
 * its kind's own, so a session of one kind never verifies as another. Nothing is stored
 * server-side: signing out clears the cookie and the lifetime bounds the rest.
 *
 * A developer's or operator's session also carries a `binding`: a keyed fingerprint of the
 * credential they signed in with (never the credential). It is checked against the current
 * credential on every request, so rotating the consumer secret or the platform token ends every
 * session made with the old one.
 */
export type PrincipalKind = 'user' | 'developer' | 'operator';

export interface PageSession {
  kind: PrincipalKind;
  /** Who: the user id, the app id, or `platform`. */
  subject: string;
  /** Random per sign-in; binds CSRF tokens (and consent forms) to this session. */
  sessionId: string;
  expiresAt: number;
  /** The credential fingerprint (developer and operator sessions); null for users. */
  binding: string | null;
}

/** The signed-in user of the consent and Connected apps pages. */
export interface UserSession {
  userId: string;
  sessionId: string;
  expiresAt: number;
}

/** What each derived key signs; a value signed for one purpose never verifies for another. */
type Purpose = 'session' | 'portal-session' | 'console-session' | 'credential-binding' | 'login' | 'consent' | 'csrf' | 'dev-login';

const SESSION_PURPOSE: Record<PrincipalKind, Purpose> = {
  user: 'session',
  developer: 'portal-session',
  operator: 'console-session',
};

/** The subject each kind of session may name: numeric ids for users and apps, the one platform operator. */
const SUBJECT: Record<PrincipalKind, RegExp> = {
  user: /^[0-9]{1,19}$/,
  developer: /^[0-9]{1,19}$/,
  operator: /^platform$/,
};

const MIN_SECRET_LENGTH = 32;

/** The secret every page key derives from; a 503 naming the fix if it is missing or short. */
function sessionSecret(env: Env): string {
  const secret = env.SESSION_SECRET;
  if (!secret || secret.length < MIN_SECRET_LENGTH) {
    throw new ApiError(
      'service-unavailable',
      `page sign-in is not configured: set the SESSION_SECRET secret (at least ${MIN_SECRET_LENGTH} random characters)`,
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
  return {
    secure,
    session: `${prefix}aae_session`,
    login: `${prefix}aae_login`,
    portal: `${prefix}aae_portal`,
    console: `${prefix}aae_console`,
    /** The nonce a sign-in form's CSRF token is made from, per kind (developer or operator). */
    signInForm: (kind: 'developer' | 'operator') => `${prefix}aae_${kind === 'developer' ? 'portal' : 'console'}_sign_in`,
  };
}

/**
 * A Set-Cookie value: HttpOnly, Path=/ and SameSite: Lax for users (their session must ride along an
 * app's top-level redirect to the consent page), Strict for the portal and console (nothing outside
 * them ever needs to carry their sessions in).
 */
export function cookieHeader(
  requestUrl: string,
  name: string,
  value: string,
  maxAgeSeconds: number,
  sameSite: 'Lax' | 'Strict' = 'Lax',
): string {
  const { secure } = cookiePolicy(requestUrl);
  return serialize(name, value, { httpOnly: true, secure, sameSite, path: '/', maxAge: maxAgeSeconds });
}

/** A new session of `kind` for `subject`, as a cookie value. */
export async function startSession(
  env: Env,
  kind: PrincipalKind,
  subject: string,
  lifetimeMs: number,
  binding: string | null = null,
): Promise<{ cookieValue: string; session: PageSession }> {
  const sessionId = randomToken(18);
  const claims = { sub: subject, sid: sessionId, ...(binding ? { bnd: binding } : {}) };
  const cookieValue = await signForPurpose(env, SESSION_PURPOSE[kind], claims, lifetimeMs);
  return { cookieValue, session: { kind, subject, sessionId, expiresAt: Date.now() + lifetimeMs, binding } };
}

/** The session of `kind` a cookie value carries, or null if there is none or it does not verify. */
export async function readPageSession(env: Env, kind: PrincipalKind, cookieValue: string | undefined): Promise<PageSession | null> {
  if (!cookieValue) return null;
  const claims = await verifyForPurpose(env, SESSION_PURPOSE[kind], cookieValue);
  if (!claims || typeof claims.sub !== 'string' || typeof claims.sid !== 'string' || !SUBJECT[kind].test(claims.sub)) return null;
  const binding = typeof claims.bnd === 'string' ? claims.bnd : null;
  if (kind !== 'user' && !binding) return null;
  return { kind, subject: claims.sub, sessionId: claims.sid, expiresAt: (claims.exp ?? 0) * 1000, binding };
}

/**
 * The keyed fingerprint of the credential a developer or operator signed in with: the stored hash of
 * the consumer secret, or the platform token. It cannot be turned back into the credential.
 */
export async function credentialBinding(env: Env, kind: 'developer' | 'operator', credential: string): Promise<string> {
  const mac = await hmacSha256Base64(await purposeKey(env, 'credential-binding'), `${kind}:${credential}`);
  return mac.slice(0, 22);
}

/** Whether a session is still bound to the credential as it is now (compared in constant time). */
export async function bindingHolds(env: Env, session: PageSession, kind: 'developer' | 'operator', credential: string): Promise<boolean> {
  return session.binding !== null && constantTimeEqual(session.binding, await credentialBinding(env, kind, credential));
}

const asUserSession = (s: PageSession): UserSession => ({ userId: s.subject, sessionId: s.sessionId, expiresAt: s.expiresAt });

export async function newSession(env: Env, userId: string, lifetimeMs: number): Promise<{ cookieValue: string; session: UserSession }> {
  const { cookieValue, session } = await startSession(env, 'user', userId, lifetimeMs);
  return { cookieValue, session: asUserSession(session) };
}

/** The user session a cookie value carries, or null if there is none or it does not verify. */
export async function readSession(env: Env, cookieValue: string | undefined): Promise<UserSession | null> {
  const session = await readPageSession(env, 'user', cookieValue);
  return session ? asUserSession(session) : null;
}

/** The CSRF token of a session's forms: an HMAC of its session id, so it cannot be made without the secret. */
export async function csrfToken(env: Env, session: { sessionId: string }): Promise<string> {
  return hmacSha256Base64(await purposeKey(env, 'csrf'), session.sessionId);
}

export async function csrfTokenMatches(env: Env, session: { sessionId: string }, presented: unknown): Promise<boolean> {
  return typeof presented === 'string' && constantTimeEqual(presented, await csrfToken(env, session));
}

/**
 * The CSRF token of a sign-in form, before there is a session: an HMAC of a random nonce the browser
 * also holds in a cookie, so a form posted from elsewhere (login CSRF) cannot carry a matching pair.
 */
export async function signInFormToken(env: Env, nonce: string): Promise<string> {
  return hmacSha256Base64(await purposeKey(env, 'csrf'), `sign-in:${nonce}`);
}

export async function signInFormTokenMatches(env: Env, nonce: string | undefined, presented: unknown): Promise<boolean> {
  if (!nonce || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce) || typeof presented !== 'string') return false;
  return constantTimeEqual(presented, await signInFormToken(env, nonce));
}
