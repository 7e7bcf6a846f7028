import { Hono } from 'hono';
import { z } from 'zod';
import { assertActive } from '../auth/developer';
import { requirePlatform } from '../auth/platform';
import { getApp } from '../db/apps';
import { database } from '../db/client';
import { grantAuthorization, revokeAuthorization } from '../delivery/authorizations';
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
    const { accessToken, scope } = await grantAuthorization(c.env, app.id, input.user_id, formatScopes(input.scopes));
    return c.json({ data: { access_token: accessToken, token_type: 'bearer', scope, app_id: app.id, user_id: input.user_id } }, 201);
  })
  /** Ends the authorization and every subscription of that user in that app; the app is sent a revoke event. */
  .delete('/:app_id/:user_id', pathIds({ app_id: undefined, user_id: undefined }), async (c) => {
    const { app_id: appId, user_id: userId } = c.req.valid('param');
    if (!(await revokeAuthorization(c.env, appId, userId))) throw notFound(`user ${userId} has no active authorization of app ${appId}`);
    return c.json({ data: { revoked: true } });
  });
