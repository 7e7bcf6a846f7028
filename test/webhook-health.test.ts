import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { ingest, testUser as u, uniqueId } from './support/activities';
import { withStore } from './support/app-object';
import { appWithWebhookEachTest } from './support/fixtures';

const fx = appWithWebhookEachTest({ subscribers: ['71'] });
const wait = (fn: () => void | Promise<void>, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 50 });
const tweet = () => {
  const id = uniqueId('wh');
  return { id, type: 'tweet_create', tweet: { id: String(700000 + Number(id.split('-')[1])), text: id, author: u('71') } };
};
const health = async () => {
  const [only] = await appObject(env, fx.app.id).webhookHealth(fx.app.id);
  return only;
};

describe("a webhook's health, as the portal and the console read it from the app's object", () => {
  it('counts a failing streak with its last error, and the first delivery ends it', async () => {
    expect(await health()).toMatchObject({
      id: fx.hook.id,
      url: fx.url,
      valid: true,
      consecutiveFailures: 0,
      failingSince: null,
      undelivered: 0,
      oldestUndeliveredAt: null,
    });

    let answer = 500;
    fx.receivers.onPost(fx.url, () => new Response('no', { status: answer }));
    const before = Date.now();
    await ingest(tweet());
    await wait(async () => expect((await health()).consecutiveFailures).toBeGreaterThanOrEqual(2));
    const failing = await health();
    expect(failing.lastError).toBe('HTTP 500');
    expect(failing.failingSince).toBeGreaterThanOrEqual(before);
    expect(failing.lastFailureAt).toBeGreaterThanOrEqual(failing.failingSince!);
    expect(failing.undelivered).toBe(1);
    expect(failing.oldestUndeliveredAt).toBeGreaterThanOrEqual(before);

    answer = 200;
    await wait(async () => expect((await health()).undelivered).toBe(0));
    expect(await health()).toMatchObject({ consecutiveFailures: 0, failingSince: null, lastError: 'HTTP 500', oldestUndeliveredAt: null });
  });

  it('shows the backlog an invalid webhook holds', async () => {
    await appObject(env, fx.app.id).setWebhookValid(fx.app.id, fx.hook.id, false, Date.now());
    await ingest(tweet(), tweet(), tweet());
    await wait(async () => expect(await health()).toMatchObject({ valid: false, undelivered: 3, undeliveredCapped: false }));
    expect(fx.receivers.posts(fx.url)).toEqual([]);
  });

  it('counts a backlog only up to the cap it is given, by webhook', async () => {
    const counted = await withStore(fx.app.id, (store) => {
      for (let i = 0; i < 5; i++) {
        store.outbox.append({
          deliveryId: `msg_cap${i}_${fx.hook.id}_71`,
          kind: 'event',
          eventId: `cap${i}`,
          eventType: 'tweet_create',
          requiredScope: 'tweet.read',
          webhookId: fx.hook.id,
          userId: '71',
          payload: '{}',
          createdAt: 1000 + i,
        });
      }
      // A webhook whose id begins with this one's is another webhook.
      return {
        capped: store.outboxViews.backlog(fx.hook.id, 3),
        all: store.outboxViews.backlog(fx.hook.id, 10),
        other: store.outboxViews.backlog('1', 10),
      };
    });
    expect(counted).toEqual({
      capped: { undelivered: 3, capped: true, oldestAt: 1000 },
      all: { undelivered: 5, capped: false, oldestAt: 1000 },
      other: { undelivered: 0, capped: false, oldestAt: null },
    });
  });

  it('reads one ledger entry by id, and nothing for an id it does not have', async () => {
    await ingest(tweet());
    await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1));
    const object = appObject(env, fx.app.id);
    const { entries } = await object.ledger(fx.app.id, { limit: 1 });
    const entry = await object.ledgerEntry(fx.app.id, entries[0].id);
    expect(entry).toMatchObject({ id: entries[0].id, webhook_id: fx.hook.id, for_user_id: '71', message_state: 'delivered' });
    expect(await object.ledgerEntry(fx.app.id, entries[0].id + 1000)).toBeNull();
  });
});
