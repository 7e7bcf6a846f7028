import { and, eq, isNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { assertActive } from '../auth/developer';
import { requirePlatform } from '../auth/platform';
import { getApp } from '../db/apps';
import { database } from '../db/client';
import { authorizations } from '../db/schema';
import { recordWithdrawal } from '../db/withdrawals';
import { appObject } from '../delivery/app-objects';
import { awaitFence } from '../delivery/withdrawal';
import { randomSecret, sha256Hex, TOKEN_PREFIX } from '../domain/crypto';
import { newId } from '../domain/ids';
import { formatScopes, KNOWN_SCOPES } from '../domain/scopes';
import { conflict, notFound } from '../errors';
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
    const scope = formatScopes(input.scopes);
    const accessToken = randomSecret(TOKEN_PREFIX.userToken);
    const tokenHash = await sha256Hex(accessToken);
    const object = appObject(c.env, app.id);
    const live = and(eq(authorizations.appId, app.id), eq(authorizations.userId, input.user_id), isNull(authorizations.endedAt));
    // A re-grant may narrow and widen at once. The object first loses the scopes the new grant lacks
    // (a withdrawal), then D1 swaps the grant only if the one restricted is still the live one (a
    // concurrent grant may have won: then start over), and only then does the object take the new
    // grant: the object is never wider than D1.
    for (let round = 0; round < 5; round++) {
      const [previous] = await db.select({ id: authorizations.id }).from(authorizations).where(live).limit(1);
      const narrowed = previous ? await object.restrictAuthorization(app.id, input.user_id, scope, previous.id) : null;
      const now = Math.max(Date.now(), narrowed?.effectiveAt ?? 0);
      const id = newId(now);
      // The swap: the grant that was restricted ends and the new one starts in one transaction, only
      // if it is still the live one (for a first grant: only if none is live). Both or neither.
      const [ended, inserted] = await c.env.DB.batch([
        c.env.DB.prepare(`UPDATE authorizations SET ended_at = ?, end_reason = 'superseded' WHERE id = ? AND ended_at IS NULL`).bind(
          now,
          previous?.id ?? '',
        ),
        c.env.DB.prepare(
          `INSERT INTO authorizations (id, app_id, user_id, scope, token_hash, created_at)
           SELECT ?, ?, ?, ?, ?, ? WHERE ${previous ? 'changes() = 1' : 'NOT EXISTS (SELECT 1 FROM authorizations WHERE app_id = ? AND user_id = ? AND ended_at IS NULL)'}`,
        ).bind(id, app.id, input.user_id, scope, tokenHash, now, ...(previous ? [] : [app.id, input.user_id])),
      ]);
      if (inserted.meta.changes !== 1 || (previous && ended.meta.changes !== 1)) continue;
      const granted = await object.grantAuthorization(app.id, {
        authorizationId: id,
        userId: input.user_id,
        scope,
        at: now,
        supersedes: previous ? [previous.id] : [],
      });
      if (granted.refused) {
        throw conflict(
          `the authorization of user ${input.user_id} was revoked while it was being granted; grant it again`,
          'AuthorizationRevoked',
        );
      }
      // Both halves may have withdrawn something: wait out the later fence.
      await awaitFence(c.env, narrowed && narrowed.fenceWaitMs > granted.fenceWaitMs ? narrowed : granted);
      return c.json({ data: { access_token: accessToken, token_type: 'bearer', scope, app_id: app.id, user_id: input.user_id } }, 201);
    }
    throw conflict(`user ${input.user_id} was granted concurrently by other requests; grant again`, 'AuthorizationConflict');
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
    // Withdrawal: the app's object stops first; D1 records when it took effect there; the answer waits
    // until nothing handed out before can still start.
    const withdrawal = await appObject(c.env, appId).revokeAuthorization(appId, userId, active.id);
    await recordWithdrawal(db, withdrawal, { authorization: 'revoked', subscription: 'authorization_revoked' });
    await awaitFence(c.env, withdrawal);
    return c.json({ data: { revoked: true } });
  });
