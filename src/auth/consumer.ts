import { eq } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import { type Database, database } from '../db/client';
import { type AppRow, apps } from '../db/schema';
import { constantTimeEqual, sha256Hex } from '../domain/crypto';
import { ApiError } from '../errors';
import type { HonoEnv } from '../http/types';
import { assertActive } from './developer';

const basicUnauthorized = (detail: string) =>
  new ApiError('unauthorized', detail, { headers: { 'www-authenticate': 'Basic realm="oauth2"' } });

/** Whether the request presents HTTP Basic credentials at all (a public OAuth client presents none). */
export const hasBasicCredentials = (authorization: string | undefined): boolean => /^Basic(\s|$)/i.test(authorization ?? '');

/** The consumer key and secret of an HTTP Basic header; a 401 if it is missing or malformed. */
export function basicCredentials(authorization: string | undefined): { key: string; secret: string } {
  const match = authorization?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (!match) throw basicUnauthorized('missing HTTP Basic credentials (consumer key and secret)');
  let decoded: string;
  try {
    decoded = atob(match[1]);
  } catch {
    throw basicUnauthorized('malformed HTTP Basic credentials');
  }
  const colon = decoded.indexOf(':');
  try {
    // RFC 6749 §2.3.1: client id and secret are form-urlencoded before the Basic encoding.
    return {
      key: decodeURIComponent(colon < 0 ? decoded : decoded.slice(0, colon)),
      secret: colon < 0 ? '' : decodeURIComponent(decoded.slice(colon + 1)),
    };
  } catch {
    throw basicUnauthorized('malformed HTTP Basic credentials');
  }
}

/**
 * The app whose consumer key and secret these are, or null: the secret is checked against its stored
 * hash in constant time, hashed even when the key is unknown so both failures take the same time.
 */
export async function appByConsumerCredentials(db: Database, key: string, secret: string): Promise<AppRow | null> {
  const app = await appByConsumerKey(db, key);
  return (await consumerSecretMatches(app, secret)) ? app! : null;
}

/** The app a consumer key names (an identifier, not a credential: the secret must still be checked). */
export async function appByConsumerKey(db: Database, key: string): Promise<AppRow | undefined> {
  const [app] = await db.select().from(apps).where(eq(apps.consumerKey, key)).limit(1);
  return app;
}

/** Whether `secret` is the app's consumer secret; hashed and compared even when there is no app. */
export async function consumerSecretMatches(app: AppRow | undefined, secret: string): Promise<boolean> {
  const ok = await constantTimeEqual(await sha256Hex(secret), app?.consumerSecretHash ?? '');
  return Boolean(app) && ok;
}

/** HTTP Basic with the app's consumer key and secret. */
export async function authenticateConsumer(db: Database, authorization: string | undefined): Promise<AppRow> {
  const { key, secret } = basicCredentials(authorization);
  const app = await appByConsumerCredentials(db, key, secret);
  if (!app) throw basicUnauthorized('invalid consumer key or secret');
  return app;
}

/** The consumer's credentials, checked before anything else (and before the request is counted). */
export const consumerCredentials = createMiddleware<HonoEnv>(async (c, next) => {
  c.set('app', await authenticateConsumer(database(c.env), c.req.header('authorization')));
  await next();
});

/** The developer's own credentials (consumer key and secret) of an active app. */
export const activeConsumer = createMiddleware<HonoEnv>(async (c, next) => {
  const app = await authenticateConsumer(database(c.env), c.req.header('authorization'));
  assertActive(app);
  c.set('app', app);
  await next();
});
