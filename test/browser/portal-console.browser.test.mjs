// In a real browser, as a new developer and a new operator would: the developer signs in to the
// portal with their app's consumer key and secret, registers a webhook against a local receiver (the
// project's own, which verifies both signatures of every delivery), sees the CRC pass, sends a test
// event and finds it in the delivery log, replays a window and rotates the signing secret. The
// operator signs in to the console, approves a pending app and suspends it with a reason. The service
// runs as `npm run dev` runs it; screenshots go to .test-results/screenshots/.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { client } from '../../scripts/lib/client.mjs';
import { startReceiver } from '../../scripts/lib/receiver.mjs';
import { sleep, startDevService } from '../../scripts/lib/service.mjs';
import { launchChromium, screenshot } from './chromium.mjs';

const stateDir = mkdtempSync(join(tmpdir(), 'aae-browser-portal-'));
/** @type {Awaited<ReturnType<typeof startDevService>>} */
let service;
/** @type {ReturnType<typeof client>} */
let api;
/** @type {Awaited<ReturnType<typeof startReceiver>>} */
let receiver;
const cleanups = /** @type {(() => Promise<unknown>)[]} */ ([]);

before(async () => {
  const probe = await launchChromium();
  await probe.close();
  service = await startDevService({ stateDir });
  api = client(service.baseUrl, service.platformToken);
  receiver = await startReceiver();
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await receiver?.close();
  await service?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function freshBrowser() {
  const chromium = await launchChromium();
  cleanups.push(chromium.close);
  return chromium.page;
}

/** What a person reads in an element (rendered text: cells and rows apart). @param {import('playwright-core').Locator} locator */
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person reads
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

async function waitFor(/** @type {() => boolean} */ predicate, /** @type {string} */ what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Reloads until `locator` shows up (the log lists an attempt once it has been handed out). */
async function reloadUntil(/** @type {import('playwright-core').Page} */ page, /** @type {import('playwright-core').Locator} */ locator) {
  const deadline = Date.now() + 20_000;
  while (!(await locator.count())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${locator} on ${page.url()}`);
    await sleep(300);
    await page.reload();
  }
}

test('a new developer signs in, adds a webhook, sends a test event, finds it in the log, replays and rotates', {
  timeout: 180_000,
}, async () => {
  const app = await api.activeApp('Acme Alerts', { description: 'Alerts you when your posts take off.' });
  receiver.trustApp(app.name, app.consumerSecret);
  const page = await freshBrowser();

  // Not signed in: the portal sends the browser to its sign-in page.
  await page.goto(`${service.baseUrl}/portal`);
  await page.waitForURL(/\/portal\/sign-in$/);
  await screenshot(page, '10-portal-sign-in', { phone: true });
  await page.getByLabel('Consumer key').fill(app.consumerKey);
  await page.getByLabel('Consumer secret').fill(`${app.consumerSecret}-wrong`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  assert.match(await text(page.getByRole('alert')), /do not match an app/);
  await page.getByLabel('Consumer secret').fill(app.consumerSecret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${service.baseUrl}/portal`);
  assert.match(await text(page.locator('h1')), /Acme Alerts/);
  assert.equal(await text(page.getByTestId('webhook-count')), '0 / 5');
  await screenshot(page, '11-portal-empty', { phone: true });

  // Add a webhook: the CRC runs against the receiver, and the signing secret is shown once.
  const url = receiver.url('/webhooks/alerts');
  await page.getByLabel('URL').fill(url);
  await page.getByRole('button', { name: 'Run the CRC and add' }).click();
  await page.getByTestId('signing-secret').waitFor();
  assert.match(await text(page.getByRole('status')), /CRC passed/);
  assert.ok(receiver.crcs.some((c) => c.path === '/webhooks/alerts' && c.app === app.name));
  const signingSecret = await text(page.getByTestId('signing-secret'));
  assert.match(signingSecret, /^whsec_/);
  const webhookId = /** @type {string} */ ((await text(page.locator('.eyebrow').first())).match(/\d+/)?.[0]);
  receiver.trustWebhook(webhookId, app.name, signingSecret);
  await screenshot(page, '12-portal-webhook-added');
  await page.getByRole('link', { name: 'I have saved it' }).click();
  await page.waitForURL(`${service.baseUrl}/portal/webhooks/${webhookId}`);
  assert.ok(!(await page.content()).includes(signingSecret), 'the secret is not shown again');
  assert.match(await text(page.getByTestId('last-crc')), /^passed/);

  // A user subscribes through the app (API) and one of their posts is delivered, for the replay below.
  await api.subscribe(app, webhookId, '2244994945', ['tweet.read', 'users.read']);
  await api.ingest([
    {
      id: 'portal-browser-1',
      type: 'tweet_create',
      tweet: { id: '9900001', text: 'hello', author: { id: '2244994945', name: 'Jack', screen_name: 'jack' } },
    },
  ]);
  await waitFor(() => receiver.deliveries.some((d) => d.json?.tweet_create_events), 'the post at the receiver');

  // Send a test event: it reaches the receiver, signed by this app and this webhook, and is in the log.
  await page.getByRole('button', { name: 'Send a test event' }).click();
  await page.waitForURL(/\/deliveries\?queued=1$/);
  await waitFor(() => receiver.deliveries.some((d) => d.json?.test_event), 'the test event at the receiver');
  const testDelivery = receiver.deliveries.find((d) => d.json?.test_event);
  assert.equal(testDelivery?.app, app.name);
  assert.equal(testDelivery?.webhookId, webhookId);
  assert.deepEqual(Object.keys(testDelivery?.json.test_event ?? {}).sort(), [
    'app_id',
    'created_timestamp',
    'description',
    'id',
    'webhook_id',
  ]);
  const testRow = page.locator('tr[data-kind="test"]');
  await reloadUntil(page, testRow.filter({ hasText: 'delivered' }));
  assert.match(await text(testRow), /test_event.*delivered 200/);
  await screenshot(page, '13-portal-delivery-log', { phone: true });

  // The attempt's detail: status, latency, what next, the headers without secrets.
  await testRow.getByRole('link', { name: 'Details' }).click();
  const detail = await text(page.getByTestId('attempt-detail'));
  assert.match(detail, /Outcome delivered Status 200 Latency \d+ ms Error — What next delivered/);
  const headers = await text(page.getByTestId('attempt-headers'));
  assert.match(headers, /webhook-id msg_\d+_\d+_app/);
  assert.match(headers, /webhook-signature \(not shown\)/);
  assert.ok(!(await page.content()).includes(signingSecret));
  assert.ok(!(await page.content()).includes(app.consumerSecret));
  await screenshot(page, '14-portal-attempt');

  // The log's filters: only failures (none), then everything for the subscribed user (the post).
  await page.goto(`${service.baseUrl}/portal/webhooks/${webhookId}/deliveries`);
  await page.getByLabel('Outcome').selectOption('failed');
  await page.getByRole('button', { name: 'Filter' }).click();
  assert.match(await text(page.locator('main')), /No attempts match/);
  await page.getByLabel('Outcome').selectOption('');
  await page.getByLabel('User id').fill('2244994945');
  await page.getByRole('button', { name: 'Filter' }).click();
  assert.match(await text(page.getByTestId('delivery-log')), /tweet_create 2244994945 1 delivered 200/);
  assert.equal(await page.locator('tr[data-kind="test"]').count(), 0);

  // Replay the last hour: the post is sent again, then the job's status.
  await page.goto(`${service.baseUrl}/portal/webhooks/${webhookId}`);
  await page.getByRole('button', { name: 'Start replay' }).click();
  await page.waitForURL(/\?job=\d+$/);
  const jobId = new URL(page.url()).searchParams.get('job');
  assert.match(await text(page.getByRole('status')), new RegExp(`Replay job ${jobId} started`));
  await waitFor(
    () => receiver.deliveries.some((d) => d.json?.replay_job_status?.job_id === jobId),
    'the replay job status at the receiver',
    30_000,
  );
  const replayed = receiver.deliveries.filter((d) => d.headers['x-replay-job-id'] === jobId && d.json?.tweet_create_events);
  assert.equal(replayed.length, 1);
  assert.equal(receiver.deliveries.find((d) => d.json?.replay_job_status?.job_id === jobId)?.json.replay_job_status.job_state, 'Complete');
  await screenshot(page, '15-portal-webhook', { phone: true });

  // Rotate the signing secret: a new one, shown once; deliveries verify with it.
  await page.getByText('Rotate signing secret', { exact: true }).click();
  await page.getByRole('button', { name: 'Yes, rotate it' }).click();
  await page.getByTestId('signing-secret').waitFor();
  const rotated = await text(page.getByTestId('signing-secret'));
  assert.notEqual(rotated, signingSecret);
  await screenshot(page, '16-portal-rotated');
  receiver.trustWebhook(webhookId, app.name, rotated);
  await page.getByRole('link', { name: 'I have saved it' }).click();
  await page.getByRole('button', { name: 'Send a test event' }).click();
  await waitFor(() => receiver.deliveries.filter((d) => d.json?.test_event).length === 2, 'the second test event');
  assert.equal(receiver.deliveries.filter((d) => d.json?.test_event)[1].webhookId, webhookId);

  // Rate limits: what the portal's actions added up to.
  await page.getByRole('navigation').getByRole('link', { name: 'Rate limits' }).click();
  assert.match(await text(page.getByTestId('limit-webhooks:test')), /Send a test event webhooks:test 2 30/);
  assert.match(await text(page.getByTestId('limit-replay')), /replay 1 5/);
  await screenshot(page, '17-portal-rate-limits');

  // Sign out: the portal asks to sign in again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.goto(`${service.baseUrl}/portal`);
  await page.waitForURL(/\/portal\/sign-in$/);
  assert.deepEqual(receiver.problems, []);
});

test('a new operator approves a pending app and suspends it with a reason', { timeout: 120_000 }, async () => {
  const created = await api.platform('POST', '/internal/apps', { name: 'Pending Pal', description: 'Summarizes your DMs every evening.' });
  assert.equal(created.status, 201, created.text);
  const appId = created.body.data.id;
  const page = await freshBrowser();

  await page.goto(`${service.baseUrl}/console`);
  await page.waitForURL(/\/console\/sign-in$/);
  await page.getByLabel('Platform token').fill(service.platformToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${service.baseUrl}/console`);
  const card = page.getByTestId(`pending-${appId}`);
  assert.match(await text(card), /Pending Pal Pending review Summarizes your DMs every evening\./);
  await screenshot(page, '20-console-review-queue', { phone: true });

  await card.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL(/\/console\?done=approved/);
  assert.match(await text(page.getByRole('status')), /Pending Pal: The app is approved/);
  assert.equal(await card.count(), 0);
  assert.equal((await api.platform('GET', `/internal/apps/${appId}`)).body.data.status, 'active');

  // The apps list, then the app: suspend it with a reason; the history shows all three.
  await page.getByRole('navigation').getByRole('link', { name: 'Apps', exact: true }).click();
  await page.getByTestId(`app-${appId}`).getByRole('link', { name: 'Pending Pal' }).click();
  await page.getByText('Suspend', { exact: true }).click();
  await page.getByLabel('Reason').fill('Sends unsolicited direct messages');
  await screenshot(page, '21-console-suspend');
  await page.getByRole('button', { name: 'Suspend Pending Pal' }).click();
  await page.waitForURL(/\?done=suspended$/);
  assert.match(await text(page.getByRole('status')), /The app is suspended/);
  assert.match(await text(page.getByTestId('status-history')), /Pending review.*Active.*Suspended Sends unsolicited direct messages/);
  assert.equal(await text(page.getByTestId('status-reason')), 'Sends unsolicited direct messages');
  await screenshot(page, '22-console-app-suspended', { phone: true });
  const after = (await api.platform('GET', `/internal/apps/${appId}`)).body.data;
  assert.equal(after.status, 'suspended');

  // The other sections open: apps with health, the user lookup, the audit.
  await page.getByRole('navigation').getByRole('link', { name: 'Apps', exact: true }).click();
  await screenshot(page, '23-console-apps');
  await page.getByRole('navigation').getByRole('link', { name: 'User lookup' }).click();
  await page.getByLabel('User id').fill('2244994945');
  await page.getByRole('button', { name: 'Look up' }).click();
  assert.match(await text(page.locator('main')), /Acme Alerts/);
  await screenshot(page, '24-console-user');
  await page.getByRole('navigation').getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('button', { name: 'Verify' }).click();
  assert.match(await text(page.getByTestId('audit-result')), /\d+ attempts checked .*: no violations/);
  await screenshot(page, '25-console-audit');
});
