import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { purgeExpiredOAuthRecords } from '../src/oauth/tokens';
import { activeApp } from './support/apps';
import { appWithWebhook } from './support/fixtures';
import { call, expectProblem, platform } from './support/http';
import {
  browser,
  consent,
  type OAuthTestApp,
  ORIGIN,
  oauthApp,
  pkce,
  registerClient,
  signIn,
  tokenRequest,
  tokensFor,
} from './support/oauth';

const basicOf = (app: OAuthTestApp) => ({ key: app.consumerKey, secret: app.consumerSecret });

/** An RFC 6749 error answer (which also carries the RFC 7807 fields), with this status and `error`. */
function expectOAuthError(res: { status: number; headers: Headers; body: Record<string, unknown> }, status: number, error: string) {
  expect({ status: res.status, error: res.body.error }).toEqual({ status, error });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.body).toMatchObject({ error_description: expect.any(String), status, type: expect.stringContaining('/problems/') });
  return res.body.error_description as string;
}

/** A code for `userId`, not yet exchanged. */
async function codeFor(app: OAuthTestApp, userId: string, scope = 'tweet.read users.read offline.access') {
  const b = browser();
  await signIn(b, userId);
  const { verifier, challenge } = await pkce();
  const { location } = await consent(b, app, { scope, challenge });
  return { code: location.searchParams.get('code')!, verifier, browser: b };
}

const exchange = (app: OAuthTestApp, code: string, verifier: string | undefined, extra: Record<string, string> = {}) =>
  tokenRequest(
    { grant_type: 'authorization_code', code, redirect_uri: app.redirectUri, ...(verifier ? { code_verifier: verifier } : {}), ...extra },
    basicOf(app),
  );

const refresh = (app: OAuthTestApp, refreshToken: string, extra: Record<string, string> = {}) =>
  tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, basicOf(app));

const works = async (token: string) => (await call('GET', '/2/webhooks', { token })).status === 200;

