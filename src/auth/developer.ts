import { and, eq, gt, inArray, isNull, or } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import { database } from '../db/client';
import { type AppRow, apps, appTokens, authorizations, oauthTokens } from '../db/schema';
import { sha256Hex, TOKEN_PREFIX } from '../domain/crypto';
import { ApiError, forbidden, unauthorized } from '../errors';
import type { HonoEnv } from '../http/types';
import { bearerToken } from './platform';

/**
 * Developer credentials. Tokens are looked up by their SHA-256 hash (the plain value is never
 * stored); the prefix says which table holds it. Only `active` apps pass.
 */
async function resolveToken(env: Env, token: string) {
  const db = database(env);
  const hash = await sha256Hex(token);
  if (token.startsWith(TOKEN_PREFIX.appToken)) {
    const [row] = await db
      .select({ app: apps })
      .from(appTokens)
      .innerJoin(apps, eq(apps.id, appTokens.appId))
      .where(and(eq(appTokens.tokenHash, hash), isNull(appTokens.revokedAt)))
      .limit(1);
    return row ? { app: row.app, authorization: null } : null;
  }
  if (token.startsWith(TOKEN_PREFIX.userToken)) {
    // A user token is the one the platform's grant issued with the authorization (it lives as long as
    // the authorization), or an access token of the OAuth flow tied to it (unexpired and unrevoked).
    // Either way it works only while its authorization is live.
    const issuedByOAuth = db
      .select({ id: oauthTokens.authorizationId })
      .from(oauthTokens)
      .where(
        and(
          eq(oauthTokens.tokenHash, hash),
          eq(oauthTokens.kind, 'access'),
          isNull(oauthTokens.revokedAt),
          gt(oauthTokens.expiresAt, Date.now()),
        ),
      );
    const [row] = await db
      .select({ app: apps, authorization: authorizations })
      .from(authorizations)
      .innerJoin(apps, eq(apps.id, authorizations.appId))
      .where(and(or(eq(authorizations.tokenHash, hash), inArray(authorizations.id, issuedByOAuth)), isNull(authorizations.endedAt)))
      .limit(1);
    return row ?? null;
  }
  return null;
}

export const assertActive = (app: AppRow) => {
  if (app.status !== 'active') throw forbidden(`app is ${app.status}, not active`, 'AppNotActive');
};

/** App-only bearer token, or a user token of the app (which also identifies the app). */
export const requireApp = createMiddleware<HonoEnv>(async (c, next) => {
  const token = bearerToken(c.req.header('authorization'));
  if (!token) throw unauthorized('missing bearer token');
  const resolved = await resolveToken(c.env, token);
  if (!resolved) throw unauthorized('invalid or expired bearer token');
  assertActive(resolved.app);
  c.set('app', resolved.app);
  c.set('authorization', resolved.authorization);
  await next();
});

/** User context: a user access token (from POST /internal/authorizations or the OAuth 2.0 flow). */
export const requireUser = createMiddleware<HonoEnv>(async (c, next) => {
  const token = bearerToken(c.req.header('authorization'));
  if (!token) throw unauthorized('missing bearer token');
  const resolved = await resolveToken(c.env, token);
  if (!resolved) throw unauthorized('invalid or expired bearer token');
  assertActive(resolved.app);
  if (!resolved.authorization) {
    throw new ApiError('forbidden', 'this endpoint needs a user access token, not an app-only token', {
      reason: 'UnsupportedAuthentication',
    });
  }
  c.set('app', resolved.app);
  c.set('authorization', resolved.authorization);
  await next();
});
