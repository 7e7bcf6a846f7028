import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { beginSignIn, SIGN_IN_WINDOW_MS } from '../auth/login';
import { cookieHeader, cookiePolicy, csrfToken, readSession } from '../auth/session';
import type { Settings } from '../config';
import { sessionForm } from './page-session';
import type { HonoEnv } from './types';

/** Loads the signed-in user, if any, and their CSRF token. */
export const userSession = createMiddleware<HonoEnv>(async (c, next) => {
  const session = await readSession(c.env, getCookie(c, cookiePolicy(c.req.url).session));
  if (session) {
    c.set('session', session);
    c.set('csrf', await csrfToken(c.env, session));
  }
  await next();
});

/** Where to send a browser with no session, and the cookie that remembers its sign-in attempt. */
export async function signInRedirect(env: Env, settings: Settings, requestUrl: string, returnPath: string) {
  const { location, cookieValue } = await beginSignIn(env, settings, new URL(requestUrl).origin, returnPath);
  return { location, setCookie: cookieHeader(requestUrl, cookiePolicy(requestUrl).login, cookieValue, SIGN_IN_WINDOW_MS / 1000) };
}

/** A page a browser navigates to: without a session it is sent to sign in, then back to `returnPath`. */
export const signedIn = (returnPath: (url: URL) => string) =>
  createMiddleware<HonoEnv>(async (c, next) => {
    if (c.get('session')) return next();
    const url = new URL(c.req.url);
    const { location, setCookie } = await signInRedirect(c.env, c.get('settings'), c.req.url, returnPath(url));
    c.header('set-cookie', setCookie);
    return c.redirect(location, 302);
  });

/**
 * A form post of a signed-in user: it needs the session and that session's CSRF token in its `csrf`
 * field (src/http/page-session.ts).
 */
export const signedInForm = sessionForm((c) => c.get('session'), 'your sign-in has expired: go back and start again');
