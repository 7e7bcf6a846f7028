import { and, eq, isNull } from 'drizzle-orm';
import { requirePlatform } from '../auth/platform';
import { appView, getApp, listApps } from '../db/apps';
import { database } from '../db/client';
import { appStatusHistory, apps, appTokens } from '../db/schema';
import { AppDelivery } from '../delivery/app-objects';
import { approveApp, suspendApp } from '../delivery/app-status';
import { reconcileApp } from '../delivery/reconcile';
import { randomAlnum, randomSecret, sha256Hex, TOKEN_PREFIX } from '../domain/crypto';
import { newId } from '../domain/ids';
import { readLedgerPage } from '../http/ledger-view';
import { byPlatform, rateLimit } from '../http/rate-limit';
import { apiRouter } from '../http/validation';
import { clientSettings, clientView, saveClientSettings } from '../oauth/clients';
import * as routes from './contracts/internal-apps';

export const internalApps = apiRouter();
internalApps.use(requirePlatform, rateLimit('platform:other', byPlatform));
internalApps
  .openapi(routes.createApp, async (c) => {
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
      xaaTier: input.xaa_tier,
      deliveryShards: input.delivery_shards,
      createdAt: now,
      statusChangedAt: now,
    };
    // The secret goes to the app's objects first: an app row in D1 must never exist without it.
    await AppDelivery.of(c.env, row).provision(consumerSecret, 'pending', now);
    const db = database(c.env);
    await db.batch([db.insert(apps).values(row), db.insert(appStatusHistory).values({ appId: id, status: 'pending', at: now })]);
    return c.json({ data: { ...appView({ ...row, statusReason: null, reconciledAt: null }), consumer_secret: consumerSecret } }, 201);
  })
  /** The apps, newest first, optionally of one status; `pagination_token` pages through them. */
  .openapi(routes.listApps, async (c) => {
    const { status, max_results, pagination_token } = c.req.valid('query');
    const page = await listApps(database(c.env), { status, before: pagination_token, limit: max_results });
    return c.json(
      {
        data: page.apps.map(appView),
        meta: { result_count: page.apps.length, ...(page.nextToken ? { next_token: page.nextToken } : {}) },
      },
      200,
    );
  })
  .openapi(routes.getApp, async (c) => {
    const app = await getApp(database(c.env), c.req.valid('param').app_id);
    return c.json({ data: appView(app) }, 200);
  })
  /** An app's delivery ledger, newest first. */
  .openapi(routes.appLedger, async (c) => {
    const app = await getApp(database(c.env), c.req.valid('param').app_id);
    const q = c.req.valid('query');
    return c.json(await readLedgerPage(c.env, app.id, { userId: q.user_id, from: q.from, to: q.to }, q), 200);
  })
  .openapi(routes.approveApp, async (c) => {
    const appId = c.req.valid('param').app_id;
    await approveApp(c.env, appId);
    return c.json({ data: { id: appId, status: 'active' as const } }, 200);
  })
  /**
   * Issues a new consumer secret (shown once). Deliveries are signed with it at once; CRC answers made
   * with the previous secret are accepted through the grace window; every app bearer token is revoked
   * and the previous secret no longer obtains new ones.
   */
  .openapi(routes.rotateConsumerSecret, async (c) => {
    const db = database(c.env);
    const app = await getApp(db, c.req.valid('param').app_id);
    const now = Date.now();
    const previousUntil = now + c.get('settings').rotationGraceMs;
    const consumerSecret = randomSecret(TOKEN_PREFIX.consumerSecret);
    // Staged in the object, recorded in D1, then committed: the object never signs with a secret that
    // D1 (and so the developer, who gets it in this response) does not have.
    const object = AppDelivery.of(c.env, app);
    await object.stageConsumerSecret(consumerSecret, previousUntil);
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
    if (!(await object.commitConsumerSecret(consumerSecret).catch(() => false))) {
      // D1 holds the new secret, so the developer must get it; the reconcile commits it in the object.
      console.error(`app ${app.id}: consumer secret recorded but not yet committed in its object; reconcile will finish it`);
    }
    return c.json(
      {
        data: {
          id: app.id,
          consumer_key: app.consumerKey,
          consumer_secret: consumerSecret,
          previous_secret_valid_until: new Date(previousUntil).toISOString(),
        },
      },
      200,
    );
  })
  .openapi(routes.suspendApp, async (c) => {
    const appId = c.req.valid('param').app_id;
    await suspendApp(c.env, appId, c.req.valid('json').reason);
    return c.json({ data: { id: appId, status: 'suspended' as const } }, 200);
  })
  /** The app as an OAuth 2.0 client: its type and the exact redirect URIs its codes may go to. */
  .openapi(routes.getAppClient, async (c) => {
    const db = database(c.env);
    const app = await getApp(db, c.req.valid('param').app_id);
    return c.json({ data: clientView(app, await clientSettings(db, app.id)) }, 200);
  })
  .openapi(routes.putAppClient, async (c) => {
    const db = database(c.env);
    const app = await getApp(db, c.req.valid('param').app_id);
    return c.json({ data: clientView(app, await saveClientSettings(db, app.id, c.req.valid('json'))) }, 200);
  })
  .openapi(routes.appDrift, async (c) => {
    const app = await getApp(database(c.env), c.req.valid('param').app_id);
    return c.json({ data: await reconcileApp(c.env, app.id, false) }, 200);
  })
  /** Brings this app's object and D1 together (the cron does this for every app in turn). */
  .openapi(routes.reconcileApp, async (c) => {
    const app = await getApp(database(c.env), c.req.valid('param').app_id);
    const report = await reconcileApp(c.env, app.id, true);
    return c.json({ data: { ...report, reconciled: true as const } }, 200);
  });
