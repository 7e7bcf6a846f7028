import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import type { Release } from '../src/app-object/lanes';
import { liveLane, type NewMessage } from '../src/app-object/storage/outbox-store';
import { alarmPass, MIN_SWEEP_GAP_MS } from '../src/app-object/sweep';
import { appObject } from '../src/delivery/app-objects';
import type { TimedActivity } from '../src/domain/activities';
import type { DeliveryMessage } from '../src/domain/delivery-protocol';
import { testUser } from './support/activities';
import { deliveryAt, stageRelease, withStore } from './support/app-object';
import { activeApp, grantUser } from './support/apps';
import { appWithWebhook } from './support/fixtures';
import { call } from './support/http';
import { installReceivers } from './support/receivers';

/** A live message for `user` on `webhookId`, as ingest would append it. */
const queued = (webhookId: string, userId: string, createdAt: number): NewMessage => ({
  deliveryId: `msg_${webhookId}_${userId}_${createdAt}`,
  kind: 'event',
  eventId: `e_${userId}_${createdAt}`,
  eventType: 'tweet_create',
  requiredScope: 'tweet.read',
  webhookId,
  userId,
  payload: JSON.stringify({ for_user_id: userId }),
  createdAt,
});

describe('the per-app Durable Object', () => {
  it("refuses calls for another app, even through a correct object's stub", async () => {
    const a = await activeApp();
    const b = await activeApp();
    // Called on the instance (not over RPC) so the refusal surfaces here as a rejected promise.
    await runInDurableObject(appObject(env, a.id), async (objectOfA) => {
      await expect(objectOfA.prepareCrc(b.id)).rejects.toThrow(/refused/);
      await expect(
        objectOfA.addSubscription(b.id, { id: '1', webhookId: '2', userId: '3', authorizationId: '4', at: Date.now() }),
      ).rejects.toThrow(/refused/);
      await expect(objectOfA.provision(b.id, 'aae_cs_x', 'active', Date.now())).rejects.toThrow(/refused/);
    });
    // Nothing of b's was written into a's object.
    const subs = await runInDurableObject(appObject(env, a.id), (_o, s) => s.storage.sql.exec('SELECT * FROM subscriptions').toArray());
    expect(subs).toEqual([]);
  });

  it('refuses everything before it is provisioned', async () => {
    await runInDurableObject(appObject(env, '77777'), async (object) => {
      await expect(object.prepareCrc('77777')).rejects.toThrow(/not provisioned/);
    });
  });

  it('keeps its own copy of webhooks, authorizations and subscriptions in step with D1', async () => {
    const { app, hook } = await appWithWebhook({ subscribers: ['42'], scopes: ['tweet.read', 'dm.read'] });

    const state = await runInDurableObject(appObject(env, app.id), (_o, s) => ({
      webhook: s.storage.sql.exec('SELECT url, valid, signing_secret FROM webhooks WHERE id = ?', hook.id).one(),
      auth: s.storage.sql.exec('SELECT scope, ended_at FROM authorizations WHERE user_id = ?', '42').toArray(),
      subs: s.storage.sql.exec('SELECT webhook_id, ended_at FROM subscriptions WHERE user_id = ?', '42').toArray(),
    }));
    expect(state.webhook).toEqual({ url: hook.url, valid: 1, signing_secret: hook.signing_secret });
    expect(state.auth).toEqual([{ scope: 'dm.read tweet.read', ended_at: null }]);
    expect(state.subs).toEqual([{ webhook_id: hook.id, ended_at: null }]);

    await call('DELETE', `/2/account_activity/webhooks/${hook.id}/subscriptions/42/all`, { token: app.bearer });
    const ended = await runInDurableObject(appObject(env, app.id), (_o, s) =>
      s.storage.sql.exec<{ ended_at: number | null }>('SELECT ended_at FROM subscriptions WHERE user_id = ?', '42').one(),
    );
    expect(ended.ended_at).toBeTypeOf('number');
  });

  it('holds the consumer secret; D1 does not', async () => {
    const app = await activeApp();
    const secret = await runInDurableObject(
      appObject(env, app.id),
      (_o, s) => s.storage.sql.exec<{ consumer_secret: string }>('SELECT consumer_secret FROM tenant').one().consumer_secret,
    );
    expect(secret).toBe(app.consumerSecret);
  });
});

