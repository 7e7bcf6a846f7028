import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { bindingHolds, cookiePolicy, csrfToken, readPageSession } from '../auth/session';
import { sessionForm } from './page-session';
import type { HonoEnv } from './types';

export const CONSOLE_HOME = '/console';
export const CONSOLE_SIGN_IN = '/console/sign-in';

/**
 * Loads the operator console's session, if any. It is the platform operator's, and holds only while
 * PLATFORM_TOKEN is the token it was made with: changing the token signs every console out.
 */
export const consoleSession = createMiddleware<HonoEnv>(async (c, next) => {
  const session = await readPageSession(c.env, 'operator', getCookie(c, cookiePolicy(c.req.url).console));
  const token = c.env.PLATFORM_TOKEN;
  if (session && token && (await bindingHolds(c.env, session, 'operator', token))) {
    c.set('operator', session);
    c.set('csrf', await csrfToken(c.env, session));
  }
  await next();
});

/** A console page: without a session, the browser is sent to sign in. */
export const consoleSignedIn = createMiddleware<HonoEnv>(async (c, next) => {
  if (c.get('operator')) return next();
  return c.redirect(CONSOLE_SIGN_IN, 303);
});

/** A console form post: the session and its CSRF token, or it is refused. */
export const consoleForm = sessionForm((c) => c.get('operator'), 'your console session has ended: sign in again');
