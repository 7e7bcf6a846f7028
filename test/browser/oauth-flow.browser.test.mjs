// In a real browser: a developer's app sends the user through OAuth 2.0 (a standard client library,
// PKCE), the user signs in with the development login, reads the consent page and authorizes; the app
// exchanges the code, refreshes, subscribes the user and receives their event; the user opens
// Connected apps, sees what the app received, revokes, and nothing more arrives. Then each way it
// must refuse. The service runs as `npm run dev` runs it; screenshots go to .test-results/screenshots/.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { client } from '../../scripts/lib/client.mjs';
import { startReceiver } from '../../scripts/lib/receiver.mjs';
import { sleep, startDevService } from '../../scripts/lib/service.mjs';
import { launchChromium, screenshot } from './chromium.mjs';
import { startClientApp } from './client-app.mjs';

const USER = '2244994945';
const SCOPE = 'tweet.read users.read dm.read offline.access';
const stateDir = mkdtempSync(join(tmpdir(), 'aae-browser-'));
/** @type {Awaited<ReturnType<typeof startDevService>>} */
let service;
/** @type {ReturnType<typeof client>} */
let api;
/** @type {Awaited<ReturnType<typeof startReceiver>>} */
let receiver;
/** @type {Awaited<ReturnType<typeof startClientApp>>} */
let digest;
/** @type {import('../../scripts/lib/client.mjs').App} */
let app;
/** @type {{ id: string }} */
let hook;
const cleanups = /** @type {(() => Promise<unknown>)[]} */ ([]);

