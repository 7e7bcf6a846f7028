import { describe, expect, it, vi } from 'vitest';
import { ingest, testUser as u, uniqueId } from './support/activities';
import { objectRows } from './support/app-object';
import { activeApp, grantUser, registerWebhook, subscribe } from './support/apps';
import { appWithWebhookEachTest } from './support/fixtures';
import { call, platform } from './support/http';
import { receiverUrl } from './support/receivers';
import { signerOf } from './support/signatures';
import { sleep } from './support/time';
import { envelopeOf, xaaSubscribe } from './support/xaa';

const fx = appWithWebhookEachTest();
const wait = (fn: () => void, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 50 });
const posts = () => fx.receivers.posts(fx.url);
const envelopes = () =>
  posts()
    .map((p) => JSON.parse(p.body))
    .filter((b) => b.data);
const tweet = (author: ReturnType<typeof u>, text: string, extra: Record<string, unknown> = {}) => ({
  id: uniqueId('xt'),
  type: 'tweet_create',
  tweet: { id: String(1_000_000 + Math.floor(Math.random() * 1e9)), text, author, ...extra },
});

describe('XAA deliveries to a webhook', () => {
  it('a public post.create of a user who never authorized the app: signed like AAA, in the XAA envelope', async () => {
    const sub = await xaaSubscribe(fx.app.bearer, 'post.create', '2244994945', { webhook_id: fx.hook.id, tag: 'devs' });
    const activity = tweet(u('2244994945', { name: 'X Developers', screen_name: 'XDevelopers' }), 'hello XAA', {
      in_reply_to_user_id: '783214',
      in_reply_to_tweet_id: '1050118621198921728',
    });
    const [eventId] = (await ingest(activity)).event_ids;
    await wait(() => expect(posts()).toHaveLength(1));
    const [post] = posts();
    expect(await signerOf(post, [{ name: 'me', consumerSecret: fx.app.consumerSecret, signingSecret: fx.hook.signing_secret }])).toBe('me');
    expect(post.headers.get('content-type')).toBe('application/json');
    expect(post.headers.get('webhook-id')).toBe(`msg_${eventId}_${fx.hook.id}_2244994945_${sub.subscription_id}`);
    const { data } = envelopeOf(post.body);
    expect(Object.keys(data)).toEqual(['event_uuid', 'filter', 'event_type', 'tag', 'payload', 'includes']);
    expect(data.event_uuid).toMatch(/^[0-9]{1,19}$/);
    expect(data).toMatchObject({ filter: { user_id: '2244994945' }, event_type: 'post.create', tag: 'devs' });
    expect(data.payload).toMatchObject({
      id: activity.tweet.id,
      text: 'hello XAA',
      author_id: '2244994945',
      in_reply_to_user_id: '783214',
      referenced_tweets: [{ type: 'replied_to', id: '1050118621198921728' }],
    });
    expect(data.includes.users).toEqual([{ id: '2244994945', name: 'X Developers', username: 'XDevelopers', protected: false }]);
    // The ledger and the developer's delivery log name the subscription.
    const log = await call('GET', `/2/account_activity/webhooks/${fx.hook.id}/deliveries`, { token: fx.app.bearer });
    expect(log.body.data[0]).toMatchObject({ event_type: 'post.create', subscription_id: sub.subscription_id, outcome: 'delivered' });
  });

  it("a protected author's posts never go out through XAA, though AAA still tells the author", async () => {
    await subscribe(fx.app, fx.hook.id, '5', ['tweet.read']);
    await xaaSubscribe(fx.app.bearer, 'post.create', '5', { webhook_id: fx.hook.id });
    await xaaSubscribe(fx.app.bearer, 'post.mention.create', '5', { webhook_id: fx.hook.id });
    await ingest(tweet(u('5', { protected: true }), 'locked'), {
      id: uniqueId('del'),
      type: 'tweet_delete',
      tweet_id: '77',
      author_id: '5',
      author_protected: true,
    });
    await wait(() => expect(posts()).toHaveLength(2));
    await sleep(1500);
    expect(envelopes()).toEqual([]);
  });

  it('like.create honours direction; a subscription without one gets both sides', async () => {
    for (const user of ['1', '2']) await grantUser(fx.app.id, user, ['like.read']);
    const outbound = await xaaSubscribe(fx.app.bearer, 'like.create', '1', { webhook_id: fx.hook.id, direction: 'outbound' });
    const inbound = await xaaSubscribe(fx.app.bearer, 'like.create', '1', { webhook_id: fx.hook.id, direction: 'inbound' });
    const both = await xaaSubscribe(fx.app.bearer, 'like.create', '2', { webhook_id: fx.hook.id });
    // 1 likes 2's post, then 2 likes 1's post.
    await ingest(
      { id: uniqueId('fav'), type: 'favorite', user: u('1'), tweet: { id: '500', text: 'two', author: u('2') } },
      { id: uniqueId('fav'), type: 'favorite', user: u('2'), tweet: { id: '501', text: 'one', author: u('1') } },
    );
    await wait(() => expect(envelopes()).toHaveLength(4));
    const got = envelopes().map((e) => `${e.data.filter.user_id}:${e.data.filter.direction ?? '-'}:${e.data.payload.liked_tweet_id}`);
    expect(got.sort()).toEqual(['1:inbound:501', '1:outbound:500', '2:-:500', '2:-:501']);
    const like = envelopes().find((e) => e.data.payload.liked_tweet_id === '500')!.data.payload;
    expect(like).toMatchObject({ liked_tweet_id: '500', liked_tweet_author_id: '2' });
    expect(typeof like.timestamp_ms).toBe('number');
    expect([outbound, inbound, both].every((s) => s.webhook_id === fx.hook.id)).toBe(true);
  });

  it('a keyword matches the text in any case; events without text never match one', async () => {
    await xaaSubscribe(fx.app.bearer, 'post.create', '3', { webhook_id: fx.hook.id, keyword: 'Edge' });
    await ingest(tweet(u('3'), 'nothing here'), tweet(u('3'), 'on the EDGE of it'));
    await wait(() => expect(envelopes()).toHaveLength(1));
    await sleep(1000);
    expect(envelopes().map((e) => e.data.payload.text)).toEqual(['on the EDGE of it']);
  });

  it('AAA and XAA on one webhook for one user: each event once per subscription, in its shape, in lane order', async () => {
    await subscribe(fx.app, fx.hook.id, '4', ['tweet.read', 'follows.read']);
    await xaaSubscribe(fx.app.bearer, 'post.create', '4', { webhook_id: fx.hook.id });
    await xaaSubscribe(fx.app.bearer, 'follow.follow', '4', { webhook_id: fx.hook.id });
    await ingest(tweet(u('4'), 'first'), { id: uniqueId('fol'), type: 'follow', source: u('4'), target: u('6') }, tweet(u('4'), 'third'));
    await wait(() => expect(posts()).toHaveLength(6));
    const shapes = posts().map((p) => {
      const body = JSON.parse(p.body);
      if (body.data) return `xaa:${body.data.event_type}:${body.data.payload.text ?? body.data.payload.target.id}`;
      return `aaa:${Object.keys(body).find((k) => k.endsWith('_events'))}:${body.tweet_create_events?.[0].text ?? body.follow_events[0].target.id_str}`;
    });
    expect(shapes).toEqual([
      'aaa:tweet_create_events:first',
      'xaa:post.create:first',
      'aaa:follow_events:6',
      'xaa:follow.follow:6',
      'aaa:tweet_create_events:third',
      'xaa:post.create:third',
    ]);
  });

  it('revoke: oauth.revoke beside user_event, private subscriptions end, public ones stay', async () => {
    await grantUser(fx.app.id, '6', ['tweet.read', 'follows.read']);
    const pub = await xaaSubscribe(fx.app.bearer, 'post.create', '6', { webhook_id: fx.hook.id });
    const priv = await xaaSubscribe(fx.app.bearer, 'follow.follow', '6', { webhook_id: fx.hook.id });
    expect((await platform('DELETE', `/internal/authorizations/${fx.app.id}/6`)).status).toBe(200);
    await wait(() => expect(posts()).toHaveLength(2));
    const revoke = envelopes().find((e) => e.data.event_type === 'oauth.revoke')!;
    expect(revoke.data).toMatchObject({ filter: {}, payload: { user_id: '6', app_id: fx.app.id } });
    expect(Number.isNaN(Date.parse(revoke.data.payload.date_time))).toBe(false);
    expect(posts().some((p) => JSON.parse(p.body).user_event)).toBe(true);
    const live = (await call('GET', '/2/activity/subscriptions', { token: fx.app.bearer })).body.data.map(
      (s: { subscription_id: string }) => s.subscription_id,
    );
    expect(live).toEqual([pub.subscription_id]);
    expect(live).not.toContain(priv.subscription_id);
    await ingest({ id: uniqueId('fol'), type: 'follow', source: u('6'), target: u('7') }, tweet(u('6'), 'still public'));
    await wait(() => expect(envelopes()).toHaveLength(2));
    await sleep(1000);
    expect(envelopes().map((e) => e.data.event_type)).toEqual(['oauth.revoke', 'post.create']);
  });

  it('deleting a subscription withdraws what it had not delivered yet', async () => {
    const sub = await xaaSubscribe(fx.app.bearer, 'post.create', '8', { webhook_id: fx.hook.id });
    fx.receivers.onPost(fx.url, () => new Response(null, { status: 503 }));
    await ingest(tweet(u('8'), 'will be withdrawn'));
    await wait(() => expect(posts()).toHaveLength(1));
    expect((await call('DELETE', `/2/activity/subscriptions/${sub.subscription_id}`, { token: fx.app.bearer })).status).toBe(200);
    fx.receivers.onPost(fx.url, undefined);
    await sleep(2500);
    expect(posts()).toHaveLength(1);
    const rows = await objectRows<{ outcome: string; error: string | null }>(
      fx.app.id,
      `SELECT outcome, error FROM ledger WHERE kind = 'event' ORDER BY id`,
    );
    expect(rows.at(-1)).toEqual({ outcome: 'dropped', error: 'XAA subscription deleted' });
  });

  it('moving a subscription to another webhook: later events go there, nothing more to the old one', async () => {
    const url2 = receiverUrl();
    fx.receivers.set(url2, fx.app.consumerSecret);
    const hook2 = await registerWebhook(fx.app, url2);
    const sub = await xaaSubscribe(fx.app.bearer, 'post.create', '9', { webhook_id: fx.hook.id });
    await ingest(tweet(u('9'), 'to the first'));
    await wait(() => expect(posts()).toHaveLength(1));
    const moved = await call('PUT', `/2/activity/subscriptions/${sub.subscription_id}`, {
      token: fx.app.bearer,
      body: { webhook_id: hook2.id },
    });
    expect(moved.body.data.subscription.webhook_id).toBe(hook2.id);
    await ingest(tweet(u('9'), 'to the second'));
    await wait(() => expect(fx.receivers.posts(url2)).toHaveLength(1));
    await sleep(1000);
    expect(posts()).toHaveLength(1);
    expect(envelopeOf(fx.receivers.posts(url2)[0].body).data.payload.text).toBe('to the second');
  });

  it('two apps sharing one webhook URL each get only their own subscriptions, signed with their own secrets', async () => {
    const other = await activeApp();
    fx.receivers.set(fx.url, other.consumerSecret);
    const theirHook = await registerWebhook(other, fx.url);
    const mine = await xaaSubscribe(fx.app.bearer, 'post.create', '11', { webhook_id: fx.hook.id, tag: 'mine' });
    const theirs = await xaaSubscribe(other.bearer, 'post.create', '12', { webhook_id: theirHook.id, tag: 'theirs' });
    await ingest(tweet(u('11'), 'for me'), tweet(u('12'), 'for them'));
    await wait(() => expect(posts()).toHaveLength(2));
    const webhooks = [
      { name: 'mine', consumerSecret: fx.app.consumerSecret, signingSecret: fx.hook.signing_secret },
      { name: 'theirs', consumerSecret: other.consumerSecret, signingSecret: theirHook.signing_secret },
    ];
    for (const post of posts()) {
      const { data } = envelopeOf(post.body);
      expect(await signerOf(post, webhooks)).toBe(data.tag);
      expect(data.filter.user_id).toBe(data.tag === 'mine' ? '11' : '12');
    }
    expect([mine.tag, theirs.tag]).toEqual(['mine', 'theirs']);
  });
});
