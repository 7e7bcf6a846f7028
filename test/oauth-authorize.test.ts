import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sha256Base64 } from '../src/domain/crypto';
import { STYLESHEET } from '../src/pages/styles';
import { activeApp, createApp } from './support/apps';
import { basic, call, expectProblem, platform } from './support/http';
import { authorizeUrl, browser, consent, hiddenField, ORIGIN, oauthApp, pkce, REDIRECT_URI, registerClient, signIn } from './support/oauth';

const decode = (html: string) =>
  html
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

/** A signed-in browser on the consent page of `app` for `scope`. */
async function onConsentPage(userId: string, scope = 'tweet.read users.read', app?: Awaited<ReturnType<typeof oauthApp>>) {
  const theApp = app ?? (await oauthApp({ name: 'Acme Reader', description: 'Reads your timeline to build a digest' }));
  const b = browser();
  await signIn(b, userId);
  const { challenge } = await pkce();
  const page = await b.get(authorizeUrl(theApp, { scope, code_challenge: challenge }));
  return { app: theApp, b, page, challenge };
}

describe('GET /i/oauth2/authorize: the consent page', () => {
  it('names the app, says in plain words what each scope exposes, where the browser goes, and offers Authorize / Cancel', async () => {
    const { page } = await onConsentPage('200', 'tweet.read users.read');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = decode(page.text);
    expect(html).toContain('Acme Reader</span> wants to access your account');
    expect(html).toContain('Reads your timeline to build a digest');
    expect(html).toContain('See your posts');
    expect(html).toContain('See your profile');
    expect(html).not.toContain('Read your direct messages');
    expect(html).toContain('you will be sent to <strong>app.example</strong>');
    expect(html).toMatch(/<button type="submit" name="decision" value="authorize"/);
    expect(html).toMatch(/<button type="submit" name="decision" value="cancel"/);
    expect(html).not.toMatch(/<script/i);
  });

  it('calls out direct messages', async () => {
    const { page } = await onConsentPage('201', 'dm.read tweet.read');
    const html = decode(page.text);
    expect(html).toContain('This app asks for your direct messages.');
    expect(html).toContain('Read your direct messages');
    expect(html).toContain('Private messages');
  });

  it('shows what the user already granted, and marks only what is new', async () => {
    const app = await oauthApp();
    const b = browser();
    await signIn(b, '202');
    await consent(b, app, { scope: 'tweet.read', challenge: (await pkce()).challenge });
    const page = await b.get(authorizeUrl(app, { scope: 'tweet.read like.read', code_challenge: (await pkce()).challenge }));
    const html = decode(page.text);
    expect(html).toContain('It asks for more than you allowed before');
    expect(html).toMatch(/data-testid="requested-scopes">.*See your likes.*New/s);
    expect(html).toMatch(/Already allowed since .*data-testid="granted-scopes">.*See your posts/s);
    expect(html.match(/data-testid="requested-scopes">(.*?)<\/ul>/s)?.[1]).not.toContain('See your posts');
  });

  it('sends strict security headers: CSP without script, the stylesheet by hash, no framing, no caching, no referrer', async () => {
    const { page } = await onConsentPage('203');
    const csp = page.headers.get('content-security-policy')!;
    const directives = Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    expect(directives['default-src']).toBe("'none'");
    expect(directives['frame-ancestors']).toBe("'none'");
    expect(directives['base-uri']).toBe("'none'");
    expect(directives['script-src']).toBeUndefined();
    expect(csp).not.toContain('unsafe-inline');
    // The only style allowed is the page's own stylesheet, by its hash; and the decision may redirect to the app.
    expect(directives['style-src']).toBe(`'sha256-${await sha256Base64(STYLESHEET)}'`);
    expect(page.text).toContain(`<style>${STYLESHEET}</style>`);
    expect(directives['form-action']).toBe("'self' https://app.example");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('sends a browser without a session to sign in first, then back to the same request', async () => {
    const app = await oauthApp();
    const b = browser();
    const url = authorizeUrl(app, { code_challenge: (await pkce()).challenge });
    const start = await b.get(url);
    expect(start.status).toBe(302);
    const login = new URL(start.location!);
    expect(login.pathname).toBe('/i/session/dev-login');
    expect(login.searchParams.get('return_to')).toBe(`${ORIGIN}/i/session/callback`);
    expect(login.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const cookie = start.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const back = await signIn(browser(), '204', url);
    // A fresh browser signs in and lands on the consent page of the same request.
    expect(back.status).toBe(200);
    expect(decode(back.text)).toContain('wants to access your account');
  });
});

describe('the decision', () => {
  it('Authorize: redirects to the registered URI with a code and the exact state', async () => {
    const app = await oauthApp();
    const b = browser();
    await signIn(b, '210');
    const state = 'a b&c=d/é?';
    const { location } = await consent(b, app, { state, challenge: (await pkce()).challenge });
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.get('code')).toMatch(/^aae_ac_/);
  });

  it('keeps the query of a registered redirect URI', async () => {
    const app = await oauthApp({ redirectUris: ['https://app.example/cb?tenant=7'] });
    const b = browser();
    await signIn(b, '211');
    const { location } = await consent(b, app, { challenge: (await pkce()).challenge });
    expect(location.searchParams.get('tenant')).toBe('7');
    expect(location.searchParams.get('code')).toBeTruthy();
  });

  it('Cancel: error=access_denied with the state, and no authorization is created', async () => {
    const app = await oauthApp();
    const b = browser();
    await signIn(b, '212');
    const { location } = await consent(b, app, { state: 'xyz', challenge: (await pkce()).challenge, decision: 'cancel' });
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('xyz');
    expect(location.searchParams.get('code')).toBeNull();
    expect((await platform('GET', '/internal/users/212/access')).body.data.apps).toEqual([]);
  });

  it('refuses a post without the CSRF token, with another session’s, from another origin, or without a session', async () => {
    const { b, page } = await onConsentPage('213');
    const fields = { consent: hiddenField(page.text, 'consent'), csrf: hiddenField(page.text, 'csrf'), decision: 'authorize' };
    const other = browser();
    const otherPage = (await onConsentPage('214')).page;

    const noCsrf = await b.post('/i/oauth2/authorize', { ...fields, csrf: '' });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await b.post('/i/oauth2/authorize', { ...fields, csrf: hiddenField(otherPage.text, 'csrf') })).status).toBe(403);
    // Another session's signed consent, even with this session's CSRF token, is not this user's decision.
    expect((await b.post('/i/oauth2/authorize', { ...fields, consent: hiddenField(otherPage.text, 'consent') })).status).toBe(403);
    const tampered = `${fields.consent.slice(0, -4)}AAAA`;
    expect((await b.post('/i/oauth2/authorize', { ...fields, consent: tampered })).status).toBe(403);
    expect((await b.post('/i/oauth2/authorize', fields, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await other.post('/i/oauth2/authorize', fields)).status).toBe(401);
    // None of it authorized anything; the real decision still works.
    expect((await platform('GET', '/internal/users/213/access')).body.data.apps).toEqual([]);
    const ok = await b.post('/i/oauth2/authorize', fields);
    expect(ok.status).toBe(303);
  });

  it('re-checks the app: suspended or redirect URI dropped while the page was open', async () => {
    const { app, b, page } = await onConsentPage('215');
    const fields = { consent: hiddenField(page.text, 'consent'), csrf: hiddenField(page.text, 'csrf'), decision: 'authorize' };
    await platform('PUT', `/internal/apps/${app.id}/oauth2-client`, { redirect_uris: ['https://app.example/new'] });
    const dropped = await b.post('/i/oauth2/authorize', fields);
    expect(dropped.status).toBe(400);
    expect(dropped.location).toBeNull();
    await platform('PUT', `/internal/apps/${app.id}/oauth2-client`, { redirect_uris: [REDIRECT_URI] });
    await platform('POST', `/internal/apps/${app.id}/suspend`, { reason: 'test' });
    expect((await b.post('/i/oauth2/authorize', fields)).status).toBe(403);
  });
});

describe('requests the service refuses', () => {
  it('never redirects to an unregistered redirect_uri (no open redirect): an error page instead', async () => {
    const app = await oauthApp();
    const b = browser();
    await signIn(b, '220');
    const challenge = (await pkce()).challenge;
    for (const redirect_uri of [
      'https://evil.example/callback',
      `${REDIRECT_URI}/more`,
      `${REDIRECT_URI}?x=1`,
      'https://app.example/callback/../evil',
      'HTTPS://APP.EXAMPLE/callback',
      '',
    ]) {
      const res = await b.get(authorizeUrl(app, { redirect_uri, code_challenge: challenge }));
      expect({ redirect_uri, status: res.status, location: res.location }).toEqual({ redirect_uri, status: 400, location: null });
      expect(decode(res.text)).toContain('for your safety you were not sent there');
    }
  });

  it('shows an error page for an unknown client, an app with no client registration, and an app not active', async () => {
    const b = browser();
    await signIn(b, '221');
    const challenge = (await pkce()).challenge;
    const unknown = await b.get(authorizeUrl({ consumerKey: 'nobody', redirectUri: REDIRECT_URI }, { code_challenge: challenge }));
    expect(unknown.status).toBe(400);
    const plain = await activeApp();
    const unregistered = await b.get(
      authorizeUrl({ consumerKey: plain.consumerKey, redirectUri: REDIRECT_URI }, { code_challenge: challenge }),
    );
    expect(unregistered.status).toBe(400);
    const pending = await registerClient({ ...(await createApp()), bearer: '' });
    const notActive = await b.get(authorizeUrl(pending, { code_challenge: challenge }));
    expect(notActive.status).toBe(403);
    expect(notActive.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it.each([
    ['no code_challenge (PKCE is required)', { code_challenge: '' }, 'invalid_request'],
    ['the plain PKCE method', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['a malformed code_challenge', { code_challenge: 'short' }, 'invalid_request'],
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type'],
    ['an unknown scope', { scope: 'tweet.read admin' }, 'invalid_scope'],
    ['no scope', { scope: '' }, 'invalid_scope'],
    ['no state', { state: '' }, 'invalid_request'],
  ] as [string, Record<string, string>, string][])('sends %s back to the app as an error, with the state', async (_what, params, error) => {
    const app = await oauthApp({ clientType: 'public' });
    const res = await browser().get(authorizeUrl(app, { code_challenge: (await pkce()).challenge, ...params }));
    expect(res.status).toBe(302);
    const location = new URL(res.location!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe(error);
    if (params.state !== '') expect(location.searchParams.get('state')).toBe('state-123');
  });

  it('refuses a repeated parameter', async () => {
    const app = await oauthApp();
    const res = await browser().get(`${authorizeUrl(app, { code_challenge: (await pkce()).challenge })}&scope=dm.read`);
    expect(new URL(res.location!).searchParams.get('error')).toBe('invalid_request');
  });
});

describe('registering redirect URIs', () => {
  it('takes exact URIs from the platform and from the developer (consumer credentials), and validates them', async () => {
    const app = await activeApp();
    const put = (body: unknown) => platform('PUT', `/internal/apps/${app.id}/oauth2-client`, body);
    for (const bad of [
      'http://app.example/cb',
      'javascript:alert(1)',
      'data:text/html,hi',
      'https://app.example/cb#frag',
      'https://user:pw@app.example/cb',
      '/relative',
      `https://app.example/${'x'.repeat(600)}`,
    ]) {
      expectProblem(await put({ redirect_uris: [bad] }), 400);
    }
    expectProblem(await put({ redirect_uris: [] }), 400);
    expectProblem(await put({ redirect_uris: [REDIRECT_URI, REDIRECT_URI] }), 400);
    expectProblem(await put({ redirect_uris: [REDIRECT_URI], client_type: 'other' }), 400);
    const ok = await put({ redirect_uris: [REDIRECT_URI, 'http://127.0.0.1:4000/cb', 'com.example.app:/oauth'], client_type: 'public' });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual({
      client_id: app.consumerKey,
      client_type: 'public',
      redirect_uris: [REDIRECT_URI, 'http://127.0.0.1:4000/cb', 'com.example.app:/oauth'],
      updated_at: expect.any(String),
    });

    const dev = basic(app.consumerKey, app.consumerSecret);
    const mine = await call('GET', '/2/oauth2/client', { headers: { authorization: dev } });
    expect(mine.body.data.redirect_uris).toHaveLength(3);
    const changed = await call('PUT', '/2/oauth2/client', {
      headers: { authorization: dev },
      body: { client_type: 'confidential', redirect_uris: ['https://app.example/v2'] },
    });
    expect(changed.body.data).toMatchObject({ client_type: 'confidential', redirect_uris: ['https://app.example/v2'] });
    // A bearer token (handed to many servers) cannot change where codes go.
    expectProblem(await call('PUT', '/2/oauth2/client', { token: app.bearer, body: { redirect_uris: ['https://evil.example/'] } }), 401);
    expectProblem(await platform('GET', '/internal/apps/999/oauth2-client'), 404);
  });
});

describe('page errors', () => {
  it('render as pages with the same headers when sign-in is not configured', async () => {
    const { createApp: createWorker } = await import('../src/app');
    const res = await createWorker().fetch(new Request(`${ORIGIN}/i/connected_apps`), { ...env, SESSION_SECRET: '' });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('SESSION_SECRET');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