before(async () => {
  // Fails (never skips) without the browser, naming the install command.
  const probe = await launchChromium();
  await probe.close();
  service = await startDevService({ stateDir });
  api = client(service.baseUrl, service.platformToken);
  receiver = await startReceiver();
  app = await api.activeApp('Acme Digest', { description: 'Sends you a morning digest of your mentions and messages.' });
  receiver.trustApp(app.name, app.consumerSecret);
  const registered = await api.registerWebhook(app, receiver.url('/webhooks/digest'));
  receiver.trustWebhook(registered.id, app.name, registered.signing_secret);
  hook = registered;
  digest = await startClientApp({ baseUrl: service.baseUrl, clientId: app.consumerKey, clientSecret: app.consumerSecret, scope: SCOPE });
  const client_ = await api.platform('PUT', `/internal/apps/${app.id}/oauth2-client`, {
    client_type: 'confidential',
    redirect_uris: [digest.redirectUri],
  });
  assert.equal(client_.status, 200, client_.text);
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await digest?.close();
  await receiver?.close();
  await service?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** A fresh browser for one test, closed after the file. */
async function freshBrowser() {
  const chromium = await launchChromium();
  cleanups.push(chromium.close);
  return chromium.page;
}

/** From the app's "Sign in" to the consent page, through the development login. @param {import('playwright-core').Page} page */
async function signInThroughApp(page, { userId = USER, hold = false } = {}) {
  await page.goto(`${digest.origin}/login${hold ? '?hold=1' : ''}`);
  await page.waitForURL(/\/i\/session\/dev-login\?/);
  await page.getByLabel('User id').fill(userId);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/\/i\/oauth2\/authorize\?/);
}

/** What a person reads in an element. @param {import('playwright-core').Locator} locator */
const text = async (locator) => (await locator.textContent()) ?? '';

const tweet = (/** @type {string} */ id) => ({
  id,
  type: 'tweet_create',
  created_at: Date.now(),
  tweet: { id: String(Date.now()), text: `hello from ${id}`, author: { id: USER, name: 'Jack', screen_name: 'jack' } },
});
const tweetsFor = (/** @type {string} */ userId) =>
  receiver.deliveries.filter((d) => d.app === app.name && d.json?.for_user_id === userId && d.json.tweet_create_events);

async function waitFor(/** @type {() => boolean} */ predicate, /** @type {string} */ what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('a user authorizes an app, the app receives their event, the user sees it in Connected apps and revokes', {
  timeout: 180_000,
}, async () => {
  const page = await freshBrowser();
  await page.goto(`${digest.origin}/login`);
  await page.waitForURL(/\/i\/session\/dev-login\?/);
  await screenshot(page, '01-development-sign-in', { phone: true });
  await page.getByLabel('User id').fill(USER);
  await page.getByRole('button', { name: 'Continue' }).click();

  // The consent page: the app, what each scope exposes, direct messages called out.
  await page.waitForURL(/\/i\/oauth2\/authorize\?/);
  assert.equal(await page.getByTestId('app-name').textContent(), 'Acme Digest');
  const body = (await page.locator('main').textContent()) ?? '';
  for (const text of ['Sends you a morning digest', 'Read your direct messages', 'See your posts', 'See your profile', 'Stay connected']) {
    assert.ok(body.includes(text), `consent page shows "${text}"`);
  }
  assert.match(body, /This app asks for your direct messages/);
  assert.match(body, /you will be sent to 127\.0\.0\.1:\d+/);
  await screenshot(page, '02-consent', { phone: true });
  await page.getByRole('button', { name: 'Authorize app' }).click();

  // The app exchanged the code (PKCE) and holds tokens.
  await page.waitForURL(`${digest.origin}/callback?**`);
  assert.equal(await page.locator('h1').textContent(), 'Connected');
  await screenshot(page, '03-app-connected');
  const first = digest.results.at(-1);
  assert.ok(first?.kind === 'tokens');
  assert.equal(first.tokens.scope, 'dm.read offline.access tweet.read users.read');
  assert.equal(first.tokens.expires_in, 7200);

  // It refreshes (rotation), then subscribes the user with the new access token.
  const refreshed = await digest.refresh(/** @type {string} */ (first.tokens.refresh_token));
  assert.notEqual(refreshed.refresh_token, first.tokens.refresh_token);
  const sub = await api.call('POST', `/2/account_activity/webhooks/${hook.id}/subscriptions/all`, {
    token: refreshed.access_token,
    body: {},
  });
  assert.equal(sub.status, 200, sub.text);

  await api.ingest([tweet('browser-1')]);
  await waitFor(() => tweetsFor(USER).length === 1, 'the event at the receiver');

  // Connected apps: the app, since when, what it can see, what it received.
  await page.goto(`${service.baseUrl}/i/connected_apps`);
  const card = page.getByTestId(`app-${app.id}`);
  await card.waitFor();
  assert.match(await text(card), /Acme Digest[\s\S]*Connected since/);
  assert.equal(await page.getByTestId(`received-${app.id}-tweet_create-delivered`).textContent(), '1');
  assert.equal(await page.getByTestId(`received-${app.id}-tweet_create-unknown`).textContent(), '0');
  await screenshot(page, '04-connected-apps', { phone: true });

  // The report download is the full JSON access report.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download access report' }).click()]);
  const report = JSON.parse(await streamText(await download.createReadStream()));
  assert.equal(report.data.user_id, USER);
  assert.deepEqual(
    report.data.apps.map((/** @type {any} */ a) => [a.app_id, a.received[0]?.delivered]),
    [[app.id, 1]],
  );

  // Revoke: confirm, then the app is listed as no longer connected.
  await card.getByText('Revoke access', { exact: true }).click();
  await screenshot(page, '05-revoke-confirm');
  await card.getByRole('button', { name: 'Yes, revoke access' }).click();
  await page.waitForURL(/\/i\/connected_apps\?revoked=/);
  assert.match(await text(page.getByRole('status')), /Acme Digest no longer has access/);
  assert.match(await text(page.locator('main')), /Previously connected \(1\)/);
  await screenshot(page, '06-revoked', { phone: true });

  // Nothing more is delivered, and the tokens are dead.
  await waitFor(() => receiver.deliveries.some((d) => d.json?.user_event?.revoke), 'the revoke notice');
  await api.ingest([tweet('browser-2')]);
  await sleep(3000);
  assert.equal(tweetsFor(USER).length, 1, 'no event after the revoke');
  assert.equal((await api.call('GET', '/2/webhooks', { token: refreshed.access_token })).status, 401);
  await assert.rejects(digest.refresh(/** @type {string} */ (refreshed.refresh_token)), (err) => err instanceof oauth.ResponseBodyError);
  assert.deepEqual(receiver.problems, []);
});

test('Cancel sends the app error=access_denied and authorizes nothing', { timeout: 90_000 }, async () => {
  const page = await freshBrowser();
  await signInThroughApp(page, { userId: '3001' });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.waitForURL(`${digest.origin}/callback?**`);
  assert.equal(await page.locator('h1').textContent(), 'Not connected');
  assert.deepEqual(digest.results.at(-1), { kind: 'error', error: 'access_denied', description: 'the user declined' });
  assert.deepEqual((await api.platform('GET', '/internal/users/3001/access')).body.data.apps, []);
});

test('a redirect_uri the app did not register gets an error page, never a redirect', { timeout: 90_000 }, async () => {
  const page = await freshBrowser();
  await signInThroughApp(page, { userId: '3002' });
  const url = new URL(page.url());
  url.searchParams.set('redirect_uri', `${digest.origin}/evil`);
  const response = await page.goto(url.href);
  assert.equal(response?.status(), 400);
  assert.equal(new URL(page.url()).origin, service.baseUrl);
  assert.match(await text(page.locator('main')), /for your safety you were not sent there/);
  await screenshot(page, '07-unregistered-redirect-uri', { phone: true });
});

test('a replayed code, a missing PKCE verifier and a reused refresh token are refused', { timeout: 90_000 }, async () => {
  const page = await freshBrowser();
  await signInThroughApp(page, { userId: '3003', hold: true });
  await page.getByRole('button', { name: 'Authorize app' }).click();
  await page.waitForURL(`${digest.origin}/callback?**`);
  const held = digest.results.at(-1);
  assert.ok(held?.kind === 'held');
  const code = /** @type {string} */ (held.params.get('code'));

  // Without the verifier: refused, and the code is not spent by it.
  const noVerifier = await digest.tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: digest.redirectUri });
  assert.equal(noVerifier.status, 400);
  assert.equal(noVerifier.body.error, 'invalid_request');
  const tokens = await digest.exchange(held.params, held.verifier);
  assert.ok(tokens.access_token);

  // The same code again: refused, and what it issued is revoked.
  await assert.rejects(
    digest.exchange(held.params, held.verifier),
    (err) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant',
  );
  assert.equal((await api.call('GET', '/2/webhooks', { token: tokens.access_token })).status, 401);

  // A fresh grant: rotate once, then present the spent refresh token again.
  await page.goto(`${digest.origin}/login`);
  await page.waitForURL(/\/i\/oauth2\/authorize\?/);
  await page.getByRole('button', { name: 'Authorize app' }).click();
  await page.waitForURL(`${digest.origin}/callback?**`);
  const grant = digest.results.at(-1);
  assert.ok(grant?.kind === 'tokens');
  const rotated = await digest.refresh(/** @type {string} */ (grant.tokens.refresh_token));
  await assert.rejects(
    digest.refresh(/** @type {string} */ (grant.tokens.refresh_token)),
    (err) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant',
  );
  // Reuse revoked the whole family, the rotated tokens included.
  assert.equal((await api.call('GET', '/2/webhooks', { token: rotated.access_token })).status, 401);
  await assert.rejects(digest.refresh(/** @type {string} */ (rotated.refresh_token)), (err) => err instanceof oauth.ResponseBodyError);
});

