import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { ingest, testUser as u, uniqueId } from './support/activities';
import { stageRelease } from './support/app-object';
import { appWithWebhook } from './support/fixtures';
import { call, platform } from './support/http';
import { browser, hiddenField, registerClient, signIn, tokensFor } from './support/oauth';

const wait = (fn: () => void | Promise<void>, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 100 });
const tweetBy = (author: string) => {
  const id = uniqueId('ca');
  return { id, type: 'tweet_create', tweet: { id: String(500000 + Number(id.split('-')[1])), text: id, author: u(author) } };
};
const decode = (html: string) =>
  html
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
/** A count cell of the "What it received" table. */
const cell = (html: string, testId: string) => html.match(new RegExp(`data-testid="${testId}"[^>]*>(\\d+)<`))?.[1];

/** A user who authorized an app through the consent page, subscribed with its token, and got one post delivered. */
async function connectedUser(userId: string) {
  const fx = await appWithWebhook({ app: { name: 'Digest Bot', description: 'Sends you a daily digest' } });
  const app = await registerClient(fx.app);
  const { browser: b, tokens } = await tokensFor(app, userId, 'tweet.read dm.read offline.access');
  const sub = await call('POST', `/2/account_activity/webhooks/${fx.hook.id}/subscriptions/all`, { token: tokens.access_token, body: {} });
  expect(sub.status).toBe(200);
  await ingest(tweetBy(userId));
  await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1));
  // The delivery's report is in, so the consumer run that carried it has nothing left to pull: a
  // release staged after this is not picked up by that run's chained claim.
  await wait(async () => {
    const access = (await platform('GET', `/internal/users/${userId}/access`)).body.data;
    expect(access.apps[0]?.received).toEqual([expect.objectContaining({ event_type: 'tweet_create', delivered: 1 })]);
  });
  return { ...fx, app, b, tokens };
}

describe('GET /i/connected_apps', () => {
  it('lists the app with its scopes, since when, and what it received from the ledger, possibly-received included', async () => {
    const { app, hook, b } = await connectedUser('600');
    // One more attempt handed out whose outcome never came back: the app may have it.
    const message = await stageRelease(app.id, { webhookId: hook.id, userId: '600' });
    await appObject(env, app.id).claim(app.id, [message], 1);

    const page = await b.get('/i/connected_apps');
    expect(page.status).toBe(200);
    const html = decode(page.text);
    expect(html).toContain('Digest Bot');
    expect(html).toContain('Sends you a daily digest');
    expect(html).toMatch(/Connected since <time datetime="[^"]+">/);
    expect(html).toContain('Read your direct messages');
    expect(html).toContain('See your posts');
    expect(cell(html, `received-${app.id}-tweet_create-delivered`)).toBe('1');
    expect(cell(html, `received-${app.id}-tweet_create-unknown`)).toBe('1');
    expect(cell(html, `received-${app.id}-tweet_create-non2xx`)).toBe('0');
    expect(html).toContain('Revoke access');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self';");
  });

  it('offers the full access report as a JSON download: the same report the platform reads', async () => {
    const { app, b } = await connectedUser('601');
    const res = await b.get('/i/connected_apps/report.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="access-report-601-\d{4}-\d{2}-\d{2}\.json"$/);
    const report = JSON.parse(res.text).data;
    const platformView = (await platform('GET', '/internal/users/601/access')).body.data;
    expect({ ...report, generated_at: undefined }).toEqual({ ...platformView, generated_at: undefined });
    expect(report.apps[0]).toMatchObject({
      app_id: app.id,
      received: [expect.objectContaining({ event_type: 'tweet_create', delivered: 1 })],
    });
  });

  it('shows a user only their own apps, and a user with none an empty page', async () => {
    await connectedUser('602');
    const stranger = browser();
    const page = await signIn(stranger, '603');
    expect(page.status).toBe(200);
    expect(page.text).toContain('No connected apps');
    expect(page.text).not.toContain('Digest Bot');
    expect(JSON.parse((await stranger.get('/i/connected_apps/report.json')).text).data.apps).toEqual([]);
  });

  it('needs a session: a browser without one is sent to sign in, then back here', async () => {
    const res = await browser().get('/i/connected_apps/report.json');
    expect(res.status).toBe(302);
    expect(res.location).toContain('/i/session/dev-login?');
  });
});

describe('Revoke access', () => {
  it('is the same revoke as the platform’s: the token stops, subscriptions end, undelivered events drop, the app is told, nothing more arrives', async () => {
    const { app, url, receivers, b, tokens } = await connectedUser('610');
    const page = await b.get('/i/connected_apps');
    const res = await b.post(`/i/connected_apps/${app.id}/revoke`, { csrf: hiddenField(page.text, 'csrf') });
    expect(res.status).toBe(303);
    expect(res.location).toBe(`/i/connected_apps?revoked=${app.id}`);

    expect((await call('GET', '/2/webhooks', { token: tokens.access_token })).status).toBe(401);
    const access = (await platform('GET', '/internal/users/610/access')).body.data.apps[0];
    expect(access.authorizations).toEqual([expect.objectContaining({ end_reason: 'revoked' })]);
    expect(access.subscriptions).toEqual([expect.objectContaining({ end_reason: 'authorization_revoked' })]);
    await wait(() => expect(receivers.posts(url).some((p) => JSON.parse(p.body).user_event?.revoke)).toBe(true));

    const delivered = receivers.posts(url).length;
    await ingest(tweetBy('610'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(receivers.posts(url)).toHaveLength(delivered);

    const after = decode((await b.get(res.location!)).text);
    expect(after).toContain('<strong>Digest Bot</strong> no longer has access');
    expect(after).toMatch(/Previously connected \(1\)/);
    expect(after).toMatch(/Access ended <time/);
    expect(after).not.toContain('Yes, revoke access');
    // What it received before stays on the record.
    expect(cell(after, `received-${app.id}-tweet_create-delivered`)).toBe('1');
  });

  it('is refused without the CSRF token, from another origin, and without a session; it only ever touches the signed-in user', async () => {
    const { app, b, tokens } = await connectedUser('611');
    const csrf = hiddenField((await b.get('/i/connected_apps')).text, 'csrf');
    expect((await b.post(`/i/connected_apps/${app.id}/revoke`, { csrf: 'nope' })).status).toBe(403);
    expect((await b.post(`/i/connected_apps/${app.id}/revoke`, { csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await browser().post(`/i/connected_apps/${app.id}/revoke`, { csrf })).status).toBe(401);
    expect((await b.post('/i/connected_apps/not-an-id/revoke', { csrf })).status).toBe(400);
    // Another user revoking the same app revokes only their own (absent) authorization.
    const other = browser();
    const otherCsrf = hiddenField((await signIn(other, '612')).text, 'csrf');
    expect((await other.post(`/i/connected_apps/${app.id}/revoke`, { csrf: otherCsrf })).status).toBe(303);
    expect((await call('GET', '/2/webhooks', { token: tokens.access_token })).status).toBe(200);
  });
});
