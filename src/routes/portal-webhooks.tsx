/** @jsxImportSource hono/jsx */
import { Hono } from 'hono';
import { z } from 'zod';
import { LEDGER_OUTCOMES } from '../app-object/storage/ledger-store';
import { assertActive } from '../auth/developer';
import { database } from '../db/client';
import { webhookSubscribers } from '../db/subscriptions';
import { appObject } from '../delivery/app-objects';
import { revalidateWebhook } from '../delivery/crc-check';
import { deliveryAttempt, deliveryLog, portalWebhook } from '../delivery/portal-data';
import { deleteWebhook, rotateWebhookSecret } from '../delivery/webhook-changes';
import { forbidden, invalid, notFound } from '../errors';
import { localFromUtc, localTime, optionalChoice, optionalId, optionalLocalTime, pageIds, pageQuery } from '../http/page-forms';
import { portalForm, portalSignedIn } from '../http/portal-session';
import { byApp, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { parseWith } from '../http/validation';
import { renderDocument, Time } from '../pages/layout';
import { Notice } from '../pages/parts';
import { AttemptPage, DeliveriesPage } from '../pages/portal-delivery-pages';
import { SecretPage } from '../pages/portal-pages';
import { SubscriptionsPage, WebhookPage } from '../pages/portal-webhook-pages';
import { startReplayWindow } from './replay';

const webhookIdPath = pageIds('webhook_id');

const LOG_PAGE = 50;
const SUBSCRIBERS_PAGE = 100;

const webhookQuery = z.object({ done: z.string().optional(), job: optionalId });
const logQuery = z.object({
  status: optionalChoice(LEDGER_OUTCOMES),
  user_id: optionalId,
  since: optionalLocalTime,
  until: optionalLocalTime,
  before: optionalId,
  queued: z.string().optional(),
});
const subscribersQuery = z.object({ after: optionalId });
const replaySchema = z.object({ from: localTime, to: localTime });

const MINUTE = 60_000;

/** Refusals of a test event, as the problems the API would give. */
const TEST_REFUSALS = {
  not_found: (id: string) => notFound(`no webhook ${id} for this app`, 'WebhookIdInvalid'),
  not_active: () => forbidden('app is not active', 'AppNotActive'),
  invalid: () => invalid('the webhook is invalid: re-validate it (its CRC must pass) before sending a test event', 'CrcValidationFailed'),
} as const;

/**
 * One webhook's pages and actions in the developer portal. The webhook id in the path is looked up
 * within the signed-in app only: another app's id is a 404, exactly like an id that does not exist.
 */
export const portalWebhooks = new Hono<HonoEnv>()
  .get('/:webhook_id', portalSignedIn, rateLimit('portal:pages', byApp), webhookIdPath, pageQuery(webhookQuery), async (c) => {
    const { app } = c.get('portal')!;
    const webhook = await portalWebhook(c.env, app, c.req.valid('param').webhook_id);
    const { done, job } = c.req.valid('query');
    const now = Date.now();
    const page = (
      <WebhookPage
        viewer={{ app, csrf: c.get('csrf')! }}
        webhook={webhook}
        now={now}
        notice={done}
        replayJob={job}
        replayDefaults={{ from: localFromUtc(now - 3_600_000), to: localFromUtc(now) }}
        graceHours={Math.round(c.get('settings').rotationGraceMs / 3_600_000)}
      />
    );
    return c.html(await renderDocument(page));
  })
  .get('/:webhook_id/deliveries', portalSignedIn, rateLimit('portal:pages', byApp), webhookIdPath, pageQuery(logQuery), async (c) => {
    const { app } = c.get('portal')!;
    const webhook = await portalWebhook(c.env, app, c.req.valid('param').webhook_id);
    const q = c.req.valid('query');
    const { entries, nextBefore } = await deliveryLog(
      c.env,
      app.id,
      {
        webhookId: webhook.row.id,
        outcome: q.status,
        userId: q.user_id,
        from: q.since,
        to: q.until,
        before: q.before ? Number(q.before) : undefined,
      },
      LOG_PAGE,
    );
    const raw = c.req.query();
    const filters = { status: q.status, user_id: q.user_id, since: raw.since || undefined, until: raw.until || undefined };
    const older = new URLSearchParams(Object.entries(filters).filter((kv): kv is [string, string] => Boolean(kv[1])));
    if (nextBefore !== null) older.set('before', String(nextBefore));
    const page = (
      <DeliveriesPage
        viewer={{ app, csrf: c.get('csrf')! }}
        webhook={webhook}
        entries={entries}
        filters={filters}
        olderHref={nextBefore !== null ? `/portal/webhooks/${webhook.row.id}/deliveries?${older}` : null}
        testQueued={q.queued === '1'}
      />
    );
    return c.html(await renderDocument(page));
  })
  .get(
    '/:webhook_id/deliveries/:attempt_id',
    portalSignedIn,
    rateLimit('portal:pages', byApp),
    pageIds('webhook_id', 'attempt_id'),
    async (c) => {
      const { app } = c.get('portal')!;
      const { webhook_id, attempt_id } = c.req.valid('param');
      const webhook = await portalWebhook(c.env, app, webhook_id);
      const entry = await deliveryAttempt(c.env, app.id, webhook.row.id, Number(attempt_id));
      return c.html(await renderDocument(<AttemptPage viewer={{ app, csrf: c.get('csrf')! }} webhook={webhook} entry={entry} />));
    },
  )
  .get(
    '/:webhook_id/subscriptions',
    portalSignedIn,
    rateLimit('portal:pages', byApp),
    webhookIdPath,
    pageQuery(subscribersQuery),
    async (c) => {
      const { app } = c.get('portal')!;
      const webhook = await portalWebhook(c.env, app, c.req.valid('param').webhook_id);
      const page = await webhookSubscribers(database(c.env), webhook.row.id, {
        after: c.req.valid('query').after,
        limit: SUBSCRIBERS_PAGE,
      });
      const nextHref = page.nextToken ? `/portal/webhooks/${webhook.row.id}/subscriptions?after=${page.nextToken}` : null;
      return c.html(
        await renderDocument(
          <SubscriptionsPage viewer={{ app, csrf: c.get('csrf')! }} webhook={webhook} subscribers={page.subscribers} nextHref={nextHref} />,
        ),
      );
    },
  )
  /** A synthetic, signed `test_event` to this webhook, on the ledger like any delivery (src/app-object/test-event.ts). */
  .post('/:webhook_id/test', portalForm, rateLimit('webhooks:test', byApp), webhookIdPath, async (c) => {
    const { app } = c.get('portal')!;
    assertActive(app);
    const webhook = await portalWebhook(c.env, app, c.req.valid('param').webhook_id);
    // Shard 0: a test event concerns no user.
    const result = await appObject(c.env, app.id).sendTestEvent(app.id, webhook.row.id);
    if (!result.ok) throw TEST_REFUSALS[result.reason](webhook.row.id);
    return c.redirect(`/portal/webhooks/${webhook.row.id}/deliveries?queued=1`, 303);
  })
  /** Re-runs the CRC now (PUT /2/webhooks/:id underneath): a pass makes it valid, any failure invalid. */
  .post('/:webhook_id/validate', portalForm, rateLimit('webhooks:validate', byApp), webhookIdPath, async (c) => {
    const { app } = c.get('portal')!;
    assertActive(app);
    const settings = c.get('settings');
    const { row } = await portalWebhook(c.env, app, c.req.valid('param').webhook_id);
    const { outcome } = await revalidateWebhook(c.env, database(c.env), row, {
      now: Date.now(),
      timeoutMs: settings.crcTimeoutMs,
      invalidAfterMs: settings.crcInvalidAfterMs,
      strict: true,
      consumerKey: app.consumerKey,
    });
    return c.redirect(`/portal/webhooks/${row.id}?done=${outcome.kind === 'ok' ? 'validated' : 'crc-failed'}`, 303);
  })
  .post('/:webhook_id/rotate', portalForm, rateLimit('webhooks:rotate-secret', byApp), webhookIdPath, async (c) => {
    const { app } = c.get('portal')!;
    assertActive(app);
    const { row } = await portalWebhook(c.env, app, c.req.valid('param').webhook_id);
    const rotated = await rotateWebhookSecret(c.env, app.id, row.id, c.get('settings').rotationGraceMs);
    return c.html(
      await renderDocument(
        <SecretPage viewer={{ app, csrf: c.get('csrf')! }} heading="New signing secret" webhook={row} secret={rotated.signingSecret}>
          <Notice tone="ok">
            Until <Time at={rotated.previousValidUntil} /> every delivery is signed with both the new and the previous secret, so your
            server can switch over without missing one.
          </Notice>
        </SecretPage>,
      ),
    );
  })
  .post('/:webhook_id/delete', portalForm, rateLimit('webhooks:delete', byApp), webhookIdPath, async (c) => {
    const { app } = c.get('portal')!;
    assertActive(app);
    await deleteWebhook(c.env, app.id, c.req.valid('param').webhook_id);
    return c.redirect('/portal?done=deleted', 303);
  })
  /** Replays a window (as POST /2/webhooks/replay does); the window's rules are the API's. */
  .post('/:webhook_id/replay', portalForm, rateLimit('replay', byApp), webhookIdPath, async (c) => {
    const { app } = c.get('portal')!;
    assertActive(app);
    const window = parseWith(replaySchema, c.get('form'), 'invalid replay window');
    const webhookId = c.req.valid('param').webhook_id;
    const now = Date.now();
    // "To" includes its whole minute, up to now: replaying the last hour takes what arrived seconds ago.
    const to = window.to > now ? window.to : Math.min(window.to + MINUTE, now);
    const job = await startReplayWindow(
      c.env,
      { appId: app.id, webhookId, from: window.from, to, now, retentionMs: c.get('settings').retention.payloadMs },
      undefined,
      { from: 'from', to: 'to' },
    );
    return c.redirect(`/portal/webhooks/${webhookId}?job=${job.job_id}`, 303);
  });