test('a forged sign-in assertion is refused and signs nobody in', { timeout: 90_000 }, async () => {
  const page = await freshBrowser();
  await page.goto(`${service.baseUrl}/i/connected_apps`);
  await page.waitForURL(/\/i\/session\/dev-login\?/);
  const login = new URL(page.url());
  // Shaped like the development login's assertion, for the right nonce and audience, but not signed with its key.
  const forged = await new SignJWT({ nonce: login.searchParams.get('nonce') })
    .setProtectedHeader({ alg: 'HS256', kid: 'aae-dev-login' })
    .setIssuer('aae-dev-login')
    .setAudience(service.baseUrl)
    .setSubject(USER)
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(new TextEncoder().encode('a key the attacker made up, 32+ bytes long'));
  const response = await page.goto(`${login.searchParams.get('return_to')}?assertion=${forged}`);
  assert.equal(response?.status(), 400);
  assert.match(await text(page.locator('main')), /signature does not verify/);
  await screenshot(page, '08-forged-assertion');
  await page.goto(`${service.baseUrl}/i/connected_apps`);
  await page.waitForURL(/\/i\/session\/dev-login\?/);
});

/** @param {NodeJS.ReadableStream} stream */
async function streamText(stream) {
  let text = '';
  for await (const chunk of stream) text += chunk;
  return text;
}
