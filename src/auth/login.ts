import { createLocalJWKSet, decodeProtectedHeader, errors, type JSONWebKeySet, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { Settings } from '../config';
import { constantTimeEqual, randomToken } from '../domain/crypto';
import { isLoopbackHost, withQuery } from '../domain/redirect-uri';
import { ApiError, invalid } from '../errors';
import { purposeKey, signForPurpose, verifyForPurpose } from './session';

/**
 * Sign-in is the platform's: a browser without a session is sent to its LOGIN_URL with `return_to`
 * (this service's callback) and a `nonce`; the platform signs the user in its own way and sends the
 * browser back to the callback with `assertion`, a short-lived JWT it signed: `sub` the user id,
 * `aud` this service's origin, `nonce` as received, `iat` and `exp` at most 5 minutes apart. The
 * nonce is also kept in a signed cookie, so an assertion only signs in the browser that asked for it
 * (no login CSRF), and only once. Keys are the platform's public keys (LOGIN_ASSERTION_KEYS, a JWKS):
 * this service can verify assertions but never make one.
 */
export const LOGIN_CALLBACK_PATH = '/i/session/callback';
export const DEV_LOGIN_PATH = '/i/session/dev-login';
/** How long a started sign-in may take before the browser must start again. */
export const SIGN_IN_WINDOW_MS = 10 * 60_000;
/** The longest an assertion may live (from its `iat`). */
const ASSERTION_MAX_AGE = '5m';
/** The development login signs with a key of its own, named by this `kid`; accepted only when it is on. */
const DEV_LOGIN_KID = 'aae-dev-login';
const DEV_LOGIN_ISSUER = 'aae-dev-login';
/** Asymmetric algorithms only: a platform key that could also sign would let this service forge users. */
const PLATFORM_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

/** The only pages a sign-in may come back to: nothing outside this service (no open redirect). */
const RETURN_PATH = /^\/i\/(oauth2\/authorize|connected_apps)(\?[^#\\]*)?$/;
export const isReturnPath = (path: string): boolean => RETURN_PATH.test(path);

/** The development login exists only when DEV_LOGIN is on, and only for a browser on this machine. */
export const devLoginAvailable = (settings: Settings, origin: string): boolean =>
  settings.login.devLogin && isLoopbackHost(new URL(origin).hostname);

/** Where to send a browser to sign in, and the signed cookie that remembers the attempt. */
export async function beginSignIn(env: Env, settings: Settings, origin: string, returnPath: string) {
  if (!isReturnPath(returnPath)) throw invalid('a sign-in can only return to the consent or Connected apps page');
  const loginUrl = settings.login.url ?? (devLoginAvailable(settings, origin) ? `${origin}${DEV_LOGIN_PATH}` : null);
  if (!loginUrl) {
    throw new ApiError(
      'service-unavailable',
      "user sign-in is not configured: set LOGIN_URL to the platform's sign-in page (docs/operations.md)",
    );
  }
  const nonce = randomToken(24);
  const cookieValue = await signForPurpose(env, 'login', { nonce, rt: returnPath }, SIGN_IN_WINDOW_MS);
  return { location: withQuery(loginUrl, { return_to: `${origin}${LOGIN_CALLBACK_PATH}`, nonce }), cookieValue };
}

const refused = (why: string) => invalid(`the sign-in assertion was refused: ${why}`);

function explain(err: unknown): string {
  if (err instanceof errors.JWTExpired) return err.claim === 'iat' ? 'it was issued more than 5 minutes ago' : 'it has expired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return `its "${err.claim}" claim ${err.reason === 'missing' ? 'is missing' : 'is not acceptable'}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify with the configured keys';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no configured key matches it';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'it is signed with an algorithm that is not accepted';
  return 'it is not a valid signed JWT';
}

/** Verifies an assertion with the platform's keys (or, when it is on, the development login's). */
async function verifyAssertion(env: Env, settings: Settings, origin: string, assertion: string): Promise<JWTPayload> {
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(assertion).kid;
  } catch {
    throw refused('it is not a signed JWT');
  }
  const common = { audience: origin, maxTokenAge: ASSERTION_MAX_AGE, requiredClaims: ['sub', 'iat', 'exp', 'nonce'], clockTolerance: 30 };
  try {
    if (kid === DEV_LOGIN_KID) {
      if (!devLoginAvailable(settings, origin)) throw refused('it is signed by the development login, which is off here');
      return (
        await jwtVerify(assertion, await purposeKey(env, 'dev-login'), { ...common, algorithms: ['HS256'], issuer: DEV_LOGIN_ISSUER })
      ).payload;
    }
    const keys = platformKeys(settings);
    return (
      await jwtVerify(assertion, createLocalJWKSet(keys), {
        ...common,
        algorithms: PLATFORM_ALGORITHMS,
        ...(settings.login.assertionIssuer ? { issuer: settings.login.assertionIssuer } : {}),
      })
    ).payload;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw refused(explain(err));
  }
}

function platformKeys(settings: Settings): JSONWebKeySet {
  const raw = settings.login.assertionKeys;
  if (raw) {
    try {
      const parsed = JSON.parse(raw) as JSONWebKeySet;
      if (Array.isArray(parsed?.keys) && parsed.keys.length > 0) return parsed;
    } catch {
      // reported below
    }
  }
  throw new ApiError(
    'service-unavailable',
    "user sign-in is not configured: LOGIN_ASSERTION_KEYS must be a JSON Web Key Set of the platform's public keys",
  );
}

/**
 * The browser came back from the platform's sign-in: the assertion must verify, be for this service
 * and carry the nonce of this browser's own sign-in attempt. Answers the user id and the page to go back to.
 */
export async function finishSignIn(
  env: Env,
  settings: Settings,
  origin: string,
  loginCookie: string | undefined,
  assertion: string | undefined,
): Promise<{ userId: string; returnPath: string }> {
  const attempt = loginCookie ? await verifyForPurpose(env, 'login', loginCookie) : null;
  if (!attempt || typeof attempt.nonce !== 'string' || typeof attempt.rt !== 'string' || !isReturnPath(attempt.rt)) {
    throw invalid('this sign-in was not started in this browser, or took longer than 10 minutes: go back to the app and start again');
  }
  if (!assertion) throw invalid('the sign-in came back without an assertion');
  const claims = await verifyAssertion(env, settings, origin, assertion);
  if (typeof claims.nonce !== 'string' || !(await constantTimeEqual(claims.nonce, attempt.nonce))) {
    throw refused('its nonce is not the one of this sign-in');
  }
  if (typeof claims.sub !== 'string' || !/^[0-9]{1,19}$/.test(claims.sub)) throw refused('its "sub" must be a numeric user id');
  return { userId: claims.sub, returnPath: attempt.rt };
}

/** The development login's assertion for `userId`: what a platform's sign-in page would send back. */
export async function devLoginAssertion(env: Env, origin: string, userId: string, nonce: string): Promise<string> {
  return new SignJWT({ nonce })
    .setProtectedHeader({ alg: 'HS256', kid: DEV_LOGIN_KID })
    .setIssuer(DEV_LOGIN_ISSUER)
    .setAudience(origin)
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(await purposeKey(env, 'dev-login'));
}