describe('the object re-checks entitlement itself (docs/delivery.md, isolation)', () => {
  const tweetBy = (author: string, id = 'x1') => ({
    eventId: `9${Math.floor(Math.random() * 1e9)}`,
    activity: {
      id,
      type: 'tweet_create' as const,
      created_at: Date.now(),
      tweet: { id: '1', text: 'x', author: { id: author, name: 'n', screen_name: 's' } },
    },
  });

  it('renders nothing for users it has no live subscription for, whatever the Worker routed to it', async () => {
    installReceivers();
    const app = await activeApp();
    const stub = appObject(env, app.id);
    expect(await stub.ingest(app.id, [tweetBy('12345')])).toEqual({ messages: 0, releases: [[], []] });
  });

  it('renders nothing when the authorization lacks the scope, and nothing twice for one event id', async () => {
    const { app } = await appWithWebhook({ subscribers: ['7'], scopes: ['users.read'] });
    const stub = appObject(env, app.id);
    expect((await stub.ingest(app.id, [tweetBy('7')])).messages).toBe(0);
    await grantUser(app.id, '7', ['tweet.read']);
    const event = tweetBy('7');
    const first = await stub.ingest(app.id, [event]);
    expect(first.messages).toBe(1);
    expect(first.releases).toEqual([
      [
        {
          app: app.id,
          seq: expect.any(Number),
          deliveryId: expect.stringMatching(/^msg_/),
          attempt: 1,
          release: 1,
          webhook: expect.any(String),
        },
      ],
      [],
    ]);
    expect(await stub.ingest(app.id, [event])).toEqual({ messages: 0, releases: [[], []] });
  });
});

describe('the alarm', () => {
  it('releases again a delivery whose consumer never reported within the lease', async () => {
    const { app, hook, receivers, url } = await appWithWebhook({ subscribers: ['8'], scopes: ['tweet.read'] });
    const stub = appObject(env, app.id);
    // A release that went missing: released three minutes ago and never claimed.
    await stageRelease(app.id, { webhookId: hook.id, userId: '8', deliveryId: `msg_lost_${hook.id}_8`, releasedAt: Date.now() - 180_000 });
    await withStore(app.id, (_store, state) => state.storage.setAlarm(Date.now()));
    // A past alarm may already have fired by itself; run it in case it has not.
    await runDurableObjectAlarm(stub);
    await vi.waitFor(() => expect(receivers.posts(url)).toHaveLength(1), { timeout: 5000 });
    expect(receivers.posts(url)[0].headers.get('webhook-id')).toBe(`msg_lost_${hook.id}_8`);
  });

  it('waits at least 100 ms between passes, even when a waiting row falls due sooner', async () => {
    // A lane whose head is out and whose next row falls due in 5 ms: the next wake-up counts that row,
    // though no pass can release it before its head finishes (a replay's copies look like this). The
    // pass runs on a fixed clock, so "5 ms later" cannot have passed already.
    const { app, hook } = await appWithWebhook({ subscribers: ['9'], scopes: ['tweet.read'] });
    const now = Date.now();
    const alarms = await withStore(app.id, async (store) => {
      const head = store.outbox.append({ ...queued(hook.id, '9', now), deliveryId: `msg_head_${hook.id}` });
      store.outbox.markReleased(head, now);
      store.outbox.append({ ...queued(hook.id, '9', now), deliveryId: `msg_next_${hook.id}`, notBefore: now + 5 });
      const { delivery, setAlarm } = deliveryAt(store, now);
      await alarmPass(delivery);
      return setAlarm.mock.calls.map(([at]) => (at === null ? null : at - now));
    });
    expect(alarms).toEqual([MIN_SWEEP_GAP_MS]);
  });
});

