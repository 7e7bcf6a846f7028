import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { REPLAY_MAX_IN_FLIGHT, REPLAY_RECHECK_MS, type Release } from '../src/app-object/lanes';
import { planReplay } from '../src/app-object/replay';
import { replayLane } from '../src/app-object/storage/outbox-store';
import { appObject } from '../src/delivery/app-objects';
import { ingest, testUser as u, uniqueId } from './support/activities';
import { deliveryAt, stageRelease, withStore } from './support/app-object';
import { activeApp, subscribe } from './support/apps';
import { appWithWebhookEachTest } from './support/fixtures';
import { call, expectProblem, platform } from './support/http';
import { ageApp, replayDate } from './support/time';

const HOUR = 3_600_000;
const fx = appWithWebhookEachTest();
let n = 0;

const tweet = (author: string) => {
  n++;
  return { id: uniqueId('rp'), type: 'tweet_create', tweet: { id: String(5000 + n), text: `t${n}`, author: u(author) } };
};
const replayPath = (webhookId: string, from: number, to: number) =>
  `/2/account_activity/replay/webhooks/${webhookId}/subscriptions/all?from_date=${replayDate(from)}&to_date=${replayDate(to)}`;
const ledgerOutcomes = () =>
  runInDurableObject(appObject(env, fx.app.id), (_o, s) =>
    s.storage.sql
      .exec<{ outcome: string }>('SELECT outcome FROM ledger')
      .toArray()
      .map((r) => r.outcome),
  );