describe('POST /2/oauth2/token: authorization_code with PKCE', () => {
  it("issues X's token shape: an expiring access token, a refresh token for offline.access, never cached", async () => {
    const app = await oauthApp();
    const { code, verifier } = await codeFor(app, '100');
    const res = await exchange(app, code, verifier);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      token_type: 'bearer',
      expires_in: 7200,
      access_token: expect.stringMatching(/^aae_ut_[A-Za-z0-9_-]{43}$/),
      scope: 'offline.access tweet.read users.read',
      refresh_token: expect.stringMatching(/^aae_rt_[A-Za-z0-9_-]{43}$/),
    });
    expect(await works(res.body.access_token)).toBe(true);
    // A refresh token is not an access token.
    expectProblem(await call('GET', '/2/webhooks', { token: res.body.refresh_token }), 401);
  });

  it('gives no refresh token without offline.access', async () => {
    const app = await oauthApp();
    const { code, verifier } = await codeFor(app, '101', 'tweet.read');
    const res = await exchange(app, code, verifier);
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toBeUndefined();
    expect(res.body.scope).toBe('tweet.read');
  });

  it('stores only hashes of codes and tokens', async () => {
    const app = await oauthApp();
    const { code, verifier } = await codeFor(app, '102');
    const { body } = await exchange(app, code, verifier);
    const dump = JSON.stringify([
      await env.DB.prepare('SELECT * FROM oauth_codes').all(),
      await env.DB.prepare('SELECT * FROM oauth_tokens').all(),
      await env.DB.prepare('SELECT * FROM authorizations').all(),
    ]);
    for (const secret of [code, body.access_token, body.refresh_token]) expect(dump).not.toContain(secret);
  });

  it('is the user token of the authorization: it subscribes the user, and the grant is on the record', async () => {
    const fx = await appWithWebhook();
    const app = await registerClient(fx.app);
    const { tokens } = await tokensFor(app, '103', 'tweet.read dm.read');
    const sub = await call('POST', `/2/account_activity/webhooks/${fx.hook.id}/subscriptions/all`, {
      token: tokens.access_token,
      body: {},
    });
    expect(sub.status).toBe(200);
    const check = await call('GET', `/2/account_activity/webhooks/${fx.hook.id}/subscriptions/all`, { token: tokens.access_token });
    expect(check.body).toEqual({ data: { subscribed: true } });
    const access = await platform('GET', '/internal/users/103/access');
    expect(access.body.data.apps).toEqual([
      expect.objectContaining({
        app_id: app.id,
        authorizations: [expect.objectContaining({ scope: 'dm.read tweet.read', ended_at: null })],
        subscriptions: [expect.objectContaining({ webhook_id: fx.hook.id, ended_at: null })],
      }),
    ]);
  });

  it('refuses a replayed code and revokes what the first exchange issued', async () => {
    const app = await oauthApp();
    const { code, verifier } = await codeFor(app, '104');
    const first = await exchange(app, code, verifier);
    expect(first.status).toBe(200);
    const again = await exchange(app, code, verifier);
    expect(expectOAuthError(again, 400, 'invalid_grant')).toContain('already used');
    expect(await works(first.body.access_token)).toBe(false);
    expectOAuthError(await refresh(app, first.body.refresh_token), 400, 'invalid_grant');
  });

  it('requires the PKCE verifier, and a wrong one does not burn the code', async () => {
    const app = await oauthApp();
    const { code, verifier } = await codeFor(app, '105');
    expect(expectOAuthError(await exchange(app, code, undefined), 400, 'invalid_request')).toContain('code_verifier');
    expectOAuthError(await exchange(app, code, 'x'.repeat(10)), 400, 'invalid_request');
    const wrong = (await pkce()).verifier;
    expect(expectOAuthError(await exchange(app, code, wrong), 400, 'invalid_grant')).toContain('code_challenge');
    expect((await exchange(app, code, verifier)).status).toBe(200);
  });

  it('refuses another redirect_uri, another client, an expired code and a made-up one', async () => {
    const app = await oauthApp({ redirectUris: ['https://app.example/callback', 'https://app.example/other'] });
    const other = await oauthApp();
    const { code, verifier } = await codeFor(app, '106');
    expectOAuthError(await exchange(app, code, verifier, { redirect_uri: 'https://app.example/other' }), 400, 'invalid_grant');
    expectOAuthError(
      await tokenRequest(
        { grant_type: 'authorization_code', code, redirect_uri: app.redirectUri, code_verifier: verifier },
        basicOf(other),
      ),
      400,
      'invalid_grant',
    );
    expectOAuthError(await exchange(app, 'aae_ac_madeup', verifier), 400, 'invalid_grant');
    await env.DB.prepare('UPDATE oauth_codes SET expires_at = ? WHERE app_id = ?')
      .bind(Date.now() - 1, app.id)
      .run();
    expect(expectOAuthError(await exchange(app, code, verifier), 400, 'invalid_grant')).toContain('expired');
  });

  it('refuses a code whose authorization was revoked before the exchange', async () => {
    const app = await oauthApp();
    const { code, verifier } = await codeFor(app, '107');
    expect((await platform('DELETE', `/internal/authorizations/${app.id}/107`)).status).toBe(200);
    expectOAuthError(await exchange(app, code, verifier), 400, 'invalid_grant');
  });
});

