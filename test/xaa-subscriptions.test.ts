import { describe, expect, it } from 'vitest';
import { activeApp, grantUser, registerWebhook } from './support/apps';
import { appWithWebhookEachTest } from './support/fixtures';
import { call, platform } from './support/http';
import { receiverUrl } from './support/receivers';
import { createXaa, expectXProblem, xaaSubscribe } from './support/xaa';

const fx = appWithWebhookEachTest();

describe('creating X Activity API subscriptions', () => {
  it('a public event for any user, with the webhook, tag and filter echoed in X shape', async () => {
    const res = await createXaa(fx.app.bearer, {
      event_type: 'post.create',
      filter: { user_id: '2244994945' },
      tag: 'posts of @XDevelopers',
      webhook_id: fx.hook.id,
    });
    expect(res.status).toBe(200);
    const sub = res.body.data.subscription;
    expect(sub).toMatchObject({
      event_type: 'post.create',
      filter: { user_id: '2244994945' },
      tag: 'posts of @XDevelopers',
      webhook_id: fx.hook.id,
    });
    expect(sub.subscription_id).toMatch(/^[0-9]{1,19}$/);
    expect(Date.parse(sub.created_at)).toBe(Date.parse(sub.updated_at));
    expect(res.body.meta.total_subscriptions).toBe(1);
  });

  it('without a webhook: the stream only', async () => {
    const sub = await xaaSubscribe(fx.app.bearer, 'profile.update.bio', '7');
    expect(sub.webhook_id).toBeUndefined();
  });

  it('a private event only for a user whose live authorization holds its scope', async () => {
    const refused = await createXaa(fx.app.bearer, { event_type: 'like.create', filter: { user_id: '8' } });
    const problem = expectXProblem(refused, 403, 'UserNotAuthorized');
    expect(problem.type).toBe('https://api.x.com/2/problems/not-authorized-for-resource');
    expect(problem.resource_type).toBe('user');
    expect(problem.parameter).toBe('filter.user_id');

    await grantUser(fx.app.id, '8', ['tweet.read']);
    expectXProblem(await createXaa(fx.app.bearer, { event_type: 'like.create', filter: { user_id: '8' } }), 403, 'UserNotAuthorized');
    await grantUser(fx.app.id, '8', ['tweet.read', 'like.read']);
    const ok = await createXaa(fx.app.bearer, { event_type: 'like.create', filter: { user_id: '8', direction: 'inbound' } });
    expect(ok.status).toBe(200);
  });

  it("a user token subscribes its own user's private events, and only its own user's mutes", async () => {
    const token = await grantUser(fx.app.id, '9', ['tweet.read', 'mute.read', 'dm.read']);
    await grantUser(fx.app.id, '10', ['tweet.read', 'mute.read', 'dm.read']);
    expect((await createXaa(token, { event_type: 'dm.received', filter: { user_id: '9' } })).status).toBe(200);
    expectXProblem(await createXaa(token, { event_type: 'dm.received', filter: { user_id: '10' } }), 403, 'UserNotAuthorized');
    expectXProblem(await createXaa(token, { event_type: 'mute.mute', filter: { user_id: '10' } }), 403, 'UserNotAuthorized');
    expect((await createXaa(token, { event_type: 'mute.mute', filter: { user_id: '9' } })).status).toBe(200);
    // With the app's bearer token, any user who authorized the scope.
    expect((await createXaa(fx.app.bearer, { event_type: 'mute.mute', filter: { user_id: '10' } })).status).toBe(200);
  });

  it.each([
    [{ filter: { user_id: '1' } }, 'event_type'],
    [{ event_type: 'post.nonsense', filter: { user_id: '1' } }, 'event_type'],
    [{ event_type: 'news.new', filter: { user_id: '1' } }, 'event_type'],
    [{ event_type: 'post.create' }, 'filter'],
    [{ event_type: 'post.create', filter: { user_id: 'abc' } }, 'filter.user_id'],
    [{ event_type: 'post.create', filter: { user_id: '1', colour: 'red' } }, 'filter.colour'],
    [{ event_type: 'post.create', filter: { user_id: '1' }, tag: '' }, 'tag'],
    [{ event_type: 'post.create', filter: { user_id: '1' }, tag: 'x'.repeat(201) }, 'tag'],
    [{ event_type: 'post.create', filter: { user_id: '1', keyword: 'k'.repeat(151) } }, 'filter.keyword'],
    [{ event_type: 'post.create', filter: { user_id: '1' }, webhook_id: 'w1' }, 'webhook_id'],
    [{ event_type: 'follow.follow', filter: { user_id: '1', direction: 'inbound' } }, 'filter.direction'],
    [{ event_type: 'profile.update.bio', filter: { user_id: '1', keyword: 'ai' } }, 'filter.keyword'],
  ])('%j is refused naming %s', async (body, parameter) => {
    const res = await createXaa(fx.app.bearer, body);
    const problem = expectXProblem(res, 400);
    expect(problem.type).toBe('https://api.x.com/2/problems/invalid-request');
    expect(problem.errors.map((e) => e.parameter)).toContain(parameter);
    expect((await call('GET', '/2/activity/subscriptions', { token: fx.app.bearer })).body.data).toEqual([]);
  });

  it('refuses a duplicate (same type, filter in any case, webhook), but not the same filter elsewhere', async () => {
    await xaaSubscribe(fx.app.bearer, 'post.create', '1', { keyword: 'Edge', webhook_id: fx.hook.id });
    const dup = await createXaa(fx.app.bearer, {
      event_type: 'post.create',
      filter: { user_id: '1', keyword: 'edge' },
      webhook_id: fx.hook.id,
    });
    expectXProblem(dup, 409, 'DuplicateSubscription');
    await xaaSubscribe(fx.app.bearer, 'post.create', '1', { keyword: 'edge' }); // stream only: another target
    await xaaSubscribe(fx.app.bearer, 'post.create', '1', { webhook_id: fx.hook.id }); // no keyword: another filter
  });

  it("refuses another app's webhook, and an invalid webhook", async () => {
    const other = await activeApp();
    fx.receivers.set(receiverUrl(), other.consumerSecret);
    const url = receiverUrl();
    fx.receivers.set(url, other.consumerSecret);
    const theirs = await registerWebhook(other, url);
    const res = await createXaa(fx.app.bearer, { event_type: 'post.create', filter: { user_id: '1' }, webhook_id: theirs.id });
    const problem = expectXProblem(res, 404, 'WebhookIdInvalid');
    expect(problem).toMatchObject({ type: 'https://api.x.com/2/problems/resource-not-found', resource_type: 'webhook' });

    fx.receivers.behave(fx.url, 'server-error');
    await call('PUT', `/2/webhooks/${fx.hook.id}`, { token: fx.app.bearer });
    expectXProblem(
      await createXaa(fx.app.bearer, { event_type: 'post.create', filter: { user_id: '1' }, webhook_id: fx.hook.id }),
      400,
      'CrcValidationFailed',
    );
  });

  it("stops at the app's tier limit (a setting; 3 for partner apps in the tests)", async () => {
    const app = await activeApp({ xaa_tier: 'partner' });
    for (const user of ['1', '2', '3']) await xaaSubscribe(app.bearer, 'post.create', user);
    expectXProblem(await createXaa(app.bearer, { event_type: 'post.create', filter: { user_id: '4' } }), 403, 'SubscriptionLimitExceeded');
    expect((await platform('GET', `/internal/apps/${app.id}`)).body.data.xaa_tier).toBe('partner');
  });
});