describe('replay after an outage', () => {
  it('re-delivers everything in order with the original webhook-ids, beside live traffic, then reports Complete', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    await subscribe(fx.app, fx.hook.id, '2');
    await subscribe(fx.app, fx.hook.id, '3');
    // The receiver is down and says to come back in an hour: each lane's head is tried once and
    // waits, everything behind it waits too.
    fx.receivers.onPost(fx.url, () => new Response(null, { status: 503, headers: { 'retry-after': '3600' } }));
    const sent = [tweet('1'), tweet('2'), tweet('1'), tweet('2'), tweet('1')];
    for (const activity of sent) await ingest(activity);
    await vi.waitFor(async () => expect(await ledgerOutcomes()).toEqual(['retrying', 'retrying']), { timeout: 10_000, interval: 100 });
    const originalIds = fx.receivers.posts(fx.url).map((p) => p.headers.get('webhook-id'));

    // An hour later the receiver is back and asks for the last two hours again.
    await ageApp(fx.app.id, HOUR);
    fx.receivers.onPost(fx.url, undefined);
    const now = Date.now();
    const first = await call('POST', replayPath(fx.hook.id, now - 2 * HOUR, now), { token: fx.app.bearer });
    expect(first.status).toBe(200);
    expect(first.body.data.job_id).toMatch(/^[0-9]{1,19}$/);
    const jobId = first.body.data.job_id;
    expectProblem(await call('POST', replayPath(fx.hook.id, now - 2 * HOUR, now), { token: fx.app.bearer }), 409, 'ReplayConflictError');

    // Live traffic keeps flowing during the replay (user 3 had no backlog).
    const live = tweet('3');
    await ingest(live);

    await vi.waitFor(() => expect(fx.receivers.posts(fx.url).some((p) => JSON.parse(p.body).replay_job_status)).toBe(true), {
      timeout: 15_000,
    });
    const replayed = fx.receivers.posts(fx.url).filter((p) => p.headers.get('x-replay-job-id') === jobId);
    expect(replayed).toHaveLength(5);
    // The same webhook-ids as the first tries (receivers can de-duplicate), same payloads, oldest first per user.
    for (const id of originalIds) expect(replayed.map((p) => p.headers.get('webhook-id'))).toContain(id);
    expect(new Set(replayed.map((p) => p.headers.get('webhook-id'))).size).toBe(5);
    const stored = await runInDurableObject(appObject(env, fx.app.id), (_o, s) =>
      s.storage.sql
        .exec<{ webhook_message_id: string; payload: string }>(`SELECT webhook_message_id, payload FROM messages WHERE kind = 'event'`)
        .toArray(),
    );
    for (const post of replayed)
      expect(post.body).toBe(stored.find((m) => m.webhook_message_id === post.headers.get('webhook-id'))!.payload);
    const textsFor = (user: string) =>
      replayed
        .map((p) => JSON.parse(p.body))
        .filter((b) => b.for_user_id === user)
        .map((b) => b.tweet_create_events[0].text);
    const sentFor = (user: string) => sent.filter((a) => a.tweet.author.id === user).map((a) => a.tweet.text);
    expect(textsFor('1')).toEqual(sentFor('1'));
    expect(textsFor('2')).toEqual(sentFor('2'));
    expect(fx.receivers.posts(fx.url).some((p) => JSON.parse(p.body).tweet_create_events?.[0]?.text === live.tweet.text)).toBe(true);
    const status = JSON.parse(fx.receivers.posts(fx.url).find((p) => JSON.parse(p.body).replay_job_status)!.body).replay_job_status;
    expect(status).toMatchObject({ webhook_id: fx.hook.id, job_state: 'Complete', job_id: jobId });

    // The job is over: a new one may start (body form this time).
    const again = await call('POST', '/2/webhooks/replay', {
      token: fx.app.bearer,
      body: { webhook_id: fx.hook.id, from_date: replayDate(now - 2 * HOUR), to_date: replayDate(now) },
    });
    expect(again.status).toBe(200);
  });

  it('never crosses a subscription: nothing from before a user subscribed, nothing for a user who left', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    await subscribe(fx.app, fx.hook.id, '2');
    await ingest(tweet('1'), tweet('2'));
    await vi.waitFor(() => expect(fx.receivers.posts(fx.url)).toHaveLength(2), { timeout: 5000 });
    // User 2 revokes; user 3 subscribes only now.
    await platform('DELETE', `/internal/authorizations/${fx.app.id}/2`);
    await subscribe(fx.app, fx.hook.id, '3');
    await ageApp(fx.app.id, HOUR);
    const now = Date.now();
    const res = await call('POST', replayPath(fx.hook.id, now - 2 * HOUR, now), { token: fx.app.bearer });
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(fx.receivers.posts(fx.url).some((p) => JSON.parse(p.body).replay_job_status)).toBe(true), {
      timeout: 10_000,
    });
    const replayed = fx.receivers.posts(fx.url).filter((p) => p.headers.get('x-replay-job-id'));
    expect(replayed.map((p) => JSON.parse(p.body).for_user_id)).toEqual(['1']);
  });

  it('reports Complete at once for an empty window', async () => {
    const now = Date.now();
    const res = await call('POST', replayPath(fx.hook.id, now - HOUR, now - 30 * 60_000), { token: fx.app.bearer });
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1), { timeout: 5000 });
    expect(JSON.parse(fx.receivers.posts(fx.url)[0].body).replay_job_status.job_state).toBe('Complete');
  });
});

describe('replay rate bound', () => {
  it('spaces a job to the configured events per second', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    await ingest(tweet('1'), tweet('1'), tweet('1'));
    await vi.waitFor(() => expect(fx.receivers.posts(fx.url)).toHaveLength(3), { timeout: 5000 });
    const notBefore = await withStore(fx.app.id, (store, state) => {
      const now = Date.now();
      planReplay(store.replays, store.outbox, store.mirror, {
        jobId: '77',
        webhookId: fx.hook.id,
        from: 0,
        to: now + 1,
        now,
        ratePerSecond: 2,
      });
      return state.storage.sql
        .exec<{ not_before: number }>(
          `SELECT o.not_before FROM outbox o JOIN messages m ON m.seq = o.seq WHERE m.replay_job_id = '77' ORDER BY o.seq`,
        )
        .toArray()
        .map((r) => r.not_before - now);
    });
    expect(notBefore).toEqual([0, 500, 1000]);
  });
});

