import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { bindingHolds, cookiePolicy, csrfToken, readPageSession } from '../auth/session';
import { findApp } from '../db/apps';
import { database } from '../db/client';
import { sessionForm } from './page-session';
import type { HonoEnv } from './types';

export const PORTAL_HOME = '/portal';
export const PORTAL_SIGN_IN = '/portal/sign-in';

/**
 * Loads the developer portal's session, if any: the app it names must exist and still have the
 * consumer secret the session was made with. So a session is bound to one app (every page reads
 * that app, and only that app, from it) and ends when the secret is rotated. The app is also set as
 * `app`, so the portal's actions count against the app's own rate limits.
 */
export const portalSession = createMiddleware<HonoEnv>(async (c, next) => {
  const session = await readPageSession(c.env, 'developer', getCookie(c, cookiePolicy(c.req.url).portal));
  const app = session ? await findApp(database(c.env), session.subject) : undefined;
  if (session && app && (await bindingHolds(c.env, session, 'developer', app.consumerSecretHash))) {
    c.set('portal', { app, session });
    c.set('app', app);
    c.set('csrf', await csrfToken(c.env, session));
  }
  await next();
});

/** A portal page: without a session, the browser is sent to sign in. */
export const portalSignedIn = createMiddleware<HonoEnv>(async (c, next) => {
  if (c.get('portal')) return next();
  return c.redirect(PORTAL_SIGN_IN, 303);
});

/** A portal form post: the session and its CSRF token, or it is refused (src/http/page-session.ts). */
export const portalForm = sessionForm((c) => c.get('portal')?.session, 'your portal session has ended: sign in again');
