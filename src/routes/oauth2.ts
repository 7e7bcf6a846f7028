import { and, asc, count, eq, isNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { authenticateConsumer } from '../auth/consumer';
import { assertActive } from '../auth/developer';
import { database } from '../db/client';
import { appTokens } from '../db/schema';
import { randomSecret, sha256Hex, TOKEN_PREFIX } from '../domain/crypto';
import { notFound } from '../errors';
import { formFields } from '../http/form';
import { byApp, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { parseWith } from '../http/validation';

/** An app may hold this many live bearer tokens; issuing one more retires the oldest. */
const MAX_LIVE_APP_TOKENS = 20;

const tokenRequest = z.object({
  grant_type: z.literal('client_credentials', { error: 'grant_type must be client_credentials' }),
});
const invalidateRequest = z.object({ access_token: z.string().min(1).max(200) });

/** The consumer's credentials, checked before anything else (and before the request is counted). */
const consumer = createMiddleware<HonoEnv>(async (c, next) => {
  c.set('app', await authenticateConsumer(database(c.env), c.req.header('authorization')));
  await next();
});

export const oauth2 = new Hono<HonoEnv>()
  /** Client credentials (X's `POST /oauth2/token`): a new app-only bearer token per call. */
  .post('/token', consumer, rateLimit('oauth2:token', byApp), async (c) => {
    const app = c.get('app');
    parseWith(tokenRequest, formFields(await c.req.arrayBuffer(), c.req.header('content-type')), 'invalid token request');
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
    return c.json({ token_type: 'bearer', access_token: token });
  })
  /** Invalidates one of this app's bearer tokens; another app's token is "not found". */
  .post('/invalidate_token', consumer, rateLimit('oauth2:invalidate', byApp), async (c) => {
    const app = c.get('app');
    const { access_token } = parseWith(
      invalidateRequest,
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
    return c.json({ access_token });
  });
