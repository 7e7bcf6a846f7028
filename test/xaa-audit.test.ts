import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ingest, testUser as u } from './support/activities';
import { activeApp, grantUser, registerWebhook, type TestApp } from './support/apps';
import { platform } from './support/http';
import { installReceivers, type Receivers, receiverUrl } from './support/receivers';
import { type XaaSubscription, xaaSubscribe } from './support/xaa';

/**
 * The audit and the access report over X Activity API deliveries: one run with a public subscription
 * (a user who never authorized the app), a private one, webhook and stream deliveries, and a revoke.
 */
let receivers: Receivers;
let app: TestApp;
let publicSub: XaaSubscription;
let privateSub: XaaSubscription;
const URL = receiverUrl('/xaa-audit');

beforeAll(async () => {
  receivers = installReceivers();
  app = await activeApp({ name: 'XAA audit' });
  receivers.set(URL, app.consumerSecret);
  const hook = await registerWebhook(app, URL);
  await grantUser(app.id, '2', ['tweet.read', 'dm.read']);
  publicSub = await xaaSubscribe(app.bearer, 'post.create', '1', { webhook_id: hook.id });
  privateSub = await xaaSubscribe(app.bearer, 'dm.received', '2', { webhook_id: hook.id });
  const res = await exports.default.fetch('http://127.0.0.1:8787/2/activity/stream', {
    headers: { authorization: `Bearer ${app.bearer}` },
  });
  const reader = res.body!.getReader();
  let text = '';
  const decoder = new TextDecoder();
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      text += decoder.decode(value);
    }
  })();
  await ingest(
    { id: 'xa-1', type: 'tweet_create', tweet: { id: '1', text: 'public', author: u('1') } },
    { id: 'xa-2', type: 'direct_message', message: { id: '2', sender: u('3'), recipient: u('2'), text: 'private' } },
  );
  await vi.waitFor(() => expect(receivers.posts(URL)).toHaveLength(2), { timeout: 10_000 });
  await vi.waitFor(() => expect(text.split('\r\n').filter((l) => l.startsWith('{')).length).toBe(2), { timeout: 10_000 });
  await platform('DELETE', `/internal/authorizations/${app.id}/2`);
  await vi.waitFor(() => expect(receivers.posts(URL).length).toBe(4), { timeout: 10_000 }); // user_event and oauth.revoke
  await reader.cancel();
  await reading.catch(() => {});
});

describe('the audit over XAA deliveries', () => {
  it('checks webhook and stream deliveries alike and finds them entitled', async () => {
    const res = await platform('GET', '/internal/audit/verify');
    expect(res.status).toBe(200);
    // 2 XAA webhook POSTs + 2 stream lines + user_event + oauth.revoke to the webhook + oauth.revoke on the stream.
    expect(res.body.data.checked).toBe(7);
    expect(res.body.data.violations).toEqual([]);
  });

  it('names a stream line and a webhook delivery that D1 history does not entitle', async () => {
    // D1 now says the public subscription began only after the events: its deliveries lose their cover.
    await env.DB.prepare('UPDATE xaa_subscriptions SET created_at = ? WHERE id = ?').bind(Date.now(), publicSub.subscription_id).run();
    try {
      const res = await platform('GET', '/internal/audit/verify');
      const mine = res.body.data.violations.filter((v: { subscription_id?: string }) => v.subscription_id === publicSub.subscription_id);
      expect(mine.map((v: { webhook_id: string | null }) => (v.webhook_id === null ? 'stream' : 'webhook')).sort()).toEqual([
        'stream',
        'webhook',
      ]);
      expect(mine[0].reason).toMatch(/XAA subscription .* did not cover the event/);
    } finally {
      await env.DB.prepare('UPDATE xaa_subscriptions SET created_at = ? WHERE id = ?')
        .bind(Date.parse(publicSub.created_at), publicSub.subscription_id)
        .run();
    }
  });
});

describe("a user's access report", () => {
  it('lists an app that only ever held a public subscription on the user, with what it received', async () => {
    const res = await platform('GET', '/internal/users/1/access');
    const [entry] = res.body.data.apps;
    expect(entry).toMatchObject({ app_id: app.id, authorizations: [], subscriptions: [] });
    expect(entry.xaa_subscriptions).toEqual([
      expect.objectContaining({ subscription_id: publicSub.subscription_id, event_type: 'post.create', ended_at: null }),
    ]);
    expect(entry.received).toEqual([expect.objectContaining({ event_type: 'post.create', delivered: 1, streamed: 1 })]);
  });

  it("shows a private subscription ended by the user's revoke", async () => {
    const res = await platform('GET', '/internal/users/2/access');
    const [entry] = res.body.data.apps;
    expect(entry.xaa_subscriptions).toEqual([
      expect.objectContaining({ subscription_id: privateSub.subscription_id, end_reason: 'authorization_revoked' }),
    ]);
    expect(entry.received).toEqual([expect.objectContaining({ event_type: 'dm.received', delivered: 1, streamed: 1 })]);
  });
});
