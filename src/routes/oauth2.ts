import { and, asc, count, eq, isNull } from 'drizzle-orm';
import { assertActive } from '../auth/developer';
import { database } from '../db/client';
import { appTokens } from '../db/schema';
import { randomSecret, sha256Hex, TOKEN_PREFIX } from '../domain/crypto';
import { notFound } from '../errors';
import { formFields } from '../http/form';
import { apiRouter, parseWith } from '../http/validation';
import { clientCredentialsRequest, invalidateAppToken, invalidateTokenRequest, issueAppToken } from './contracts/oauth2';

/** An app may hold this many live bearer tokens; issuing one more retires the oldest. */
const MAX_LIVE_APP_TOKENS = 20;

export const oauth2 = apiRouter();
oauth2
  /** Client credentials (X's `POST /oauth2/token`): a new app-only bearer token per call. */
  .openapi(issueAppToken, async (c) => {
    const app = c.get('app');
    parseWith(clientCredentialsRequest, formFields(await c.req.arrayBuffer(), c.req.header('content-type')), 'invalid token request');
    assertActive(app);
    const db = database(c.env);
    const token = randomSecret(TOKEN_PREFIX.appToken);
    const now = Date.now();
    await db.insert(appTokens).values({ tokenHash: await sha256Hex(token), appId: app.id, createdAt: now });
    const live = and(eq(appTokens.appId, app.id), isNull(appTokens.revokedAt));
    const [{ n }] = await db.select({ n: count() }).from(appTokens).where(live);
    if (n > MAX_LIVE_APP_TOKENS) {
      const oldest = await db
        .select({ hash: appTokens.tokenHash })
        .from(appTokens)
        .where(live)
        .orderBy(asc(appTokens.createdAt))
        .limit(n - MAX_LIVE_APP_TOKENS);
      for (const { hash } of oldest) {
        await db.update(appTokens).set({ revokedAt: now }).where(eq(appTokens.tokenHash, hash));
      }
    }
    return c.json({ token_type: 'bearer' as const, access_token: token }, 200);
  })
  /** Invalidates one of this app's bearer tokens; another app's token is "not found". */
  .openapi(invalidateAppToken, async (c) => {
    const app = c.get('app');
    const { access_token } = parseWith(
      invalidateTokenRequest,
      formFields(await c.req.arrayBuffer(), c.req.header('content-type')),
      'invalid request',
    );
    const db = database(c.env);
    const hash = await sha256Hex(access_token);
    const revoked = await db
      .update(appTokens)
      .set({ revokedAt: Date.now() })
      .where(and(eq(appTokens.tokenHash, hash), eq(appTokens.appId, app.id), isNull(appTokens.revokedAt)))
      .returning({ hash: appTokens.tokenHash });
    if (revoked.length === 0) throw notFound('no live bearer token of this app matches access_token');
    return c.json({ access_token }, 200);
  });
