/** @jsxImportSource hono/jsx */
import { csrf } from 'hono/csrf';
import { signForPurpose, verifyForPurpose } from '../auth/session';
import { getApp } from '../db/apps';
import { database } from '../db/client';
import { cspSourceFor, withQuery } from '../domain/redirect-uri';
import { forbidden, invalid } from '../errors';
import { pageHeaders } from '../http/page-headers';
import { signInRedirect, userSession } from '../http/user-session';
import { apiRouter } from '../http/validation';
import { checkAuthorizeRequest } from '../oauth/authorize-request';
import { clientSettings } from '../oauth/clients';
import { authorizeApp, liveGrant } from '../oauth/consent';
import { issueCode } from '../oauth/tokens';
import { ConsentPage } from '../pages/consent-page';
import { renderDocument } from '../pages/layout';
import { decideConsent, showConsent } from './contracts/authorize';

/** How long the consent page may stay open before its decision is refused. */
const CONSENT_WINDOW_MS = 15 * 60_000;

/** The query as lists, so a repeated parameter is noticed. */
const queryLists = (url: string): Record<string, string[]> => {
  const lists: Record<string, string[]> = {};
  for (const [name, value] of new URL(url).searchParams) lists[name] = [...(lists[name] ?? []), value];
  return lists;
};

/**
 * `GET /i/oauth2/authorize` shows the consent page; its form posts the user's decision back here.
 * The decision redirects the browser to the app's registered redirect URI with a single-use code
 * and the app's `state`, or with `error=access_denied` when the user cancels.
 */
export const authorizeRouter = apiRouter();
authorizeRouter.use(pageHeaders, userSession, csrf({ origin: (origin, c) => origin === new URL(c.req.url).origin }));
authorizeRouter
  .openapi(showConsent, async (c) => {
    // The request is checked before anyone is asked to sign in: a bad one never reaches the sign-in page.
    const check = await checkAuthorizeRequest(database(c.env), queryLists(c.req.url));
    if (!check.ok) return c.redirect(check.redirectTo, 302);
    const session = c.get('session');
    if (!session) {
      const url = new URL(c.req.url);
      const { location, setCookie } = await signInRedirect(c.env, c.get('settings'), c.req.url, `${url.pathname}${url.search}`);
      c.header('set-cookie', setCookie);
      return c.redirect(location, 302);
    }
    const { client, redirectUri, scopes, state, codeChallenge } = check.request;
    const granted = await liveGrant(c.env, client.app.id, session.userId);
    const consent = await signForPurpose(
      c.env,
      'consent',
      {
        sid: session.sessionId,
        sub: session.userId,
        app: client.app.id,
        ru: redirectUri,
        sc: scopes.join(' '),
        st: state,
        cc: codeChallenge,
      },
      CONSENT_WINDOW_MS,
    );
    // The decision redirects there: the page's form-action must allow it.
    c.get('page')!.formActions.push(cspSourceFor(redirectUri));
    return c.html(
      await renderDocument(
        <ConsentPage
          user={{ userId: session.userId, csrf: c.get('csrf')! }}
          app={{ name: client.app.name, description: client.app.description }}
          requested={scopes}
          granted={granted ? { scopes: granted.scope.split(' '), since: granted.createdAt } : null}
          redirectUri={redirectUri}
          consent={consent}
        />,
      ),
    );
  })
  .openapi(decideConsent, async (c) => {
    const session = c.get('session')!;
    const form = c.get('form')!;
    const claims = form.consent ? await verifyForPurpose(c.env, 'consent', form.consent) : null;
    if (!claims || claims.sid !== session.sessionId || claims.sub !== session.userId) {
      throw forbidden('this consent page has expired or belongs to another sign-in: go back to the app and start again');
    }
    const appId = String(claims.app);
    const redirectUri = String(claims.ru);
    const state = String(claims.st);
    // The app may have been suspended, or dropped this redirect URI, while the page was open.
    const db = database(c.env);
    const [app, client] = await Promise.all([getApp(db, appId), clientSettings(db, appId)]);
    if (app.status !== 'active') throw forbidden(`${app.name} is not available right now`, 'AppNotActive');
    if (!client?.redirectUris.includes(redirectUri))
      throw invalid('the app no longer accepts this redirect address; start again from the app');

    if (form.decision === 'cancel') {
      return c.redirect(withQuery(redirectUri, { error: 'access_denied', error_description: 'the user declined', state }), 303);
    }
    if (form.decision !== 'authorize') throw invalid('choose Authorize or Cancel');
    const scopes = String(claims.sc).split(' ');
    const { authorizationId } = await authorizeApp(c.env, appId, session.userId, scopes);
    const code = await issueCode(c.env, c.get('settings'), {
      appId,
      userId: session.userId,
      authorizationId,
      redirectUri,
      codeChallenge: String(claims.cc),
    });
    return c.redirect(withQuery(redirectUri, { code, state }), 303);
  });