describe('client authentication', () => {
  it('lets a public client exchange with client_id and PKCE alone', async () => {
    const app = await oauthApp({ clientType: 'public' });
    const { code, verifier } = await codeFor(app, '110');
    const res = await tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: app.redirectUri,
      code_verifier: verifier,
      client_id: app.consumerKey,
    });
    expect(res.status).toBe(200);
    const refreshed = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: res.body.refresh_token,
      client_id: app.consumerKey,
    });
    expect(refreshed.status).toBe(200);
  });

  it('refuses a confidential client that sends only its client_id, a wrong secret, and no client at all', async () => {
    const app = await oauthApp();
    const { code, verifier } = await codeFor(app, '111');
    const fields = { grant_type: 'authorization_code', code, redirect_uri: app.redirectUri, code_verifier: verifier };
    expect(expectOAuthError(await tokenRequest({ ...fields, client_id: app.consumerKey }), 401, 'invalid_client')).toContain(
      'confidential',
    );
    const wrong = await tokenRequest(fields, { key: app.consumerKey, secret: 'aae_cs_wrong' });
    expectOAuthError(wrong, 401, 'invalid_client');
    expect(wrong.headers.get('www-authenticate')).toContain('Basic');
    expectOAuthError(await tokenRequest(fields), 401, 'invalid_client');
    expectOAuthError(await tokenRequest({ ...fields, client_id: 'nobody' }), 401, 'invalid_client');
    // None of that spent the code.
    expect((await exchange(app, code, verifier)).status).toBe(200);
  });

  it('refuses an app that registered no OAuth client, and a suspended one', async () => {
    const plain = await activeApp();
    const res = await tokenRequest(
      { grant_type: 'authorization_code', code: 'aae_ac_x', redirect_uri: 'https://a.example/cb', code_verifier: 'v'.repeat(43) },
      { key: plain.consumerKey, secret: plain.consumerSecret },
    );
    expectOAuthError(res, 400, 'unauthorized_client');
    const app = await oauthApp();
    const { code, verifier } = await codeFor(app, '112');
    await platform('POST', `/internal/apps/${app.id}/suspend`, { reason: 'test' });
    const suspended = await exchange(app, code, verifier);
    expect(suspended.status).toBe(403);
    expect(suspended.body).toMatchObject({ error: 'unauthorized_client', reason: 'AppNotActive' });
  });

  it('names unsupported grant types and missing fields', async () => {
    const app = await oauthApp();
    expectOAuthError(await tokenRequest({ grant_type: 'client_credentials' }, basicOf(app)), 400, 'unsupported_grant_type');
    expectOAuthError(await tokenRequest({ grant_type: 'password' }, basicOf(app)), 400, 'unsupported_grant_type');
    expect(expectOAuthError(await tokenRequest({}, basicOf(app)), 400, 'invalid_request')).toContain('grant_type');
    expect(expectOAuthError(await tokenRequest({ grant_type: 'authorization_code' }, basicOf(app)), 400, 'invalid_request')).toContain(
      'code',
    );
  });
});

