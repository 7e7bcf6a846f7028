import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp, issueBearer } from './support/apps';
import { basic, call, expectProblem, platform } from './support/http';

const post = (path: string, authorization: string | undefined, body: string, contentType = 'application/x-www-form-urlencoded') =>
  exports.default.fetch(`http://127.0.0.1:8787${path}`, {
    method: 'POST',
    headers: { ...(authorization ? { authorization } : {}), 'content-type': contentType },
    body,
  });

describe('POST /oauth2/token', () => {
  it('issues an app-only bearer token in X shape', async () => {
    const app = await createApp();
    await platform('POST', `/internal/apps/${app.id}/approve`);
    const res = await post('/oauth2/token', basic(app.consumerKey, app.consumerSecret), 'grant_type=client_credentials');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token_type: string; access_token: string };
    expect(body.token_type).toBe('bearer');
    expect(body.access_token).toMatch(/^aae_at_[A-Za-z0-9_-]{43}$/);
    expect((await call('GET', '/2/webhooks', { token: body.access_token })).status).toBe(200);
  });

  it('rejects a wrong secret, an unknown key and missing credentials', async () => {
    const app = await createApp();
    await platform('POST', `/internal/apps/${app.id}/approve`);
    for (const auth of [basic(app.consumerKey, 'aae_cs_wrong'), basic('nope', app.consumerSecret), undefined, 'Basic !!!']) {
      const res = await post('/oauth2/token', auth, 'grant_type=client_credentials');
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('rejects other grant types', async () => {
    const app = await createApp();
    await platform('POST', `/internal/apps/${app.id}/approve`);
    const res = await post('/oauth2/token', basic(app.consumerKey, app.consumerSecret), 'grant_type=password');
    expect(res.status).toBe(400);
  });

  it('refuses apps that are not active', async () => {
    const app = await createApp();
    const res = await post('/oauth2/token', basic(app.consumerKey, app.consumerSecret), 'grant_type=client_credentials');
    expect(res.status).toBe(403);
  });
});

describe('POST /oauth2/invalidate_token', () => {
  it('stops the token working', async () => {
    const app = await createApp();
    await platform('POST', `/internal/apps/${app.id}/approve`);
    const token = await issueBearer(app);
    const other = await issueBearer(app);
    const res = await post('/oauth2/invalidate_token', basic(app.consumerKey, app.consumerSecret), `access_token=${token}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ access_token: token });
    expectProblem(await call('GET', '/2/webhooks', { token }), 401);
    expect((await call('GET', '/2/webhooks', { token: other })).status).toBe(200);
  });

  it("cannot invalidate another app's token", async () => {
    const a = await createApp();
    const b = await createApp();
    await platform('POST', `/internal/apps/${a.id}/approve`);
    await platform('POST', `/internal/apps/${b.id}/approve`);
    const tokenOfB = await issueBearer(b);
    const res = await post('/oauth2/invalidate_token', basic(a.consumerKey, a.consumerSecret), `access_token=${tokenOfB}`);
    expect(res.status).toBe(404);
    expect((await call('GET', '/2/webhooks', { token: tokenOfB })).status).toBe(200);
  });
});