describe('replay cost', () => {
  it('reads a bounded number of object rows per copy, however long the job (no look-up over the whole job per copy)', async () => {
    const users = ['1', '2', '3', '4'];
    for (const user of users) await subscribe(fx.app, fx.hook.id, user);
    const originals = Array.from({ length: 200 }, (_, i) => tweet(users[i % users.length]));
    for (let i = 0; i < originals.length; i += 100) await ingest(...originals.slice(i, i + 100));
    await vi.waitFor(() => expect(fx.receivers.posts(fx.url)).toHaveLength(originals.length), { timeout: 20_000, interval: 50 });

    await ageApp(fx.app.id, HOUR);
    await platform('DELETE', '/internal/metrics/work');
    const now = Date.now();
    expect((await call('POST', replayPath(fx.hook.id, now - 2 * HOUR, now), { token: fx.app.bearer })).status).toBe(200);
    await vi.waitFor(() => expect(fx.receivers.posts(fx.url).some((p) => JSON.parse(p.body).replay_job_status)).toBe(true), {
      timeout: 20_000,
      interval: 50,
    });
    const status = fx.receivers.posts(fx.url).find((p) => JSON.parse(p.body).replay_job_status)!;
    expect(JSON.parse(status.body).replay_job_status.job_state).toBe('Complete');
    await vi.waitFor(
      async () => expect((await platform('GET', '/internal/metrics/work')).body.data.deliveries).toBe(originals.length + 1),
      { timeout: 10_000, interval: 50 },
    );
    const counts = (await platform('GET', '/internal/metrics/work')).body.data as Record<string, number>;
    // A live delivery reads about 21 rows; asking "is the job done?" by joining every copy of the job
    // with the outbox read up to 2 rows per copy of the job each time a copy finished (hundreds per copy here).
    expect(counts.object_rows_read / counts.deliveries).toBeLessThan(60);
  });
});

describe('replay beside live traffic', () => {
  it('hands out live deliveries before replay copies released earlier, so a replay never delays live events', async () => {
    for (const user of ['1', '2', '3', '4']) await subscribe(fx.app, fx.hook.id, user);
    const now = Date.now();
    const copies = [];
    for (const [i, user] of ['1', '2', '3'].entries()) {
      copies.push(await stageRelease(fx.app.id, { webhookId: fx.hook.id, userId: user, replayJobId: '66', releasedAt: now - 1000 + i }));
    }
    const live = await stageRelease(fx.app.id, { webhookId: fx.hook.id, userId: '4', releasedAt: now });
    // A consumer asks for two more of the app's deliveries (as a claim or report does to fill its share).
    const { handOuts } = await appObject(env, fx.app.id).claim(fx.app.id, [], 2, 'fast');
    expect(handOuts.map((h) => h.deliveryId)).toEqual([live.deliveryId, copies[0].deliveryId]);
  });

  it('chains the live lane a report advanced, then other live work, before the next replay copy', async () => {
    for (const user of ['1', '2', '3']) await subscribe(fx.app, fx.hook.id, user);
    const stage = (userId: string, extra: { replayJobId?: string; waiting?: boolean } = {}) =>
      stageRelease(fx.app.id, { webhookId: fx.hook.id, userId, ...extra });
    const object = appObject(env, fx.app.id);
    // A run holds a replay copy for user 2 and a live event for user 1; each has another behind it.
    const copy = await stage('2', { replayJobId: '67' });
    const nextCopy = await stage('2', { replayJobId: '67', waiting: true });
    const live = await stage('1');
    const nextLive = await stage('1', { waiting: true });
    const handOuts = (await object.claim(fx.app.id, [copy, live], 2, 'fast')).handOuts;
    expect(handOuts.map((h) => h.deliveryId)).toEqual([copy.deliveryId, live.deliveryId]);
    // Meanwhile another live event for user 3 was released to the queue.
    const otherLive = await stage('3');

    // Both were delivered; the report (copy first) has room to bring back two more.
    const delivered = handOuts.map((h) => ({
      seq: h.seq,
      deliveryId: h.deliveryId,
      attempt: h.attempt,
      handOutId: h.handOutId,
      startedAt: Date.now(),
      result: { status: 200, latencyMs: 5, retryAfter: null },
    }));
    const { next } = await object.report(fx.app.id, delivered, { chain: true, capacity: 2, pull: 'fast' });

    // The live events go first; the replay's next copy waits for room (its release goes to the queue).
    expect(next.map((h) => h.deliveryId)).toEqual([nextLive.deliveryId, otherLive.deliveryId]);
    const copyRow = await withStore(fx.app.id, (store) => store.outbox.outboxRow(nextCopy.seq));
    expect(copyRow?.state).toBe('released');
  });
});

