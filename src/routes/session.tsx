/** @jsxImportSource hono/jsx */
import { getCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { devLoginAssertion, devLoginAvailable, finishSignIn, LOGIN_CALLBACK_PATH } from '../auth/login';
import { cookieHeader, cookiePolicy, newSession } from '../auth/session';
import { invalid, notFound } from '../errors';
import { formFields } from '../http/form';
import { pageHeaders } from '../http/page-headers';
import { userSession } from '../http/user-session';
import { apiRouter } from '../http/validation';
import { DevLoginPage } from '../pages/dev-login-page';
import { renderDocument } from '../pages/layout';
import { MessagePage } from '../pages/message-page';
import { devLogin, devLoginPage, signInCallback, signOut } from './contracts/session';

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const origin = (url: string) => new URL(url).origin;

/**
 * Sign-in and sign-out of the user pages. `GET /callback` is where the platform's sign-in page sends
 * the browser back with its signed assertion; `/dev-login` is the development stand-in for that page.
 */
export const sessionRouter = apiRouter();
sessionRouter.use(pageHeaders, userSession, csrf({ origin: (o, c) => o === origin(c.req.url) }));
sessionRouter
  .openapi(signInCallback, async (c) => {
    const names = cookiePolicy(c.req.url);
    const { userId, returnPath } = await finishSignIn(
      c.env,
      c.get('settings'),
      origin(c.req.url),
      getCookie(c, names.login),
      c.req.query('assertion'),
    );
    const lifetimeMs = c.get('settings').login.sessionMs;
    const { cookieValue } = await newSession(c.env, userId, lifetimeMs);
    // The attempt is used up: the same assertion cannot sign this browser in again.
    c.header('set-cookie', cookieHeader(c.req.url, names.login, '', 0), { append: true });
    c.header('set-cookie', cookieHeader(c.req.url, names.session, cookieValue, Math.floor(lifetimeMs / 1000)), { append: true });
    return c.redirect(returnPath, 303);
  })
  // The development login is a 404 unless DEV_LOGIN is on and the browser is on this machine.
  .openapi(devLoginPage, async (c) => {
    if (!devLoginAvailable(c.get('settings'), origin(c.req.url))) throw notFound(`no route for GET ${c.req.path}`);
    const returnTo = c.req.query('return_to') ?? '';
    const nonce = c.req.query('nonce') ?? '';
    if (returnTo !== `${origin(c.req.url)}${LOGIN_CALLBACK_PATH}` || !NONCE.test(nonce)) {
      throw invalid('open this page through an app or the Connected apps page, not directly');
    }
    return c.html(await renderDocument(<DevLoginPage returnTo={returnTo} nonce={nonce} />));
  })
  .openapi(devLogin, async (c) => {
    if (!devLoginAvailable(c.get('settings'), origin(c.req.url))) throw notFound(`no route for POST ${c.req.path}`);
    const form = formFields(await c.req.arrayBuffer(), c.req.header('content-type'));
    const callback = `${origin(c.req.url)}${LOGIN_CALLBACK_PATH}`;
    // Only ever back to this service's own callback: the page is no open redirect.
    if (form.return_to !== callback || !NONCE.test(form.nonce ?? '')) throw invalid('open this page through an app, not directly');
    if (!/^[0-9]{1,19}$/.test(form.user_id ?? '')) throw invalid('the user id must be 1-19 digits');
    const assertion = await devLoginAssertion(c.env, origin(c.req.url), form.user_id, form.nonce);
    return c.redirect(`${callback}?${new URLSearchParams({ assertion })}`, 303);
  })
  .openapi(signOut, async (c) => {
    c.header('set-cookie', cookieHeader(c.req.url, cookiePolicy(c.req.url).session, '', 0));
    return c.html(
      await renderDocument(
        <MessagePage
          title="You are signed out"
          message="Apps you authorized keep their access until you revoke it in Connected apps."
          action={{ href: '/i/connected_apps', label: 'Sign in to Connected apps' }}
        />,
      ),
    );
  });
