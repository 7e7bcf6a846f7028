/** @jsxImportSource hono/jsx */
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { z } from 'zod';
import { assertActive } from '../auth/developer';
import { signInDeveloper } from '../auth/page-sign-in';
import { portalOverview, rateLimitUsage } from '../delivery/portal-data';
import { registerWebhook } from '../delivery/webhook-changes';
import { ApiError } from '../errors';
import { pagesOf } from '../http/page-headers';
import { beginSession, clientAddress, endSession, openSignInForm, signInFormFields } from '../http/page-session';
import { PORTAL_HOME, portalForm, portalSession, portalSignedIn } from '../http/portal-session';
import { byApp, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { parseWith } from '../http/validation';
import { renderDocument } from '../pages/layout';
import { MessagePage } from '../pages/message-page';
import { Notice } from '../pages/parts';
import { LimitsPage, OverviewPage, SecretPage } from '../pages/portal-pages';
import { refusalMessage, SignInPage } from '../pages/sign-in-page';
import { portalWebhooks } from './portal-webhooks';

const signInSchema = z.object({
  consumer_key: z.string({ error: 'is required' }).trim().min(1, 'is required').max(100),
  consumer_secret: z.string({ error: 'is required' }).min(1, 'is required').max(200),
});
const addSchema = z.object({ url: z.string({ error: 'is required' }).trim().min(1, 'is required') });
const overviewQuery = z.object({ done: z.string().optional() });

/**
 * The developer portal (docs/portal.md): a developer signs in with their app's consumer key and
 * secret and manages that app's webhooks, sees its subscriptions, delivery log and rate limits,
 * replays and sends test events. Every page and action is bound to the session's one app; every
 * change goes through the same functions as the API (src/delivery/webhook-changes.ts) and counts
 * against the same rate limits.
 */
export const portalRouter = new Hono<HonoEnv>()
  .use(pagesOf('portal'), portalSession, csrf({ origin: (origin, c) => origin === new URL(c.req.url).origin }))
  .get('/sign-in', async (c) => {
    if (c.get('portal')) return c.redirect(PORTAL_HOME, 303);
    return c.html(await renderDocument(<SignInPage surface="portal" csrf={await openSignInForm(c, 'developer')} />));
  })
  .post('/sign-in', async (c) => {
    const fields = parseWith(signInSchema, await signInFormFields(c, 'developer'), 'invalid sign-in form');
    const settings = c.get('settings');
    const credentials = { key: fields.consumer_key, secret: fields.consumer_secret };
    const result = await signInDeveloper(c.env, settings, credentials, clientAddress(c));
    if (!result.ok) {
      const page = (
        <SignInPage
          surface="portal"
          csrf={await openSignInForm(c, 'developer')}
          error={refusalMessage('portal', result.retryAfterSeconds)}
          values={{ consumer_key: fields.consumer_key }}
        />
      );
      if (result.retryAfterSeconds !== null) c.header('retry-after', String(result.retryAfterSeconds));
      return c.html(await renderDocument(page), result.retryAfterSeconds === null ? 401 : 429);
    }
    const { app } = result;
    await beginSession(c, 'developer', app.id, app.consumerSecretHash, settings.pages.portalSessionMs);
    return c.redirect(PORTAL_HOME, 303);
  })
  .post('/sign-out', portalForm, async (c) => {
    endSession(c, 'developer');
    return c.html(
      await renderDocument(
        <MessagePage
          title="You are signed out"
          message="Your app keeps working; only this browser's portal session ended."
          surface={{ brand: 'Developer portal', eyebrow: 'Developer portal' }}
          action={{ href: '/portal/sign-in', label: 'Sign in again' }}
        />,
      ),
    );
  })
  .get('/', portalSignedIn, rateLimit('portal:pages', byApp), async (c) => {
    const { done } = parseWith(overviewQuery, c.req.query(), 'invalid query');
    const { app } = c.get('portal')!;
    const data = await portalOverview(c.env, app);
    return c.html(await renderDocument(<OverviewPage viewer={{ app, csrf: c.get('csrf')! }} {...data} now={Date.now()} notice={done} />));
  })
  .get('/limits', portalSignedIn, rateLimit('portal:pages', byApp), async (c) => {
    const { app } = c.get('portal')!;
    const settings = c.get('settings');
    const usage = await rateLimitUsage(c.env, app.id, settings);
    return c.html(
      await renderDocument(
        <LimitsPage viewer={{ app, csrf: c.get('csrf')! }} usage={usage} windowMinutes={Math.round(settings.rateLimitWindowMs / 60_000)} />,
      ),
    );
  })
  /**
   * Adds a webhook after its CRC passes (POST /2/webhooks underneath) and shows its signing secret,
   * this once. A refusal (bad URL, CRC failed, duplicate, limit) comes back on the overview with the
   * URL kept and the reason named.
   */
  .post('/webhooks', portalForm, rateLimit('webhooks:create', byApp), async (c) => {
    const { app } = c.get('portal')!;
    const viewer = { app, csrf: c.get('csrf')! };
    assertActive(app);
    const { url } = parseWith(addSchema, c.get('form'), 'invalid form');
    let webhook: Awaited<ReturnType<typeof registerWebhook>>;
    try {
      webhook = await registerWebhook(c.env, app, url, c.get('settings'));
    } catch (err) {
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      const data = await portalOverview(c.env, app);
      const page = <OverviewPage viewer={viewer} {...data} now={Date.now()} add={{ url, error: err.message }} />;
      return c.html(await renderDocument(page), err.status);
    }
    return c.html(
      await renderDocument(
        <SecretPage viewer={viewer} heading="Webhook added" webhook={webhook} secret={webhook.signingSecret}>
          <Notice tone="ok">CRC passed: your server answered the challenge with the right response token.</Notice>
        </SecretPage>,
      ),
    );
  })
  .route('/webhooks', portalWebhooks);
