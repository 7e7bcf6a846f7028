import type { Settings } from '../config';
import { database } from '../db/client';
import type { AppRow } from '../db/schema';
import { constantTimeEqual } from '../domain/crypto';
import type { LimitedEndpoint } from '../domain/rate-limits';
import { rateLimiter } from '../limits/rate-limiter-object';
import { appByConsumerKey, consumerSecretMatches } from './consumer';

/**
 * Signing in to the developer portal (the app's consumer key and secret) and to the operator console
 * (the platform token). Credentials are compared in constant time and never kept: the session only
 * carries a fingerprint of them (src/auth/session.ts). Failed attempts are counted, and past the
 * limit every attempt is refused (429, on the sign-in form) until the window ends: per client address (the only thing this
 * service ever keys by address, and only to slow down guessing) and, for the portal, per app too, so
 * guessing one app's secret from many addresses is slowed as well.
 */

/** Why a sign-in was refused: the credentials do not match, or too many failed lately (retry after so many seconds). */
export type SignInRefusal = { ok: false; retryAfterSeconds: number | null };

/** Rate-limit subjects for failed sign-ins: by client address, by app (the app's own limiter). */
const bySignInAddress = (address: string) => `sign-in-address:${address}`;
const byApp = (appId: string) => `app:${appId}`;

/** Seconds until the first subject past its limit may try again, or null if none is past it. */
async function throttled(env: Env, settings: Settings, endpoint: LimitedEndpoint, subjects: string[]): Promise<number | null> {
  const limit = settings.rateLimits[endpoint];
  for (const subject of subjects) {
    const decision = await rateLimiter(env, subject).peek(endpoint, limit, settings.rateLimitWindowMs);
    if (!decision.allowed) return Math.max(1, Math.ceil((decision.resetAt - Date.now()) / 1000));
  }
  return null;
}

async function countFailure(env: Env, settings: Settings, endpoint: LimitedEndpoint, subjects: string[]): Promise<void> {
  const limit = settings.rateLimits[endpoint];
  await Promise.all(subjects.map((subject) => rateLimiter(env, subject).hit(endpoint, limit, settings.rateLimitWindowMs)));
}

/** The app whose consumer key and secret these are; else the refusal (a mismatch is counted). */
export async function signInDeveloper(
  env: Env,
  settings: Settings,
  credentials: { key: string; secret: string },
  address: string,
): Promise<{ ok: true; app: AppRow } | SignInRefusal> {
  const app = await appByConsumerKey(database(env), credentials.key);
  const subjects = [bySignInAddress(address), ...(app ? [byApp(app.id)] : [])];
  const retryAfterSeconds = await throttled(env, settings, 'portal:sign-in-failures', subjects);
  if (retryAfterSeconds !== null) return { ok: false, retryAfterSeconds };
  if (await consumerSecretMatches(app, credentials.secret)) return { ok: true, app: app! };
  await countFailure(env, settings, 'portal:sign-in-failures', subjects);
  return { ok: false, retryAfterSeconds: null };
}

/** Whether `token` is the platform token; else the refusal (a mismatch is counted). */
export async function signInOperator(env: Env, settings: Settings, token: string, address: string): Promise<{ ok: true } | SignInRefusal> {
  const subjects = [bySignInAddress(address)];
  const retryAfterSeconds = await throttled(env, settings, 'console:sign-in-failures', subjects);
  if (retryAfterSeconds !== null) return { ok: false, retryAfterSeconds };
  // An unset platform token must never let an empty or guessed one through.
  const expected = env.PLATFORM_TOKEN;
  if (expected && (await constantTimeEqual(token, expected))) return { ok: true };
  await countFailure(env, settings, 'console:sign-in-failures', subjects);
  return { ok: false, retryAfterSeconds: null };
}
