import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { activeApp, grantUser, registerWebhook, type TestApp } from './support/apps';
import { call, expectProblem, platform } from './support/http';
import { installReceivers, receiverUrl } from './support/receivers';

let receivers: ReturnType<typeof installReceivers>;
let app: TestApp;
let webhookId: string;
const URL_A = receiverUrl();
const subPath = (id: string) => `/2/account_activity/webhooks/${id}/subscriptions/all`;

beforeEach(async () => {
  receivers = installReceivers();
  app = await activeApp();
  receivers.set(URL_A, app.consumerSecret);
  webhookId = (await registerWebhook(app, URL_A)).id;
});

describe('subscribe and check (user context)', () => {
  it('subscribes the token user and reports it', async () => {
    const token = await grantUser(app.id, '1001');
    expect((await call('GET', subPath(webhookId), { token })).body).toEqual({ data: { subscribed: false } });
    const res = await call('POST', subPath(webhookId), { token, body: {} });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { subscribed: true } });
    expect((await call('GET', subPath(webhookId), { token })).body).toEqual({ data: { subscribed: true } });
  });

  it('accepts an empty body with a JSON content type, as X clients send', async () => {
    const token = await grantUser(app.id, '1002');
    const res = await call('POST', subPath(webhookId), { token, body: '', headers: { 'content-type': 'application/json' } });
    expect(res.body).toEqual({ data: { subscribed: true } });
  });

  it('rejects a duplicate', async () => {
    const token = await grantUser(app.id, '1003');
    await call('POST', subPath(webhookId), { token, body: {} });
    expectProblem(await call('POST', subPath(webhookId), { token, body: {} }), 409, 'DuplicateSubscriptionFailed');
  });

  it('needs a user token, not an app-only token', async () => {
    expectProblem(await call('POST', subPath(webhookId), { token: app.bearer, body: {} }), 403);
    expectProblem(await call('GET', subPath(webhookId), { token: app.bearer }), 403);
  });

  it('refuses an invalid webhook', async () => {
    receivers.behave(URL_A, 'wrong-token');
    await call('PUT', `/2/webhooks/${webhookId}`, { token: app.bearer });
    const token = await grantUser(app.id, '1004');
    expectProblem(await call('POST', subPath(webhookId), { token, body: {} }), 400, 'CrcValidationFailed');
  });

  it("refuses another app's webhook with 404", async () => {
    const other = await activeApp();
    const token = await grantUser(other.id, '1005');
    expectProblem(await call('POST', subPath(webhookId), { token, body: {} }), 404, 'WebhookIdInvalid');
    expectProblem(await call('GET', subPath(webhookId), { token }), 404, 'WebhookIdInvalid');
  });

  it('stops at the provisioned subscription count', async () => {
    const small = await activeApp({ provisioned_subscriptions: 1 });
    const url = receiverUrl();
    receivers.set(url, small.consumerSecret);
    const w = await registerWebhook(small, url);
    await call('POST', subPath(w.id), { token: await grantUser(small.id, '1'), body: {} });
    const res = await call('POST', subPath(w.id), { token: await grantUser(small.id, '2'), body: {} });
    expectProblem(res, 403, 'SubscriptionLimitExceeded');
  });

  it('a revoked user token no longer works', async () => {
    const token = await grantUser(app.id, '1006');
    await platform('DELETE', `/internal/authorizations/${app.id}/1006`);
    expectProblem(await call('POST', subPath(webhookId), { token, body: {} }), 401);
  });

  it('rejects a non-empty body that is not JSON', async () => {
    const token = await grantUser(app.id, '1007');
    expectProblem(await call('POST', subPath(webhookId), { token, body: '{', headers: { 'content-type': 'application/json' } }), 400);
    expectProblem(await call('POST', subPath(webhookId), { token, body: 'x=1', headers: { 'content-type': 'text/plain' } }), 415);
    expect((await call('GET', subPath(webhookId), { token })).body.data.subscribed).toBe(false);
  });
});

