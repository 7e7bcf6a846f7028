import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { AUDIENCE_RECHECK_AFTER_MS, fillAudienceIndex, pruneAudienceIndex } from '../src/delivery/audience-index-upkeep';
import { fanOut } from '../src/delivery/fan-out';
import { activityKeysObject, audienceIndexComplete, audienceIndexObject } from '../src/delivery/fan-out-index';
import type { TimedActivity } from '../src/domain/activities';
import { type AudienceEntry, indexShardOf } from '../src/domain/fan-out-index';
import { ApiError } from '../src/errors';
import { testUser as u, uniqueId } from './support/activities';
import { activeApp, grantUser, registerWebhook, subscribe } from './support/apps';
import { appWithWebhook } from './support/fixtures';
import { call, expectProblem } from './support/http';
import { receiverUrl, type SeenRequest } from './support/receivers';
import { createXaa, xaaSubscribe } from './support/xaa';

// The HTTP routes run with the test config (FAN_OUT_INDEX=d1, 8 index shards) and feed the audience
// index whatever the mode; ingest is called here with the objects index switched on.
const SHARDS = 8;
const objectsEnv = { ...env, FAN_OUT_INDEX: 'objects' } as Env;

const tweetBy = (author: string, id = uniqueId('fx')): TimedActivity =>
  ({ id, type: 'tweet_create', tweet: { id: '10', text: id, author: u(author) }, created_at: Date.now() }) as TimedActivity;
const ingestWithObjects = (...list: TimedActivity[]) => fanOut(objectsEnv, list, Date.now(), 'test');
const entriesOf = (userId: string) => audienceIndexObject(env, indexShardOf(userId, SHARDS)).lookUp([userId]);
/** Takes entries out of the index as if they had never been added (an index older than its feed). */
const forget = (entries: AudienceEntry[]) =>
  Promise.all(
    entries.map((e) =>
      audienceIndexObject(env, indexShardOf(e.userId, SHARDS)).settle({ live: [], gone: [e] }, Date.now() + 1, Date.now()),
    ),
  );
const postsTo = (fixture: Awaited<ReturnType<typeof appWithWebhook>>) => fixture.receivers.posts(fixture.url);
const jsonOf = (p: SeenRequest) => JSON.parse(p.body);
const textsOf = (posts: SeenRequest[]) => posts.map((p) => jsonOf(p).tweet_create_events[0].text);