describe('a live message at ingest (Lanes.appendLive)', () => {
  it('is written released only into an empty lane; behind a due waiting head the head goes, and a held webhook holds it', async () => {
    const { app, hook } = await appWithWebhook({ subscribers: ['4', '5', '6', '7', '8'], scopes: ['tweet.read'] });
    const now = Date.now();
    const lanes = await withStore(app.id, (store, state) => {
      const { delivery } = deliveryAt(store, now);
      const out: Release[] = [];
      const lane = (user: string) =>
        state.storage.sql
          .exec<{ delivery_id: string; state: string; release: number }>(
            `SELECT m.delivery_id, o.state, o.release FROM outbox o JOIN messages m ON m.seq = o.seq WHERE o.lane = ? ORDER BY o.seq`,
            liveLane(hook.id, user),
          )
          .toArray();
      // An empty lane: released at once, as its first release.
      delivery.lanes.appendLive({ ...queued(hook.id, '5', now), deliveryId: 'msg_first' }, true, now, out);
      // Not due yet: it waits, even in an empty lane.
      delivery.lanes.appendLive({ ...queued(hook.id, '4', now), deliveryId: 'msg_later', notBefore: now + 60_000 }, true, now, out);
      // A lane whose head waits and is due (a retry whose backoff passed): the head goes, the new one waits behind it.
      store.outbox.append({ ...queued(hook.id, '6', now), deliveryId: 'msg_head', eventId: 'e_head', notBefore: now - 10 });
      delivery.lanes.appendLive({ ...queued(hook.id, '6', now), deliveryId: 'msg_behind' }, true, now, out);
      const busy = lane('6');
      // The webhook turns invalid: what the rule holds is never written released, even into an empty lane.
      store.webhooks.setWebhookValid(hook.id, false, now);
      delivery.lanes.appendLive({ ...queued(hook.id, '7', now), deliveryId: 'msg_held' }, false, now, out);
      // The same through ingest itself, which asks the rule on its own.
      const tweet = {
        id: 'al-8',
        type: 'tweet_create',
        tweet: { id: '1', text: 'x', author: testUser('8') },
        created_at: now,
      } as TimedActivity;
      delivery.ingest(app.id, [{ eventId: 'e_ingest_8', activity: tweet }]);
      return {
        later: lane('4'),
        empty: lane('5'),
        busy,
        held: lane('7'),
        ingested: lane('8').map((r) => r.state),
        released: out.map((r) => r.deliveryId),
      };
    });
    expect(lanes.later).toEqual([{ delivery_id: 'msg_later', state: 'waiting', release: 0 }]);
    expect(lanes.empty).toEqual([{ delivery_id: 'msg_first', state: 'released', release: 1 }]);
    expect(lanes.busy).toEqual([
      { delivery_id: 'msg_head', state: 'released', release: 1 },
      { delivery_id: 'msg_behind', state: 'waiting', release: 0 },
    ]);
    expect(lanes.held).toEqual([{ delivery_id: 'msg_held', state: 'held', release: 0 }]);
    expect(lanes.ingested).toEqual(['held']);
    expect(lanes.released).toEqual(['msg_first', 'msg_head']);
  });
});

describe('a webhook that turned slow', () => {
  it('has its messages already on the fast queue released again on the slow queue, never handed out there', async () => {
    const fx = await appWithWebhook({ subscribers: ['1'] });
    const staged = await stageRelease(fx.app.id, { webhookId: fx.hook.id, userId: '1' });
    const object = appObject(env, fx.app.id);
    await object.report(fx.app.id, [], { slowWebhooks: [fx.hook.id] });
    const slowSends = vi.spyOn(env.DELIVERY_SLOW_QUEUE, 'sendBatch');
    const fastSends = vi.spyOn(env.DELIVERY_QUEUE, 'sendBatch');

    const fromFast = await object.claim(fx.app.id, [staged], 6, 'fast');

    expect(fromFast.handOuts).toEqual([]);
    expect(fromFast.deferred).toEqual([]);
    expect(fastSends).not.toHaveBeenCalled();
    const [[sent]] = slowSends.mock.calls as unknown as [[{ body: DeliveryMessage }[]]];
    expect(sent.map((m) => m.body)).toEqual([{ ...staged, release: staged.release + 1 }]);
    // The slow queue's consumer gets it; the old fast-queue message names a release that is gone.
    const fromSlow = await object.claim(fx.app.id, [{ ...staged, release: staged.release + 1 }], 6, 'slow');
    expect(fromSlow.handOuts.map((h) => h.deliveryId)).toEqual([staged.deliveryId]);
    expect((await object.claim(fx.app.id, [staged], 6, 'fast')).handOuts).toEqual([]);
  });

  it('is not chained back to the fast consumer that reports its attempt unsent: the lane goes to the slow queue', async () => {
    const fx = await appWithWebhook({ subscribers: ['1'] });
    const staged = await stageRelease(fx.app.id, { webhookId: fx.hook.id, userId: '1' });
    const object = appObject(env, fx.app.id);
    const [handOut] = (await object.claim(fx.app.id, [staged], 6, 'fast')).handOuts;
    const slowSends = vi.spyOn(env.DELIVERY_SLOW_QUEUE, 'sendBatch');
    const fastSends = vi.spyOn(env.DELIVERY_QUEUE, 'sendBatch');

    // The run saw the webhook hang on another request and did not start this one. Chaining it back
    // to the same fast run would only be refused again, as fast as the two can talk.
    const unsent = { seq: handOut.seq, deliveryId: handOut.deliveryId, attempt: handOut.attempt, handOutId: handOut.handOutId };
    const { next } = await object.report(fx.app.id, [{ ...unsent, startedAt: null, result: null }], {
      chain: true,
      capacity: 6,
      slowWebhooks: [fx.hook.id],
      pull: 'fast',
    });

    expect(next).toEqual([]);
    const sentOn = (queue: typeof fastSends) =>
      (queue.mock.calls as unknown as [{ body: DeliveryMessage }[]][])
        .flatMap(([batch]) => batch.map((m) => m.body))
        .filter((b) => b.app === fx.app.id);
    expect(sentOn(fastSends)).toEqual([]);
    expect(sentOn(slowSends)).toEqual([{ ...staged, release: staged.release + 1 }]);
  });
});

