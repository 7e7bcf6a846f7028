import type { Settings } from '../config';
import { database } from '../db/client';
import type { AppRow } from '../db/schema';
import { constantTimeEqual } from '../domain/crypto';
import type { LimitedEndpoint } from '../domain/rate-limits';
import { ApiError } from '../errors';
import { rateLimiter } from '../limits/rate-limiter-object';
import { appByConsumerKey, consumerSecretMatches } from './consumer';

/**
 * Signing in to the developer portal (the app's consumer key and secret) and to the operator console
 * (the platform token). Credentials are compared in constant time and never kept: the session only
 * carries a fingerprint of them (src/auth/session.ts). Failed attempts are counted, and past the
 * limit every attempt is refused until the window ends: per client address (the only thing this
 * service ever keys by address, and only to slow down guessing) and, for the portal, per app too, so
 * guessing one app's secret from many addresses is slowed as well.
 */

/** Rate-limit subjects for failed sign-ins: by client address, by app (the app's own limiter). */
const bySignInAddress = (address: string) => `sign-in-address:${address}`;
const byApp = (appId: string) => `app:${appId}`;

async function refuseIfLimited(env: Env, settings: Settings, endpoint: LimitedEndpoint, subjects: string[]): Promise<void> {
  const limit = settings.rateLimits[endpoint];
  for (const subject of subjects) {
    const decision = await rateLimiter(env, subject).peek(endpoint, limit, settings.rateLimitWindowMs);
    if (!decision.allowed) {
      const retryAfter = Math.max(1, Math.ceil((decision.resetAt - Date.now()) / 1000));
      throw new ApiError(
        'rate-limited',
        `too many failed sign-ins: try again in ${Math.ceil(retryAfter / 60)} minute${retryAfter > 60 ? 's' : ''}`,
        { headers: { 'retry-after': String(retryAfter) } },
      );
    }
  }
}

async function countFailure(env: Env, settings: Settings, endpoint: LimitedEndpoint, subjects: string[]): Promise<void> {
  const limit = settings.rateLimits[endpoint];
  await Promise.all(subjects.map((subject) => rateLimiter(env, subject).hit(endpoint, limit, settings.rateLimitWindowMs)));
}

/** The app whose consumer key and secret these are, or null (the failure is counted). 429 past the limit. */
export async function signInDeveloper(
  env: Env,
  settings: Settings,
  credentials: { key: string; secret: string },
  address: string,
): Promise<AppRow | null> {
  const app = await appByConsumerKey(database(env), credentials.key);
  const subjects = [bySignInAddress(address), ...(app ? [byApp(app.id)] : [])];
  await refuseIfLimited(env, settings, 'portal:sign-in-failures', subjects);
  if (await consumerSecretMatches(app, credentials.secret)) return app!;
  await countFailure(env, settings, 'portal:sign-in-failures', subjects);
  return null;
}

/** Whether `token` is the platform token (the failure is counted). 429 past the limit. */
export async function signInOperator(env: Env, settings: Settings, token: string, address: string): Promise<boolean> {
  const subjects = [bySignInAddress(address)];
  await refuseIfLimited(env, settings, 'console:sign-in-failures', subjects);
  // An unset platform token must never let an empty or guessed one through.
  const expected = env.PLATFORM_TOKEN;
  if (expected && (await constantTimeEqual(token, expected))) return true;
  await countFailure(env, settings, 'console:sign-in-failures', subjects);
  return false;
}