describe('the audience index (FAN_OUT_INDEX=objects)', () => {
  it('ingest reads D1 until the fill completes, then the index alone', async () => {
    const a = await appWithWebhook({ subscribers: ['9001'] });
    // An index that predates its feed: the subscription is in D1 only.
    await forget(await entriesOf('9001'));
    expect(await entriesOf('9001')).toEqual([]);
    expect(await audienceIndexComplete(objectsEnv, SHARDS)).toBe(false);
    const first = tweetBy('9001');
    await ingestWithObjects(first);
    await vi.waitFor(() => expect(textsOf(postsTo(a))).toEqual([first.id]), { timeout: 5000 });

    // The cron's fill adds D1's live subscriptions and marks the index complete for this shard count.
    expect(await fillAudienceIndex(env, SHARDS, Date.now())).toMatchObject({ complete: true });
    expect(await entriesOf('9001')).toEqual([{ userId: '9001', appId: a.app.id, shards: 1 }]);
    expect(await audienceIndexComplete(objectsEnv, SHARDS)).toBe(true);
    const second = tweetBy('9001');
    await ingestWithObjects(second);
    await vi.waitFor(() => expect(textsOf(postsTo(a))).toEqual([first.id, second.id]), { timeout: 5000 });

    // From now on only the index is read: an entry taken out of it is not delivered to, which is why
    // every subscription is added to the index before D1 records it.
    await forget(await entriesOf('9001'));
    await ingestWithObjects(tweetBy('9001'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(postsTo(a)).toHaveLength(2);
    // Another shard count is another index: not complete until filled for it.
    expect(await audienceIndexComplete(objectsEnv, SHARDS + 1)).toBe(false);
  });

  it('every new subscription, of either API, is in the index; an app nobody subscribed is not', async () => {
    const a = await appWithWebhook({ subscribers: ['9002'] });
    const other = await activeApp();
    expect((await entriesOf('9002')).map((e) => e.appId)).toEqual([a.app.id]);
    await xaaSubscribe(other.bearer, 'post.create', '9003');
    expect((await entriesOf('9003')).map((e) => e.appId)).toEqual([other.id]);
    expect(await entriesOf('9004')).toEqual([]);
  });

  it('delivers exactly what D1 delivers: to subscribers, in order, and to no one else', async () => {
    await fillAudienceIndex(env, SHARDS, Date.now());
    const a = await appWithWebhook({ subscribers: ['9005', '9006'] });
    // B shares A's fake receivers (one fetch spy serves every URL).
    const bApp = await activeApp();
    const bUrl = receiverUrl();
    a.receivers.set(bUrl, bApp.consumerSecret);
    await subscribe(bApp, (await registerWebhook(bApp, bUrl)).id, '9006');
    const bPosts = () => a.receivers.posts(bUrl);
    const list = [tweetBy('9005'), tweetBy('9006'), tweetBy('9007'), tweetBy('9006')];
    await ingestWithObjects(...list);
    await vi.waitFor(() => expect(postsTo(a)).toHaveLength(3), { timeout: 5000 });
    await vi.waitFor(() => expect(bPosts()).toHaveLength(2), { timeout: 5000 });
    expect(textsOf(postsTo(a)).sort()).toEqual([list[0].id, list[1].id, list[3].id].sort());
    expect(textsOf(bPosts())).toEqual([list[1].id, list[3].id]);
    // Each delivery is for one of the app's own subscribers.
    for (const p of bPosts()) expect(jsonOf(p).for_user_id).toBe('9006');
  });

  it('an activity id posted twice, or twice at once, gets one event id and is delivered once', async () => {
    await fillAudienceIndex(env, SHARDS, Date.now());
    const a = await appWithWebhook({ subscribers: ['9008'] });
    const twice = tweetBy('9008');
    const [one, two] = await Promise.all([ingestWithObjects(twice), ingestWithObjects(twice)]);
    expect(one.eventIds).toEqual(two.eventIds);
    const again = await ingestWithObjects(twice);
    expect(again).toEqual({ eventIds: one.eventIds, duplicates: 1 });
    await vi.waitFor(() => expect(postsTo(a)).toHaveLength(1), { timeout: 5000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(postsTo(a)).toHaveLength(1);
  });

  it('an index object that does not answer fails a subscribe of either API with 503, and nothing is recorded', async () => {
    const { app, hook } = await appWithWebhook();
    const unreachable = env.AUDIENCE_INDEX.idFromName(`audience:${indexShardOf('9009', SHARDS)}`);
    const get = env.AUDIENCE_INDEX.get.bind(env.AUDIENCE_INDEX);
    const failing = { add: () => Promise.reject(new Error('object unavailable')) } as unknown as ReturnType<typeof get>;
    const spy = vi.spyOn(env.AUDIENCE_INDEX, 'get').mockImplementation((id) => (id.equals(unreachable) ? failing : get(id)));
    try {
      const token = await grantUser(app.id, '9009');
      const res = await call('POST', `/2/account_activity/webhooks/${hook.id}/subscriptions/all`, { token, body: {} });
      expect(expectProblem(res, 503).detail).toContain('fan-out index');
      const { n } = (await env.DB.prepare('SELECT count(*) AS n FROM subscriptions WHERE app_id = ?').bind(app.id).first<{ n: number }>())!;
      expect(n).toBe(0);
      // The X Activity API's subscribe takes the same first step.
      const xaa = await createXaa(app.bearer, { event_type: 'post.create', filter: { user_id: '9009' } });
      expect(expectProblem(xaa, 503).detail).toContain('fan-out index');
      const { x } = (await env.DB.prepare('SELECT count(*) AS x FROM xaa_subscriptions WHERE app_id = ?')
        .bind(app.id)
        .first<{ x: number }>())!;
      expect(x).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(await entriesOf('9009')).toEqual([]);
  }, 15_000);

  // Either call of the round failing leaves the fan-out unmarked, so a repost finishes it, once.
  it.each([
    ['an activity-id object', 'ACTIVITY_KEYS', 'record', '9010'],
    ['a look-up object', 'AUDIENCE_INDEX', 'lookUp', '9011'],
  ] as const)('%s that does not answer fails ingest with 503; posting again delivers once', async (_, binding, method, user) => {
    await fillAudienceIndex(env, SHARDS, Date.now());
    const a = await appWithWebhook({ subscribers: [user] });
    const activity = tweetBy(user);
    const namespace = env[binding] as unknown as DurableObjectNamespace;
    const failing = { [method]: () => Promise.reject(new Error('object unavailable')) };
    const spy = vi.spyOn(namespace, 'get').mockImplementation(() => failing as unknown as ReturnType<typeof namespace.get>);
    const failed = await ingestWithObjects(activity).catch((err) => err);
    spy.mockRestore();
    expect(failed).toBeInstanceOf(ApiError);
    expect((failed as ApiError).message).toContain('post the same activities again');
    await new Promise((r) => setTimeout(r, 500));
    expect(postsTo(a)).toHaveLength(0);
    await ingestWithObjects(activity);
    await ingestWithObjects(activity);
    await vi.waitFor(() => expect(postsTo(a)).toHaveLength(1), { timeout: 5000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(postsTo(a)).toHaveLength(1);
  });

  it('a fan-out mark that fails still answers: the event was handed over, and a repost is not delivered twice', async () => {
    await fillAudienceIndex(env, SHARDS, Date.now());
    const a = await appWithWebhook({ subscribers: ['9012'] });
    const activity = tweetBy('9012');
    const get = env.ACTIVITY_KEYS.get.bind(env.ACTIVITY_KEYS);
    const spy = vi.spyOn(env.ACTIVITY_KEYS, 'get').mockImplementation((id) => {
      const real = get(id);
      return {
        record: (...args: Parameters<typeof real.record>) => real.record(...args),
        markFannedOut: () => Promise.reject(new Error('object unavailable')),
      } as unknown as ReturnType<typeof get>;
    });
    const first = await ingestWithObjects(activity);
    spy.mockRestore();
    expect(first.duplicates).toBe(0);
    // Not marked: the repost fans out again, and the app's object ignores an event id it already has.
    expect(await ingestWithObjects(activity)).toEqual({ eventIds: first.eventIds, duplicates: 0 });
    await vi.waitFor(() => expect(postsTo(a)).toHaveLength(1), { timeout: 5000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(postsTo(a)).toHaveLength(1);
  });
});

describe('the index upkeep (the cron)', () => {
  it('fills in pages across runs, from where the last run stopped', async () => {
    const { app, hook } = await appWithWebhook();
    // 2,300 live subscriptions recorded before the index existed (more than one run fills).
    const now = Date.now();
    const users = Array.from({ length: 2_300 }, (_, i) => `7${String(i).padStart(5, '0')}`);
    const rows = users.map((user, i) =>
      env.DB.prepare('INSERT INTO subscriptions (id, app_id, webhook_id, user_id, created_at) VALUES (?, ?, ?, ?, ?)').bind(
        `fill-sub-${i}`,
        app.id,
        hook.id,
        user,
        now,
      ),
    );
    await env.DB.batch(rows);
    await env.DB.prepare('DELETE FROM fan_out_index_state').run();
    const first = await fillAudienceIndex(env, SHARDS, now);
    expect(first.complete).toBe(false);
    expect(first.added).toBe(2_000);
    const second = await fillAudienceIndex(env, SHARDS, now);
    expect(second.complete).toBe(true);
    for (const user of [users[0], users[1_999], users[2_000], users[2_299]]) {
      expect((await entriesOf(user)).map((e) => e.appId)).toEqual([app.id]);
    }
    expect(await fillAudienceIndex(env, SHARDS, now)).toEqual({ added: 0, complete: true });
  });

  it('removes entries no live subscription stands behind, keeps live ones, and never one added again meanwhile', async () => {
    const a = await appWithWebhook({ subscribers: ['8001', '8002', '8003'] });
    const unsubscribe = await call('DELETE', `/2/account_activity/webhooks/${a.hook.id}/subscriptions/8001/all`, { token: a.app.bearer });
    expect(unsubscribe.status).toBe(200);
    // Too recent to be checked: nothing happens.
    expect(await pruneAudienceIndex(env, SHARDS, Date.now())).toMatchObject({ removed: 0 });
    expect(await entriesOf('8001')).toHaveLength(1);

    const later = Date.now() + AUDIENCE_RECHECK_AFTER_MS + 60_000;
    // px-3's subscription ends too, but its entry is added again while the check runs (a new subscription).
    await call('DELETE', `/2/account_activity/webhooks/${a.hook.id}/subscriptions/8003/all`, { token: a.app.bearer });
    const shard3 = audienceIndexObject(env, indexShardOf('8003', SHARDS));
    const before = later - AUDIENCE_RECHECK_AFTER_MS;
    const [candidate] = (await shard3.untouchedSince(before, 5_000)).filter((e) => e.userId === '8003');
    await shard3.add([candidate], later);
    expect(await shard3.settle({ live: [], gone: [candidate] }, before, later)).toBe(0);
    expect(await entriesOf('8003')).toHaveLength(1);

    // Each run checks at most 200 entries per shard, oldest first (the fill test left 2,300 live ones).
    let removed = 0;
    for (let run = 0; run < 20; run++) {
      const result = await pruneAudienceIndex(env, SHARDS, later);
      removed += result.removed;
      if (result.checked === 0) break;
    }
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(await entriesOf('8001')).toEqual([]);
    expect((await entriesOf('8002')).map((e) => e.appId)).toEqual([a.app.id]);
    // The live entry was checked and touched: the next run does not check it again.
    const shard2 = audienceIndexObject(env, indexShardOf('8002', SHARDS));
    expect((await shard2.untouchedSince(before + 1, 5_000)).filter((e) => e.userId === '8002')).toEqual([]);
  });

  it('the activity-id objects forget fanned-out ids past the dedupe window, never one still fanning out', async () => {
    // A shard number the tests above (8 shards) never used, so it starts empty.
    const keys = activityKeysObject(env, 63);
    const old = Date.now() - 8 * 24 * 3_600_000;
    const [, oldPending] = await keys.record(63, ['old-done', 'old-pending'], old);
    await keys.markFannedOut(['old-done'], old);
    await keys.record(63, ['new-done'], Date.now());
    await keys.markFannedOut(['new-done'], Date.now());
    expect(await keys.size()).toBe(3);
    expect(await runDurableObjectAlarm(keys)).toBe(true);
    expect(await keys.size()).toBe(2);
    const [pending] = await keys.record(63, ['old-pending'], Date.now());
    expect(pending).toEqual({ id: 'old-pending', eventId: oldPending.eventId, fannedOutAt: null });
  });

  it('an activity-id object that forgot everything sets its purge alarm again on the next record', async () => {
    const keys = activityKeysObject(env, 62);
    const old = Date.now() - 8 * 24 * 3_600_000;
    await keys.record(62, ['gone-soon'], old);
    await keys.markFannedOut(['gone-soon'], old);
    expect(await runDurableObjectAlarm(keys)).toBe(true);
    expect(await keys.size()).toBe(0);
    const alarm = () => runInDurableObject(keys, (_, state) => state.storage.getAlarm());
    expect(await alarm()).toBeNull();
    await keys.record(62, ['next'], Date.now());
    expect(await alarm()).not.toBeNull();
  });

  it('an activity-id object refuses a call meant for another shard, and records nothing', async () => {
    const keys = activityKeysObject(env, 60);
    await keys.record(60, ['shard-60'], Date.now());
    // Awaited in try/catch: an RPC call's rejection handed to expect().rejects is also reported unhandled.
    const refusal = async (shard: number, id: string) => {
      try {
        await keys.record(shard, [id], Date.now());
        return 'recorded';
      } catch (err) {
        return String(err);
      }
    };
    expect(await refusal(61, 'misrouted')).toContain('this object is shard 60; refused a call meant for shard 61');
    expect(await refusal(64, 'out-of-range')).toContain('out of range');
    expect(await keys.size()).toBe(1);
  });

  it('event ids minted by two activity-id objects in the same millisecond differ, each naming its shard', async () => {
    const now = Date.now();
    const [a] = await activityKeysObject(env, 61).record(61, ['same-ms-a'], now);
    const [b] = await activityKeysObject(env, 62).record(62, ['same-ms-b'], now);
    expect(a.eventId).not.toBe(b.eventId);
    const nodeOf = (id: string) => Number((BigInt(id) >> 12n) & 0x3ffn);
    expect([nodeOf(a.eventId), nodeOf(b.eventId)]).toEqual([61, 62]);
    // Many ids from one object in one millisecond stay distinct.
    const many = await activityKeysObject(env, 61).record(
      61,
      Array.from({ length: 500 }, (_, i) => `burst-${i}`),
      now,
    );
    expect(new Set(many.map((r) => r.eventId)).size).toBe(500);
  });
});