describe('refresh_token: rotation and reuse detection', () => {
  it('rotates: a new access and refresh token; the old access token lives until it expires', async () => {
    const app = await oauthApp();
    const { tokens } = await tokensFor(app, '120');
    const res = await refresh(app, tokens.refresh_token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 7200, scope: tokens.scope });
    expect(res.body.refresh_token).not.toBe(tokens.refresh_token);
    expect(res.body.access_token).not.toBe(tokens.access_token);
    expect(await works(res.body.access_token)).toBe(true);
    expect(await works(tokens.access_token)).toBe(true);
    expect((await refresh(app, res.body.refresh_token)).status).toBe(200);
  });

  it('revokes the whole family when a spent refresh token comes back, and only that family', async () => {
    const app = await oauthApp();
    const { tokens } = await tokensFor(app, '121');
    const second = await tokensFor(app, '121');
    const rotated = (await refresh(app, tokens.refresh_token)).body;
    const reuse = await refresh(app, tokens.refresh_token);
    expect(expectOAuthError(reuse, 400, 'invalid_grant')).toContain('already used');
    for (const token of [tokens.access_token, rotated.access_token]) expect(await works(token)).toBe(false);
    expectOAuthError(await refresh(app, rotated.refresh_token), 400, 'invalid_grant');
    // Another sign-in of the same user in the same app is another family: it goes on.
    expect(await works(second.tokens.access_token)).toBe(true);
    expect((await refresh(app, second.tokens.refresh_token)).status).toBe(200);
  });

  it('lets one of two concurrent rotations win and treats the other as reuse', async () => {
    const app = await oauthApp();
    const { tokens } = await tokensFor(app, '122');
    const results = await Promise.all([refresh(app, tokens.refresh_token), refresh(app, tokens.refresh_token)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 400]);
    const winner = results.find((r) => r.status === 200)!.body;
    // The loser saw reuse: the family is gone, the winner's tokens included.
    expect(await works(winner.access_token)).toBe(false);
  });

  it("refuses another client's refresh token, a wider scope, an expired one, and one whose authorization ended", async () => {
    const app = await oauthApp();
    const other = await oauthApp();
    const { tokens } = await tokensFor(app, '123');
    expectOAuthError(await refresh(other, tokens.refresh_token), 400, 'invalid_grant');
    expectOAuthError(await refresh(app, tokens.refresh_token, { scope: 'tweet.read dm.read' }), 400, 'invalid_scope');
    expect((await refresh(app, tokens.refresh_token, { scope: 'tweet.read' })).status).toBe(200);

    const later = await tokensFor(app, '124');
    await env.DB.prepare("UPDATE oauth_tokens SET expires_at = ? WHERE user_id = '124' AND kind = 'refresh'")
      .bind(Date.now() - 1)
      .run();
    expect(expectOAuthError(await refresh(app, later.tokens.refresh_token), 400, 'invalid_grant')).toContain('expired');

    const revoked = await tokensFor(app, '125');
    await platform('DELETE', `/internal/authorizations/${app.id}/125`);
    expectOAuthError(await refresh(app, revoked.tokens.refresh_token), 400, 'invalid_grant');
  });
});