describe('a late report', () => {
  it('that says delivered finishes its message even after the hand-out was given up and the message released again', async () => {
    const fx = await appWithWebhook({ subscribers: ['1'] });
    const staged = await stageRelease(fx.app.id, { webhookId: fx.hook.id, userId: '1' });
    const object = appObject(env, fx.app.id);
    const [handOut] = (await object.claim(fx.app.id, [staged], 6, 'fast')).handOuts;
    // The lease sweep gave the hand-out up (outcome unknown) and put the message back to wait for attempt 2.
    await withStore(fx.app.id, (store) => store.outbox.markWaiting(staged.seq, 2, Date.now() + 60_000));

    await object.report(fx.app.id, [
      {
        seq: handOut.seq,
        deliveryId: handOut.deliveryId,
        attempt: handOut.attempt,
        handOutId: handOut.handOutId,
        startedAt: Date.now() - 50,
        result: { status: 200, latencyMs: 50 },
      },
    ]);

    const state = await withStore(fx.app.id, (store) => ({
      message: store.outbox.message(staged.seq)?.state,
      inOutbox: store.outbox.outboxRow(staged.seq) !== undefined,
    }));
    expect(state).toEqual({ message: 'delivered', inOutbox: false });
  });
});

describe('a report that does not match its hand-out', () => {
  it('changes nothing: not the ledger, not the message, not the outbox (another attempt, another message, another delivery id)', async () => {
    const fx = await appWithWebhook({ subscribers: ['1', '2'] });
    const first = await stageRelease(fx.app.id, { webhookId: fx.hook.id, userId: '1' });
    const second = await stageRelease(fx.app.id, { webhookId: fx.hook.id, userId: '2' });
    const object = appObject(env, fx.app.id);
    const handOuts = (await object.claim(fx.app.id, [first, second], 6, 'fast')).handOuts;
    const [a, b] = [first, second].map((m) => handOuts.find((h) => h.seq === m.seq)!);
    const snapshot = () =>
      runInDurableObject(object, (_o, s) => ({
        ledger: s.storage.sql.exec('SELECT id, seq, attempt, outcome, status_code FROM ledger ORDER BY id').toArray(),
        messages: s.storage.sql.exec('SELECT seq, state, attempts FROM messages ORDER BY seq').toArray(),
        outbox: s.storage.sql.exec('SELECT seq, state, attempt FROM outbox ORDER BY seq').toArray(),
      }));
    const before = await snapshot();
    const delivered = { startedAt: Date.now() - 10, result: { status: 200, latencyMs: 10 } };
    const ref = (h: typeof a) => ({ seq: h.seq, deliveryId: h.deliveryId, attempt: h.attempt, handOutId: h.handOutId });

    await object.report(fx.app.id, [
      { ...ref(a), attempt: a.attempt + 1, ...delivered }, // a later attempt than was handed out
      { ...ref(a), handOutId: b.handOutId, ...delivered }, // b's hand-out, claimed for a's message
      { ...ref(b), deliveryId: a.deliveryId, ...delivered }, // b's hand-out under a's delivery id
      { ...ref(a), handOutId: b.handOutId, startedAt: null, result: null }, // "unsent" for the wrong hand-out
    ]);

    expect(await snapshot()).toEqual(before);
    expect(before.ledger.map((r) => r.outcome)).toEqual(['unknown', 'unknown']);
  });
});
