import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { objectRows } from './support/app-object';
import { activeApp, createApp } from './support/apps';
import { appWithWebhook } from './support/fixtures';
import { call, platform } from './support/http';
import { browser, hiddenField, signIn } from './support/oauth';
import { pageText, portalSignIn, signedInDeveloper } from './support/pages';
import { receiverUrl } from './support/receivers';
import { signerOf } from './support/signatures';

const wait = (fn: () => void | Promise<void>, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 100 });

const webhookUrls = async (bearer: string) =>
  ((await call('GET', '/2/webhooks', { token: bearer })).body.data as { id: string; url: string }[]).map((w) => w.url);

describe('portal sign-in', () => {
  it('signs a developer in with the consumer key and secret: a Strict, HttpOnly session cookie and a strict CSP', async () => {
    const app = await activeApp({ name: 'Cookie Check' });
    const b = browser();
    const form = await b.get('/portal/sign-in');
    expect(form.status).toBe(200);
    const csp = form.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('script-src');
    const res = await b.post('/portal/sign-in', {
      csrf: hiddenField(form.text, 'csrf'),
      consumer_key: app.consumerKey,
      consumer_secret: app.consumerSecret,
    });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/portal');
    const session = res.headers.getAll('set-cookie').find((c) => c.startsWith('aae_portal='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    const home = await b.get('/portal');
    expect(home.status).toBe(200);
    expect(pageText(home.text)).toContain('Cookie Check');
    expect(home.text).not.toContain(app.consumerSecret);
  });

  it('refuses a wrong secret, an unknown key and a secret of another app, and sets no session', async () => {
    const app = await activeApp({ name: 'Guarded' });
    const other = await activeApp({ name: 'Other' });
    for (const [key, secret] of [
      [app.consumerKey, `${app.consumerSecret}x`],
      ['NoSuchKeyAtAllxxxxxxxxxxx', app.consumerSecret],
      [app.consumerKey, other.consumerSecret],
    ]) {
      const b = browser();
      const form = await b.get('/portal/sign-in');
      const res = await b.post('/portal/sign-in', { csrf: hiddenField(form.text, 'csrf'), consumer_key: key, consumer_secret: secret });
      expect(res.status).toBe(401);
      expect(pageText(res.text)).toContain('do not match an app');
      expect(res.text).not.toContain(secret);
      expect(b.jar.has('aae_portal')).toBe(false);
      expect((await b.get('/portal')).location).toBe('/portal/sign-in');
    }
  });

  it('refuses a sign-in without the form token or with one from another browser (login CSRF)', async () => {
    const app = await activeApp();
    const attacker = browser();
    const attackerForm = await attacker.get('/portal/sign-in');
    const victim = browser();
    const creds = { consumer_key: app.consumerKey, consumer_secret: app.consumerSecret };
    expect((await victim.post('/portal/sign-in', creds)).status).toBe(403);
    const foreign = await victim.post('/portal/sign-in', { ...creds, csrf: hiddenField(attackerForm.text, 'csrf') });
    expect(foreign.status).toBe(403);
    expect(victim.jar.has('aae_portal')).toBe(false);
  });

  it('slows down guessing: past 10 failures an app refuses even its right secret, and an address refuses every app', async () => {
    const target = await activeApp({ name: 'Guessed At' });
    const bystander = await activeApp({ name: 'Bystander' });
    const attempt = async (app: { consumerKey: string }, secret: string, address: string) => {
      const b = browser();
      const form = await b.get('/portal/sign-in');
      const from = { 'cf-connecting-ip': address };
      return b.post(
        '/portal/sign-in',
        { csrf: hiddenField(form.text, 'csrf'), consumer_key: app.consumerKey, consumer_secret: secret },
        from,
      );
    };
    for (let i = 0; i < 10; i++) expect((await attempt(target, `aae_cs_guess${i}`, '203.0.113.9')).status).toBe(401);

    const byApp = await attempt(target, target.consumerSecret, '198.51.100.7');
    expect(byApp.status).toBe(429);
    expect(Number(byApp.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(pageText(byApp.text)).toMatch(/Too many failed sign-ins\. Try again in \d+ minutes?\./);
    expect(hiddenField(byApp.text, 'csrf')).not.toBe(''); // the form again, to try later
    expect(byApp.headers.getAll('set-cookie').some((c) => c.startsWith('aae_portal='))).toBe(false);
    expect((await attempt(bystander, bystander.consumerSecret, '203.0.113.9')).status).toBe(429);
    // Anyone else, anywhere else, is not held up.
    expect((await attempt(bystander, bystander.consumerSecret, '198.51.100.7')).status).toBe(303);
  });

  it('ends every session when the consumer secret is rotated', async () => {
    const { app, b } = await signedInDeveloper();
    expect((await b.get('/portal')).status).toBe(200);
    const rotated = await platform('POST', `/internal/apps/${app.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const after = await b.get('/portal');
    expect(after.status).toBe(303);
    expect(after.location).toBe('/portal/sign-in');
  });

  it('signs out: the cookie is cleared and the old value no longer opens a page', async () => {
    const { b, csrf } = await signedInDeveloper();
    const out = await b.post('/portal/sign-out', { csrf });
    expect(out.status).toBe(200);
    expect(b.jar.has('aae_portal')).toBe(false);
    expect((await b.get('/portal')).location).toBe('/portal/sign-in');
  });
});

describe('portal sessions are their own', () => {
  it("a user's session does not open the portal, and a portal session does not open a user's pages", async () => {
    const { b } = await signedInDeveloper();
    const portalCookie = b.jar.get('aae_portal')!;
    const user = browser();
    await signIn(user, '4401');
    const userCookie = user.jar.get('aae_session')!;

    const asDeveloper = browser();
    asDeveloper.jar.set('aae_portal', userCookie);
    expect((await asDeveloper.get('/portal')).location).toBe('/portal/sign-in');

    const asUser = browser();
    asUser.jar.set('aae_session', portalCookie);
    const page = await asUser.get('/i/connected_apps');
    expect(page.status).toBe(302);
    expect(page.location).toMatch(/sign-in|login/);
  });
});

describe('portal webhooks', () => {
  it('adds a webhook after its CRC passes and shows its signing secret once; it signs the deliveries', async () => {
    const { b, csrf, app, receivers } = await signedInDeveloper();
    const url = receiverUrl('/added');
    receivers.set(url, app.consumerSecret);
    const added = await b.post('/portal/webhooks', { csrf, url });
    expect(added.status).toBe(200);
    expect(pageText(added.text)).toContain('CRC passed');
    const secret = added.text.match(/data-testid="signing-secret">([^<]+)</)![1];
    expect(secret).toMatch(/^whsec_/);
    const id = (await call('GET', '/2/webhooks', { token: app.bearer })).body.data.find((w: { url: string }) => w.url === url).id;

    for (const path of ['/portal', `/portal/webhooks/${id}`, `/portal/webhooks/${id}/deliveries`]) {
      const page = await b.get(path);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(secret);
      expect(page.text).not.toContain(app.consumerSecret);
    }

    const test = await b.post(`/portal/webhooks/${id}/test`, { csrf });
    expect(test.status).toBe(303);
    await wait(() => expect(receivers.posts(url)).toHaveLength(1));
    const [post] = receivers.posts(url);
    expect(await signerOf(post, [{ name: 'added', consumerSecret: app.consumerSecret, signingSecret: secret }])).toBe('added');
  });

  it('shows why a CRC failed and adds nothing', async () => {
    const { b, csrf, app, receivers } = await signedInDeveloper();
    const url = receiverUrl('/wrong');
    receivers.set(url, app.consumerSecret, 'wrong-token');
    const res = await b.post('/portal/webhooks', { csrf, url });
    expect(res.status).toBe(400);
    expect(pageText(res.text)).toMatch(/CRC/);
    expect(res.text).toContain(url);
    expect(await webhookUrls(app.bearer)).not.toContain(url);
  });

  it('refuses a form without or with a wrong CSRF token, or from another origin, and changes nothing', async () => {
    const { b, csrf, app, hook, receivers } = await signedInDeveloper();
    const url = receiverUrl('/csrf');
    receivers.set(url, app.consumerSecret);
    const other = browser();
    await portalSignIn(other, await activeApp());
    const othersCsrf = hiddenField((await other.get('/portal')).text, 'csrf');

    expect((await b.post('/portal/webhooks', { url })).status).toBe(403);
    expect((await b.post('/portal/webhooks', { url, csrf: 'forged' })).status).toBe(403);
    expect((await b.post('/portal/webhooks', { url, csrf: othersCsrf })).status).toBe(403);
    expect((await b.post('/portal/webhooks', { url, csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await b.post(`/portal/webhooks/${hook.id}/delete`, { csrf: 'forged' })).status).toBe(403);
    expect((await b.post(`/portal/webhooks/${hook.id}/rotate`, {})).status).toBe(403);
    expect((await b.post(`/portal/webhooks/${hook.id}/test`, { csrf: othersCsrf })).status).toBe(403);

    expect(await webhookUrls(app.bearer)).toEqual([hook.url]);
    expect(receivers.seen.filter((r) => r.url.pathname === '/csrf')).toEqual([]);
    expect(receivers.posts(hook.url)).toEqual([]);
  });

  it("answers 404 for another app's webhook id and attempt, on every page and action, and changes nothing of theirs", async () => {
    const { b, csrf, hook } = await signedInDeveloper();
    const other = await appWithWebhook({ app: { name: 'Someone Else' } });
    const theirs = other.hook.id;
    const sent = await appObject(env, other.app.id).sendTestEvent(other.app.id, theirs);
    expect(sent.ok).toBe(true);
    await wait(() => expect(other.receivers.posts(other.url)).toHaveLength(1));
    let theirAttempt = { id: 0 };
    await wait(async () => {
      [theirAttempt] = await objectRows<{ id: number }>(other.app.id, 'SELECT id FROM ledger');
      expect(theirAttempt).toBeDefined();
    });
    for (const path of [
      `/portal/webhooks/${theirs}`,
      `/portal/webhooks/${theirs}/deliveries`,
      `/portal/webhooks/${theirs}/deliveries/${theirAttempt.id}`,
      `/portal/webhooks/${hook.id}/deliveries/${theirAttempt.id}`,
      `/portal/webhooks/${theirs}/subscriptions`,
    ]) {
      const page = await b.get(path);
      expect(page.status, path).toBe(404);
      expect(page.text).not.toContain(other.url);
    }
    const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    const actions: [string, Record<string, string>][] = [
      ['delete', {}],
      ['rotate', {}],
      ['validate', {}],
      ['test', {}],
      ['replay', { from: minute(Date.now() - 3_600_000), to: minute(Date.now()) }],
    ];
    for (const [action, fields] of actions) {
      expect((await b.post(`/portal/webhooks/${theirs}/${action}`, { csrf, ...fields })).status, action).toBe(404);
    }
    expect(await webhookUrls(other.app.bearer)).toEqual([other.url]);
    expect(other.receivers.posts(other.url)).toHaveLength(1);
    // A malformed id is a 400 page naming it.
    const malformed = await b.get('/portal/webhooks/abc/deliveries');
    expect(malformed.status).toBe(400);
    expect(pageText(malformed.text)).toContain('webhook_id: must be a numeric id');
    expect(other.receivers.seen.filter((r) => r.method === 'GET' && r.url.href.startsWith(other.url))).toHaveLength(1); // its own CRC only
  });

  it('re-validates: a failed CRC makes the webhook invalid and says why, a test event is then refused, a passing CRC makes it valid again', async () => {
    const { b, csrf, hook, url, receivers, app } = await signedInDeveloper();
    receivers.behave(url, 'wrong-token');
    const failed = await b.post(`/portal/webhooks/${hook.id}/validate`, { csrf });
    expect(failed.status).toBe(303);
    expect(failed.location).toBe(`/portal/webhooks/${hook.id}?done=crc-failed`);
    const page = await b.get(failed.location!);
    expect(pageText(page.text)).toContain('CRC failed: the webhook is invalid');
    expect(page.text).toMatch(/data-testid="last-crc">failed <time/);
    expect((await call('GET', '/2/webhooks', { token: app.bearer })).body.data[0].valid).toBe(false);

    const refused = await b.post(`/portal/webhooks/${hook.id}/test`, { csrf });
    expect(refused.status).toBe(400);
    expect(pageText(refused.text)).toContain('re-validate it');
    expect(receivers.posts(url)).toEqual([]);

    receivers.behave(url, 'ok');
    const passed = await b.post(`/portal/webhooks/${hook.id}/validate`, { csrf });
    expect(passed.location).toBe(`/portal/webhooks/${hook.id}?done=validated`);
    expect((await call('GET', '/2/webhooks', { token: app.bearer })).body.data[0].valid).toBe(true);
  });

  it('rotates a signing secret (shown once) and deletes a webhook', async () => {
    const { b, csrf, hook, app } = await signedInDeveloper();
    const rotated = await b.post(`/portal/webhooks/${hook.id}/rotate`, { csrf });
    expect(rotated.status).toBe(200);
    const secret = rotated.text.match(/data-testid="signing-secret">([^<]+)</)![1];
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(hook.signing_secret);
    expect((await b.get(`/portal/webhooks/${hook.id}`)).text).not.toContain(secret);

    const deleted = await b.post(`/portal/webhooks/${hook.id}/delete`, { csrf });
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe('/portal?done=deleted');
    expect(await webhookUrls(app.bearer)).toEqual([]);
    expect((await b.get(`/portal/webhooks/${hook.id}`)).status).toBe(404);
  });

  it('lets a pending app look but not act', async () => {
    const app = await createApp({ name: 'Waiting' });
    const b = browser();
    const home = await portalSignIn(b, app);
    expect(pageText(home.text)).toContain("waiting for the operator's review");
    const res = await b.post('/portal/webhooks', { csrf: hiddenField(home.text, 'csrf'), url: receiverUrl() });
    expect(res.status).toBe(403);
  });
});