describe('access tokens expire', () => {
  it('stops working at its expiry (OAUTH_ACCESS_TOKEN_SECONDS), while the refresh token still works', async () => {
    const app = await oauthApp();
    const { tokens } = await tokensFor(app, '130');
    await env.DB.prepare("UPDATE oauth_tokens SET expires_at = ? WHERE user_id = '130' AND kind = 'access'")
      .bind(Date.now() - 1)
      .run();
    expect(expectProblem(await call('GET', '/2/webhooks', { token: tokens.access_token }), 401).detail).toContain('expired');
    const res = await refresh(app, tokens.refresh_token);
    expect(await works(res.body.access_token)).toBe(true);
  });

  it('follows the setting', async () => {
    const app = await oauthApp();
    const { browser: b } = await tokensFor(app, '131');
    const { verifier, challenge } = await pkce();
    const { location } = await consent(b, app, { challenge });
    const { createApp } = await import('../src/app');
    const res = await createApp().fetch(
      new Request(`${ORIGIN}/2/oauth2/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${btoa(`${app.consumerKey}:${app.consumerSecret}`)}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: location.searchParams.get('code')!,
          redirect_uri: app.redirectUri,
          code_verifier: verifier,
        }),
      }),
      { ...env, OAUTH_ACCESS_TOKEN_SECONDS: '600' },
    );
    expect(((await res.json()) as { expires_in: number }).expires_in).toBe(600);
  });
});

describe('incremental consent and the one authorization record', () => {
  it('keeps the grant (and its tokens) when nothing new is asked, and widens it through a re-grant otherwise', async () => {
    const app = await oauthApp();
    const first = await tokensFor(app, '140', 'tweet.read offline.access');
    const same = await tokensFor(app, '140', 'tweet.read');
    expect(same.tokens.scope).toBe('offline.access tweet.read');
    expect(await works(first.tokens.access_token)).toBe(true);
    let access = await platform('GET', '/internal/users/140/access');
    expect(access.body.data.apps[0].authorizations).toHaveLength(1);

    const wider = await tokensFor(app, '140', 'dm.read');
    expect(wider.tokens.scope).toBe('dm.read offline.access tweet.read');
    // The re-grant superseded the old authorization: its tokens end with it, as a platform re-grant's do.
    expect(await works(first.tokens.access_token)).toBe(false);
    expect(await works(wider.tokens.access_token)).toBe(true);
    access = await platform('GET', '/internal/users/140/access');
    expect(access.body.data.apps[0].authorizations).toEqual([
      expect.objectContaining({ scope: 'offline.access tweet.read', end_reason: 'superseded' }),
      expect.objectContaining({ scope: 'dm.read offline.access tweet.read', ended_at: null }),
    ]);
  });

  it('lets a platform grant and the OAuth flow supersede each other', async () => {
    const app = await oauthApp();
    const { tokens } = await tokensFor(app, '141', 'tweet.read');
    const platformGrant = await platform('POST', '/internal/authorizations', { app_id: app.id, user_id: '141', scopes: ['like.read'] });
    expect(platformGrant.status).toBe(201);
    expect(await works(tokens.access_token)).toBe(false);
    expect(await works(platformGrant.body.data.access_token)).toBe(true);
  });
});

describe('POST /2/oauth2/revoke', () => {
  const revoke = (app: OAuthTestApp, token: string) =>
    exports.default.fetch(`${ORIGIN}/2/oauth2/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa(`${app.consumerKey}:${app.consumerSecret}`)}`,
      },
      body: new URLSearchParams({ token }),
    });

  it("ends the user's authorization of the app, exactly as a revoke by the user: tokens, subscriptions, a revoke notice", async () => {
    const fx = await appWithWebhook();
    const app = await registerClient(fx.app);
    const { tokens } = await tokensFor(app, '150', 'tweet.read offline.access');
    await call('POST', `/2/account_activity/webhooks/${fx.hook.id}/subscriptions/all`, { token: tokens.access_token, body: {} });
    const res = await revoke(app, tokens.refresh_token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ revoked: true });
    expect(await works(tokens.access_token)).toBe(false);
    const access = await platform('GET', '/internal/users/150/access');
    expect(access.body.data.apps[0]).toMatchObject({
      authorizations: [expect.objectContaining({ end_reason: 'revoked' })],
      subscriptions: [expect.objectContaining({ end_reason: 'authorization_revoked' })],
    });
    await expect
      .poll(() => fx.receivers.posts(fx.url).map((p) => JSON.parse(p.body)), { timeout: 10_000 })
      .toContainEqual(expect.objectContaining({ user_event: expect.objectContaining({ revoke: expect.anything() }) }));
  });

  it("answers 200 and changes nothing for an unknown token or another app's", async () => {
    const app = await oauthApp();
    const other = await oauthApp();
    const { tokens } = await tokensFor(app, '151');
    expect((await revoke(other, tokens.access_token)).status).toBe(200);
    expect((await revoke(app, 'aae_ut_unknown')).status).toBe(200);
    expect((await revoke(app, 'something-else')).status).toBe(200);
    expect(await works(tokens.access_token)).toBe(true);
  });
});

describe('housekeeping', () => {
  it('forgets codes and tokens a day after they expire, and nothing still usable', async () => {
    const app = await oauthApp();
    const { tokens } = await tokensFor(app, '160');
    const count = async () =>
      (await env.DB.prepare(
        "SELECT (SELECT COUNT(*) FROM oauth_codes WHERE user_id = '160') + (SELECT COUNT(*) FROM oauth_tokens WHERE user_id = '160') AS n",
      ).first<{ n: number }>())!.n;
    expect(await count()).toBe(3);
    await purgeExpiredOAuthRecords(env, Date.now());
    expect(await count()).toBe(3);
    expect(await works(tokens.access_token)).toBe(true);
    // The code expired after a minute and the access token after two hours: a day later both are gone.
    await purgeExpiredOAuthRecords(env, Date.now() + 2 * 3_600_000 + 24 * 3_600_000 + 1000);
    expect(await count()).toBe(1);
    expect((await refresh(app, tokens.refresh_token)).status).toBe(200);
  });
});
