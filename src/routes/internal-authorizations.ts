import { and, eq, isNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { assertActive } from '../auth/developer';
import { requirePlatform } from '../auth/platform';
import { getApp } from '../db/apps';
import { database } from '../db/client';
import { authorizations, subscriptions } from '../db/schema';
import { appObject } from '../delivery/app-delivery-object';
import { randomSecret, sha256Hex, TOKEN_PREFIX } from '../domain/crypto';
import { newId } from '../domain/ids';
import { formatScopes, KNOWN_SCOPES } from '../domain/scopes';
import { notFound } from '../errors';
import { byPlatform, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { jsonBody, pathIds } from '../http/validation';

const id = (what: string) => z.string().regex(/^[0-9]{1,19}$/, `${what} must be a numeric id of 1-19 digits`);

const grantSchema = z.strictObject({
  app_id: id('app_id'),
  user_id: id('user_id'),
  scopes: z
    .array(z.enum(KNOWN_SCOPES, { error: (i) => `unknown scope ${JSON.stringify(i.input)}` }))
    .min(1)
    .max(KNOWN_SCOPES.length * 2),
});

export const internalAuthorizations = new Hono<HonoEnv>()
  .use(requirePlatform, rateLimit('platform:other', byPlatform))
  /**
   * The platform calls this after the user consents. A grant for a user who already authorized the
   * app supersedes the previous one (new token, new scopes); the old token stops working.
   */
  .post('/', jsonBody(grantSchema), async (c) => {
    const input = c.req.valid('json');
    const db = database(c.env);
    const app = await getApp(db, input.app_id);
    assertActive(app);
    const now = Date.now();
    const scope = formatScopes(input.scopes);
    const accessToken = randomSecret(TOKEN_PREFIX.userToken);
    await appObject(c.env, app.id).grantAuthorization(app.id, input.user_id, scope, now);
    await db.batch([
      db
        .update(authorizations)
        .set({ endedAt: now, endReason: 'superseded' })
        .where(and(eq(authorizations.appId, app.id), eq(authorizations.userId, input.user_id), isNull(authorizations.endedAt))),
      db.insert(authorizations).values({
        id: newId(now),
        appId: app.id,
        userId: input.user_id,
        scope,
        tokenHash: await sha256Hex(accessToken),
        createdAt: now,
      }),
    ]);
    return c.json({ data: { access_token: accessToken, token_type: 'bearer', scope, app_id: app.id, user_id: input.user_id } }, 201);
  })
  /** Ends the authorization and every subscription of that user in that app; the app is sent a revoke event. */
  .delete('/:app_id/:user_id', pathIds({ app_id: undefined, user_id: undefined }), async (c) => {
    const { app_id: appId, user_id: userId } = c.req.valid('param');
    const db = database(c.env);
    const [active] = await db
      .select({ id: authorizations.id })
      .from(authorizations)
      .where(and(eq(authorizations.appId, appId), eq(authorizations.userId, userId), isNull(authorizations.endedAt)))
      .limit(1);
    if (!active) throw notFound(`user ${userId} has no active authorization of app ${appId}`);
    const now = Date.now();
    // Withdrawal: the app's object stops first, then the control plane records it.
    await appObject(c.env, appId).revokeAuthorization(appId, userId, now);
    await db.batch([
      db.update(authorizations).set({ endedAt: now, endReason: 'revoked' }).where(eq(authorizations.id, active.id)),
      db
        .update(subscriptions)
        .set({ endedAt: now, endReason: 'authorization_revoked' })
        .where(and(eq(subscriptions.appId, appId), eq(subscriptions.userId, userId), isNull(subscriptions.endedAt))),
    ]);
    return c.json({ data: { revoked: true } });
  });