describe('listing, updating and deleting', () => {
  it('lists the live subscriptions oldest first, in pages whose tokens X clients accept', async () => {
    const made = [];
    for (const user of ['1', '2', '3', '4', '5']) made.push((await xaaSubscribe(fx.app.bearer, 'post.create', user)).subscription_id);
    const first = await call('GET', '/2/activity/subscriptions?max_results=2', { token: fx.app.bearer });
    expect(first.status).toBe(200);
    expect(first.body.data.map((s: { subscription_id: string }) => s.subscription_id)).toEqual(made.slice(0, 2));
    expect(first.body.meta).toMatchObject({ result_count: 2, total_subscriptions: 5 });
    expect(first.body.meta.next_token.length).toBeGreaterThanOrEqual(16);
    const ids: string[] = [];
    for (let token: string | undefined = first.body.meta.next_token; token; ) {
      const page = await call('GET', `/2/activity/subscriptions?max_results=2&pagination_token=${token}`, { token: fx.app.bearer });
      ids.push(...page.body.data.map((s: { subscription_id: string }) => s.subscription_id));
      token = page.body.meta.next_token;
    }
    expect(ids).toEqual(made.slice(2));
    expectXProblem(await call('GET', '/2/activity/subscriptions?pagination_token=12', { token: fx.app.bearer }), 400, 'QueryParamInvalid');
    expectXProblem(await call('GET', '/2/activity/subscriptions?max_results=1001', { token: fx.app.bearer }), 400, 'QueryParamInvalid');
  });

  it('updates only tag and webhook; a filter change is refused', async () => {
    const sub = await xaaSubscribe(fx.app.bearer, 'post.create', '1', { tag: 'old' });
    const res = await call('PUT', `/2/activity/subscriptions/${sub.subscription_id}`, {
      token: fx.app.bearer,
      body: { tag: 'new', webhook_id: fx.hook.id },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.subscription).toMatchObject({ tag: 'new', webhook_id: fx.hook.id, filter: { user_id: '1' } });
    expect(res.body.data.total_subscriptions).toBe(1);
    expect(Date.parse(res.body.data.subscription.updated_at)).toBeGreaterThanOrEqual(Date.parse(sub.updated_at));
    const bad = await call('PUT', `/2/activity/subscriptions/${sub.subscription_id}`, {
      token: fx.app.bearer,
      body: { filter: { user_id: '2' } },
    });
    expect(expectXProblem(bad, 400).errors[0].parameter).toBe('filter');
    expectXProblem(await call('PUT', `/2/activity/subscriptions/${sub.subscription_id}`, { token: fx.app.bearer, body: {} }), 400);
  });

  it("another app's subscription ids are 404, whatever the method", async () => {
    const sub = await xaaSubscribe(fx.app.bearer, 'post.create', '1');
    const other = await activeApp();
    const path = `/2/activity/subscriptions/${sub.subscription_id}`;
    for (const [method, body] of [
      ['PUT', { tag: 'mine' }],
      ['DELETE', undefined],
    ] as const) {
      const problem = expectXProblem(await call(method, path, { token: other.bearer, body }), 404, 'SubscriptionNotFound');
      expect(problem).toMatchObject({ type: 'https://api.x.com/2/problems/resource-not-found', resource_type: 'subscription' });
    }
    const many = await call('DELETE', `/2/activity/subscriptions?ids=${sub.subscription_id}`, { token: other.bearer });
    expect(many.body).toMatchObject({ data: [], errors: [{ subscription_id: sub.subscription_id, reason: 'SubscriptionNotFound' }] });
    expect((await call('GET', '/2/activity/subscriptions', { token: fx.app.bearer })).body.data).toHaveLength(1);
  });

  it('deletes one, and many with an answer per id', async () => {
    const a = await xaaSubscribe(fx.app.bearer, 'post.create', '1');
    const b = await xaaSubscribe(fx.app.bearer, 'post.delete', '1');
    const c = await xaaSubscribe(fx.app.bearer, 'post.create', '2');
    const one = await call('DELETE', `/2/activity/subscriptions/${a.subscription_id}`, { token: fx.app.bearer });
    expect(one.body).toEqual({ data: { deleted: true }, meta: { total_subscriptions: 2 } });
    expectXProblem(await call('DELETE', `/2/activity/subscriptions/${a.subscription_id}`, { token: fx.app.bearer }), 404);
    const many = await call('DELETE', `/2/activity/subscriptions?ids=${b.subscription_id},${a.subscription_id},${c.subscription_id}`, {
      token: fx.app.bearer,
    });
    expect(many.status).toBe(200);
    expect(many.body).toEqual({
      data: [
        { subscription_id: b.subscription_id, deleted: true },
        { subscription_id: c.subscription_id, deleted: true },
      ],
      errors: [
        {
          subscription_id: a.subscription_id,
          reason: 'SubscriptionNotFound',
          message: `no subscription ${a.subscription_id} for this app`,
        },
      ],
      meta: { total_subscriptions: 0 },
    });
    const bad = await call('DELETE', '/2/activity/subscriptions?ids=1,x', { token: fx.app.bearer });
    expect(expectXProblem(bad, 400, 'QueryParamInvalid').errors[0].parameter).toBe('ids[1]');
    expectXProblem(await call('DELETE', '/2/activity/subscriptions', { token: fx.app.bearer }), 400, 'QueryParamInvalid');
  });

  it('needs credentials, answered in X problem shape', async () => {
    const res = await call('GET', '/2/activity/subscriptions');
    expect(expectXProblem(res, 401).type).toBe('https://api.x.com/2/problems/not-authorized-for-resource');
  });
});
