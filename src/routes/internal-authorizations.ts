import { assertActive } from '../auth/developer';
import { requirePlatform } from '../auth/platform';
import { getApp } from '../db/apps';
import { database } from '../db/client';
import { grantAuthorization, revokeAuthorization } from '../delivery/authorizations';
import { formatScopes } from '../domain/scopes';
import { notFound } from '../errors';
import { byPlatform, rateLimit } from '../http/rate-limit';
import { apiRouter } from '../http/validation';
import * as routes from './contracts/internal-authorizations';

export const internalAuthorizations = apiRouter();
internalAuthorizations.use(requirePlatform, rateLimit('platform:other', byPlatform));
internalAuthorizations
  /**
   * The platform calls this after the user consents. A grant for a user who already authorized the
   * app supersedes the previous one (new token, new scopes); the old token stops working.
   */
  .openapi(routes.grantAuthorization, async (c) => {
    const input = c.req.valid('json');
    const db = database(c.env);
    const app = await getApp(db, input.app_id);
    assertActive(app);
    const { accessToken, scope } = await grantAuthorization(c.env, app.id, input.user_id, formatScopes(input.scopes));
    return c.json(
      { data: { access_token: accessToken, token_type: 'bearer' as const, scope, app_id: app.id, user_id: input.user_id } },
      201,
    );
  })
  /** Ends the authorization and every subscription of that user in that app; the app is sent a revoke event. */
  .openapi(routes.revokeAuthorization, async (c) => {
    const { app_id: appId, user_id: userId } = c.req.valid('param');
    if (!(await revokeAuthorization(c.env, appId, userId))) throw notFound(`user ${userId} has no active authorization of app ${appId}`);
    return c.json({ data: { revoked: true as const } }, 200);
  });