describe('list, delete, count (app context)', () => {
  it('lists subscribed users in X shape', async () => {
    for (const u of ['2001', '2002']) await call('POST', subPath(webhookId), { token: await grantUser(app.id, u), body: {} });
    const res = await call('GET', `${subPath(webhookId)}/list`, { token: app.bearer });
    expect(res.body.data).toEqual({
      application_id: app.id,
      webhook_id: webhookId,
      webhook_url: URL_A,
      subscriptions: [{ user_id: '2001' }, { user_id: '2002' }],
    });
  });

  it('pages through a long list', async () => {
    for (const u of ['1', '2', '3']) await call('POST', subPath(webhookId), { token: await grantUser(app.id, u), body: {} });
    const first = await call('GET', `${subPath(webhookId)}/list?max_results=2`, { token: app.bearer });
    expect(first.body.data.subscriptions).toEqual([{ user_id: '1' }, { user_id: '2' }]);
    const next = first.body.meta.next_token;
    const second = await call('GET', `${subPath(webhookId)}/list?max_results=2&pagination_token=${next}`, { token: app.bearer });
    expect(second.body.data.subscriptions).toEqual([{ user_id: '3' }]);
    expect(second.body.meta.next_token).toBeUndefined();
    expectProblem(await call('GET', `${subPath(webhookId)}/list?max_results=0`, { token: app.bearer }), 400, 'QueryParamInvalid');
  });

  it('deletes a subscription, keeping it as history', async () => {
    await call('POST', subPath(webhookId), { token: await grantUser(app.id, '3001'), body: {} });
    const path = `/2/account_activity/webhooks/${webhookId}/subscriptions/3001/all`;
    const res = await call('DELETE', path, { token: app.bearer, body: '', headers: { 'content-type': 'application/json' } });
    expect(res.body).toEqual({ data: { subscribed: false } });
    expectProblem(await call('DELETE', path, { token: app.bearer }), 404, 'SubscriptionNotFound');
    const rows = await env.DB.prepare('SELECT end_reason FROM subscriptions WHERE user_id = ? AND app_id = ?').bind('3001', app.id).all();
    expect(rows.results).toEqual([{ end_reason: 'unsubscribed' }]);
  });

  it("cannot delete another app's subscription", async () => {
    await call('POST', subPath(webhookId), { token: await grantUser(app.id, '3002'), body: {} });
    const other = await activeApp();
    const path = `/2/account_activity/webhooks/${webhookId}/subscriptions/3002/all`;
    expectProblem(await call('DELETE', path, { token: other.bearer }), 404);
    const list = await call('GET', `${subPath(webhookId)}/list`, { token: app.bearer });
    expect(list.body.data.subscriptions).toContainEqual({ user_id: '3002' });
  });

  it('counts subscriptions as strings, with DM-capable ones apart', async () => {
    await call('POST', subPath(webhookId), { token: await grantUser(app.id, '4001', ['tweet.read', 'dm.read']), body: {} });
    await call('POST', subPath(webhookId), { token: await grantUser(app.id, '4002', ['tweet.read']), body: {} });
    const res = await call('GET', '/2/account_activity/subscriptions/count', { token: app.bearer });
    expect(res.body).toEqual({
      data: {
        account_name: 'test app',
        provisioned_count: '500',
        subscriptions_count_all: '2',
        subscriptions_count_direct_messages: '1',
      },
    });
  });
});

describe('authorizations (platform)', () => {
  it('grants with X scope formatting', async () => {
    const res = await platform('POST', '/internal/authorizations', {
      app_id: app.id,
      user_id: '5001',
      scopes: ['users.read', 'tweet.read'],
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ token_type: 'bearer', scope: 'tweet.read users.read', app_id: app.id, user_id: '5001' });
    expect(res.body.data.access_token).toMatch(/^aae_ut_/);
  });

  it('rejects unknown scopes, bad ids and unknown apps, storing nothing', async () => {
    const count = async () => (await env.DB.prepare('SELECT count(*) AS n FROM authorizations').first<{ n: number }>())!.n;
    const before = await count();
    expectProblem(await platform('POST', '/internal/authorizations', { app_id: app.id, user_id: '1', scopes: ['root'] }), 400);
    expectProblem(await platform('POST', '/internal/authorizations', { app_id: app.id, user_id: 'bob', scopes: ['tweet.read'] }), 400);
    expectProblem(await platform('POST', '/internal/authorizations', { app_id: app.id, user_id: '1', scopes: [] }), 400);
    expectProblem(await platform('POST', '/internal/authorizations', { app_id: '999', user_id: '1', scopes: ['tweet.read'] }), 404);
    expect(await count()).toBe(before);
  });

  it('a re-grant supersedes the previous token and keeps the history', async () => {
    const first = await grantUser(app.id, '5002');
    const second = await grantUser(app.id, '5002', ['tweet.read']);
    expectProblem(await call('GET', subPath(webhookId), { token: first }), 401);
    expect((await call('GET', subPath(webhookId), { token: second })).status).toBe(200);
    const rows = await env.DB.prepare('SELECT end_reason FROM authorizations WHERE user_id = ? ORDER BY created_at').bind('5002').all();
    expect(rows.results).toEqual([{ end_reason: 'superseded' }, { end_reason: null }]);
  });

  it('revoke ends the authorization and the user subscriptions in that app only', async () => {
    const other = await activeApp();
    const url = receiverUrl();
    receivers.set(url, other.consumerSecret);
    const otherHook = await registerWebhook(other, url);
    await call('POST', subPath(webhookId), { token: await grantUser(app.id, '5003'), body: {} });
    await call('POST', subPath(otherHook.id), { token: await grantUser(other.id, '5003'), body: {} });

    const res = await platform('DELETE', `/internal/authorizations/${app.id}/5003`);
    expect(res.body).toEqual({ data: { revoked: true } });
    expect((await call('GET', `${subPath(webhookId)}/list`, { token: app.bearer })).body.data.subscriptions).toEqual([]);
    expect((await call('GET', `${subPath(otherHook.id)}/list`, { token: other.bearer })).body.data.subscriptions).toEqual([
      { user_id: '5003' },
    ]);
    expectProblem(await platform('DELETE', `/internal/authorizations/${app.id}/5003`), 404);
    const sub = await env.DB.prepare('SELECT end_reason FROM subscriptions WHERE user_id = ? AND app_id = ?').bind('5003', app.id).first();
    expect(sub).toEqual({ end_reason: 'authorization_revoked' });
  });
});