describe('replay room', () => {
  it('looks again shortly at a copy a report held back for room, not at the next unrelated wake-up', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    const wakes = await withStore(fx.app.id, async (store) => {
      const now = Date.now();
      const message = (deliveryId: string, userId: string, kind: 'event' | 'replay', lane?: string) => ({
        deliveryId,
        kind,
        eventId: `e-${deliveryId}`,
        eventType: 'tweet_create',
        requiredScope: 'tweet.read',
        webhookId: fx.hook.id,
        userId,
        payload: JSON.stringify({ for_user_id: userId }),
        createdAt: now,
        lane,
      });
      // The app's in-flight room is taken by releases on their way to a consumer.
      for (let i = 0; i < REPLAY_MAX_IN_FLIGHT; i++)
        store.outbox.markReleased(store.outbox.append(message(`msg_busy_${i}`, `9${i}`, 'event')), now);
      // A report has just finished the copy before this one: its lane's next copy is now the head.
      const lane = replayLane(fx.hook.id, '1', '55');
      store.outbox.append({ ...message('msg_copy#55', '1', 'replay', lane), replayJobId: '55', notBefore: now });
      const { delivery, wakeBy } = deliveryAt(store, now);
      const out: Release[] = [];
      delivery.lanes.releaseLane(lane, now, out);
      await delivery.send(out);
      return { released: out.length, wakes: wakeBy.mock.calls.map(([at]) => at - now) };
    });
    // Held back (no room), and the object will look again within the recheck, not in 40 s or 120 s.
    expect(wakes.released).toBe(0);
    expect(wakes.wakes).toEqual([REPLAY_RECHECK_MS]);
  });
});

describe('replay validation', () => {
  const now = Date.now();
  it.each([
    ['from_date=2026&to_date=202611230000', 'from_date'],
    [`from_date=${replayDate(now - HOUR)}`, 'to_date'],
    [`from_date=${replayDate(now - HOUR)}&to_date=${replayDate(now - 2 * HOUR)}`, 'from_date'],
    [`from_date=${replayDate(now - HOUR)}&to_date=${replayDate(now + 2 * HOUR)}`, 'to_date'],
    [`from_date=${replayDate(now - 6 * 24 * HOUR)}&to_date=${replayDate(now - HOUR)}`, 'from_date'],
    [`from_date=202613011200&to_date=${replayDate(now - HOUR)}`, 'from_date'],
  ])('rejects %s naming %s', async (qs, field) => {
    const res = await call('POST', `/2/account_activity/replay/webhooks/${fx.hook.id}/subscriptions/all?${qs}`, { token: fx.app.bearer });
    const problem = expectProblem(res, 400, 'QueryParamInvalid');
    expect(problem.errors.map((e) => e.parameter)).toContain(field);
  });

  it("refuses another app's webhook with 404, and a bad body with 400", async () => {
    const other = await activeApp();
    expectProblem(await call('POST', replayPath(fx.hook.id, now - 2 * HOUR, now - HOUR), { token: other.bearer }), 404, 'WebhookIdInvalid');
    expectProblem(await call('POST', '/2/webhooks/replay', { token: fx.app.bearer, body: { webhook_id: fx.hook.id } }), 400);
  });
});
