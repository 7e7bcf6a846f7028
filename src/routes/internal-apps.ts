import { and, eq, isNull, lte } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { requirePlatform } from '../auth/platform';
import { appView, getApp } from '../db/apps';
import { database } from '../db/client';
import { appStatusHistory, apps, appTokens } from '../db/schema';
import { appObject } from '../delivery/app-objects';
import { reconcileApp } from '../delivery/reconcile';
import { awaitFence } from '../delivery/withdrawal';
import { randomAlnum, randomSecret, sha256Hex, TOKEN_PREFIX } from '../domain/crypto';
import { newId } from '../domain/ids';
import { byPlatform, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { jsonBody, pathId } from '../http/validation';

const createAppSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  description: z.string().max(1000).optional(),
  max_webhooks: z.number().int().min(1).max(100).default(5),
  provisioned_subscriptions: z.number().int().min(1).max(1_000_000).default(500),
});

const suspendSchema = z.strictObject({ reason: z.string().trim().min(1).max(1000) });

export const internalApps = new Hono<HonoEnv>()
  .use(requirePlatform, rateLimit('platform:other', byPlatform))
  .post('/', jsonBody(createAppSchema), async (c) => {
    const input = c.req.valid('json');
    const now = Date.now();
    const id = newId(now);
    const consumerSecret = randomSecret(TOKEN_PREFIX.consumerSecret);
    const row = {
      id,
      name: input.name,
      description: input.description ?? null,
      status: 'pending' as const,
      consumerKey: randomAlnum(25),
      consumerSecretHash: await sha256Hex(consumerSecret),
      maxWebhooks: input.max_webhooks,
      provisionedSubscriptions: input.provisioned_subscriptions,
      createdAt: now,
      statusChangedAt: now,
    };
    // The secret goes to the app's object first: an app row in D1 must never exist without it.
    await appObject(c.env, id).provision(id, consumerSecret, 'pending', now);
    const db = database(c.env);
    await db.batch([db.insert(apps).values(row), db.insert(appStatusHistory).values({ appId: id, status: 'pending', at: now })]);
    return c.json({ data: { ...appView({ ...row, statusReason: null, reconciledAt: null }), consumer_secret: consumerSecret } }, 201);
  })
  .get('/:app_id', async (c) => {
    const app = await getApp(database(c.env), pathId(c, 'app_id'));
    return c.json({ data: appView(app) });
  })
  .post('/:app_id/approve', async (c) => {
    const db = database(c.env);
    const app = await getApp(db, pathId(c, 'app_id'));
    // Widening: D1 first, then the object. The object call is made even when D1 already says active,
    // so approving again completes an approval whose object call failed (the object ignores a change
    // older than the one it has).
    let at = app.statusChangedAt;
    if (app.status !== 'active') {
      at = Date.now();
      await db.batch([
        db.update(apps).set({ status: 'active', statusReason: null, statusChangedAt: at }).where(eq(apps.id, app.id)),
        db.insert(appStatusHistory).values({ appId: app.id, status: 'active', at }),
      ]);
    }
    await appObject(c.env, app.id).setAppStatus(app.id, 'active', at);
    return c.json({ data: { id: app.id, status: 'active' } });
  })
  /**
   * Issues a new consumer secret (shown once). Deliveries are signed with it at once; CRC answers made
   * with the previous secret are accepted through the grace window; every app bearer token is revoked
   * and the previous secret no longer obtains new ones.
   */
  .post('/:app_id/rotate-secret', async (c) => {
    const db = database(c.env);
    const app = await getApp(db, pathId(c, 'app_id'));
    const now = Date.now();
    const previousUntil = now + c.get('settings').rotationGraceMs;
    const consumerSecret = randomSecret(TOKEN_PREFIX.consumerSecret);
    // Staged in the object, recorded in D1, then committed: the object never signs with a secret that
    // D1 (and so the developer, who gets it in this response) does not have.
    const object = appObject(c.env, app.id);
    await object.stageConsumerSecret(app.id, consumerSecret, previousUntil);
    await db.batch([
      db
        .update(apps)
        .set({ consumerSecretHash: await sha256Hex(consumerSecret) })
        .where(eq(apps.id, app.id)),
      db
        .update(appTokens)
        .set({ revokedAt: now })
        .where(and(eq(appTokens.appId, app.id), isNull(appTokens.revokedAt))),
    ]);
    if (!(await object.commitConsumerSecret(app.id, consumerSecret).catch(() => false))) {
      // D1 holds the new secret, so the developer must get it; the reconcile commits it in the object.
      console.error(`app ${app.id}: consumer secret recorded but not yet committed in its object; reconcile will finish it`);
    }
    return c.json({
      data: {
        id: app.id,
        consumer_key: app.consumerKey,
        consumer_secret: consumerSecret,
        previous_secret_valid_until: new Date(previousUntil).toISOString(),
      },
    });
  })
  .post('/:app_id/suspend', jsonBody(suspendSchema), async (c) => {
    const db = database(c.env);
    const app = await getApp(db, pathId(c, 'app_id'));
    const { reason } = c.req.valid('json');
    // Withdrawal: the object stops delivering first; D1 records the moment it took effect there, and
    // the answer waits until nothing the object handed out before can still start.
    const withdrawal = await appObject(c.env, app.id).setAppStatus(app.id, 'suspended', Date.now());
    const now = withdrawal.effectiveAt;
    await db.batch([
      // Newer wins, as in the object: an approval recorded meanwhile is not overwritten.
      db
        .update(apps)
        .set({ status: 'suspended', statusReason: reason, statusChangedAt: now })
        .where(and(eq(apps.id, app.id), lte(apps.statusChangedAt, now))),
      db.insert(appStatusHistory).values({ appId: app.id, status: 'suspended', at: now }),
      db
        .update(appTokens)
        .set({ revokedAt: now })
        .where(and(eq(appTokens.appId, app.id), isNull(appTokens.revokedAt))),
    ]);
    await awaitFence(c.env, withdrawal);
    return c.json({ data: { id: app.id, status: 'suspended' } });
  })
  /** The drift check: how this app's object differs from D1, without changing anything. */
  .get('/:app_id/drift', async (c) => {
    const app = await getApp(database(c.env), pathId(c, 'app_id'));
    return c.json({ data: await reconcileApp(c.env, app.id, false) });
  })
  /** Brings this app's object and D1 together (the cron does this for every app in turn). */
  .post('/:app_id/reconcile', async (c) => {
    const app = await getApp(database(c.env), pathId(c, 'app_id'));
    const report = await reconcileApp(c.env, app.id, true);
    return c.json({ data: { ...report, reconciled: true } });
  });
