// The official X TypeScript SDK, unmodified, against the service: only its base URL changes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiError, Client } from '@xdevplatform/xdk';
import { client } from '../../scripts/lib/client.mjs';
import { startReceiver } from '../../scripts/lib/receiver.mjs';
import { startDevService } from '../../scripts/lib/service.mjs';

const stateDir = mkdtempSync(join(tmpdir(), 'aae-sdk-'));
let service;
let receiver;

before(async () => {
  service = await startDevService({ stateDir });
  receiver = await startReceiver();
});

after(async () => {
  await receiver?.close();
  await service?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

test('webhooks and subscriptions through @xdevplatform/xdk', async () => {
  const api = client(service.baseUrl, service.platformToken);
  const app = await api.activeApp('sdk');
  receiver.trustApp('sdk', app.consumerSecret);
  const userToken = await api.grant(app, '2244994945', ['tweet.read', 'users.read', 'dm.read']);
  const asApp = new Client({ baseUrl: service.baseUrl, bearerToken: app.bearer });
  const asUser = new Client({ baseUrl: service.baseUrl, accessToken: userToken });

  assert.deepEqual((await asApp.webhooks.get()).data, []);
  const created = await asApp.webhooks.create({ url: receiver.url('/sdk') });
  assert.ok(created.data?.id, 'the SDK got the new webhook');
  assert.equal(created.data.valid, true);
  const id = created.data.id;
  assert.equal((await asApp.webhooks.get()).data?.[0]?.id, id);
  assert.equal((await asApp.webhooks.validate(id)).data?.valid, true);

  assert.equal((await asUser.accountActivity.createSubscription(id, {})).data?.subscribed, true);
  assert.equal((await asUser.accountActivity.validateSubscription(id)).data?.subscribed, true);
  // The SDK turns the answer's snake_case keys into camelCase (user_id -> userId).
  const list = await asApp.accountActivity.getSubscriptions(id);
  assert.deepEqual(
    list.data?.subscriptions?.map((s) => s.userId),
    ['2244994945'],
  );
  const count = await asApp.accountActivity.getSubscriptionCount();
  assert.equal(count.data?.subscriptionsCountAll, '1');
  assert.equal((await asApp.accountActivity.deleteSubscription(id, '2244994945')).data?.subscribed, false);
  await assert.rejects(asApp.accountActivity.deleteSubscription(id, '2244994945'), (err) => err instanceof ApiError && err.status === 404);
  assert.equal((await asApp.webhooks.delete(id)).data?.deleted, true);
  assert.deepEqual((await asApp.webhooks.get()).data, []);
});
